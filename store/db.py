"""Our own store: SQLite by default, PostgreSQL in production, through sqlmodel.

The API and the worker are separate processes sharing one database, so SQLite runs in WAL
mode with a busy timeout: readers never block the writer, and a writer waits rather than
failing when another process holds the lock.

:func:`make_engine` only connects: the schema is Alembic's (:mod:`store.migrate`,
``borderflow db upgrade``). :data:`TABLE_MODULES` is the one list of modules holding table
models; :func:`table_metadata` registers them all.
"""

import importlib
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine

TABLE_MODULES = (
    "store.audit",
    "store.idempotency",
    "store.inbox",
    "store.reconciliation",
    "store.tokens",
    "store.tracking",
)
"""Every module defining a table model: a new one goes here (and gets a migration)."""


def table_metadata() -> MetaData:
    """``SQLModel.metadata`` with every table of :data:`TABLE_MODULES` registered on it."""
    for module in TABLE_MODULES:
        importlib.import_module(module)
    return SQLModel.metadata


def make_engine(url: str) -> Engine:
    """Create the engine for ``url`` (no table is created: see :mod:`store.migrate`)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
