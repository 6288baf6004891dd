"""Alembic's environment for the store: which database, which metadata, how to compare.

The database is, first found: a connection handed over by :func:`store.migrate.upgrade`
(``config.attributes["connection"]``), ``alembic -x url=…``, the config's ``sqlalchemy.url``,
``BORDERFLOW_DATABASE_URL``. The target metadata is every table model
(:func:`store.db.table_metadata`). SQLite runs in batch mode, so later ``ALTER``s work there.
"""

import os
from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.engine import Connection
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

from store.db import make_engine, table_metadata


def _url() -> str:
    config = context.config
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("BORDERFLOW_DATABASE_URL")
    )
    if not url:
        raise SystemExit("no database: set BORDERFLOW_DATABASE_URL or pass `alembic -x url=…`")
    return url


def _render_item(type_: str, obj: Any, _context: AutogenContext) -> str | Literal[False]:
    """Render sqlmodel's column types as the portable SQLAlchemy types they wrap."""
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=table_metadata(),
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    if context.config.config_file_name is not None:  # the `alembic` command: its log lines
        fileConfig(context.config.config_file_name, disable_existing_loggers=False)
    if context.is_offline_mode():
        raise SystemExit("offline (--sql) migrations are not supported: run against a database")
    given = context.config.attributes.get("connection")
    if given is not None:
        _run(given)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


# Alembic loads this file by path and runs it; importing it as a module (a wheel's import
# check) must not try to migrate anything.
if __name__ != "store.migrations.env":
    run()
