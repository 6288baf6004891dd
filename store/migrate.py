"""The store's schema: Alembic migrations applied in code, and the check every process makes.

Guarantees:
- :func:`upgrade` brings a store to this release's head revision (``borderflow db upgrade``,
  and ``borderflow up`` before it starts anything), in one transaction where the database
  has transactional DDL (PostgreSQL); run again, it changes nothing;
- a store made before migrations existed (``create_all``: the tables, no ``alembic_version``)
  is stamped ``0001_baseline`` first when its tables match that revision's, and refused,
  untouched, when they don't;
- :func:`check_schema` raises :class:`StoreNotReady` unless the store is at head: the API, the
  worker, the codec server and the CLI's store commands refuse to start on an older, newer or
  empty schema, with one line (:func:`require_current_schema`) and exit code 2;
- messages name the store by its URL with the password hidden.

The Alembic configuration is built here from the package's location, so it works from an
installed wheel; ``alembic.ini`` at the repository root is only for writing migrations.
"""

import logging
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.types import TypeEngine

import store.migrations
from store.db import make_engine

BASELINE = "0001_baseline"
"""The schema ``create_all`` made before migrations; stores made that way are stamped it."""
UPGRADE_HINT = "run `borderflow db upgrade`"

# Alembic logs "Context impl SQLiteImpl." at INFO on every check: not in the processes' logs.
logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)


class StoreNotReady(Exception):
    """The store cannot be used by this release; the message says why, in one line."""


@dataclass(frozen=True)
class SchemaState:
    url: str
    """The store's URL, password hidden."""
    current: str | None
    """The store's revision (``None``: no ``alembic_version``, so empty or made by create_all)."""
    head: str
    """The revision this release needs."""
    known: bool
    """Whether this release has the store's revision (``False``: a newer release migrated it)."""

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    def problem(self) -> str | None:
        """Why a process of this release must not use the store, or ``None``."""
        if self.at_head:
            return None
        if not self.known:
            return (
                f"the store at {self.url} is at revision {self.current}, unknown to this "
                f"release (it needs {self.head}): a newer release migrated it"
            )
        return (
            f"the store at {self.url} is at revision {self.current or 'none'}, "
            f"this release needs {self.head}: {UPGRADE_HINT}"
        )


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration of the packaged migrations (no ``alembic.ini`` needed)."""
    config = Config()
    config.set_main_option("script_location", str(Path(store.migrations.__file__).parent))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The revision this release needs."""
    return _head(ScriptDirectory.from_config(alembic_config()))


def display_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def schema_state(engine: Engine) -> SchemaState:
    """Where the store's schema is (raises :class:`StoreNotReady` if it cannot be reached)."""
    script = ScriptDirectory.from_config(alembic_config())
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as err:
        where = display_url(engine)
        raise StoreNotReady(f"cannot open the store at {where}: {_first_line(err)}") from err
    known = current is None or current in {rev.revision for rev in script.walk_revisions()}
    return SchemaState(display_url(engine), current, _head(script), known)


def check_schema(engine: Engine) -> None:
    """Raise :class:`StoreNotReady` unless the store is at this release's head revision."""
    problem = schema_state(engine).problem()
    if problem is not None:
        raise StoreNotReady(problem)


def open_store(url: str) -> Engine:
    """The engine of the store at ``url``, once its schema is this release's (else raises
    :class:`StoreNotReady`)."""
    engine = make_engine(url)
    try:
        check_schema(engine)
    except StoreNotReady:
        engine.dispose()
        raise
    return engine


def require_current_schema(url: str, process: str) -> None:
    """Check the store before a process starts: on a problem, one line on stderr, exit 2.

    ``process`` names the command in the line (``api`` → ``borderflow api: …``).
    """
    try:
        open_store(url).dispose()
    except StoreNotReady as err:
        print(f"borderflow {process}: {err}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None


def upgrade(url: str) -> list[str]:
    """Migrate the store at ``url`` to head; return what was done, one line each.

    Raises :class:`StoreNotReady` (the store untouched) for a store of a newer release, or
    one made before migrations whose tables don't match the baseline.
    """
    engine = make_engine(url)
    try:
        state = schema_state(engine)
        if not state.known:
            raise StoreNotReady(state.problem())
        if state.at_head:
            return [f"the store at {state.url} is at {state.head}: up to date"]
        lines = []
        with engine.begin() as connection:
            if state.current is None and _has_baseline_tables(connection):
                difference = _baseline_difference(connection)
                if difference is not None:
                    raise StoreNotReady(
                        f"the store at {state.url} has tables but no revision, and they don't "
                        f"match {BASELINE} ({difference}): migrate it by hand or use a new store"
                    )
                command.stamp(alembic_config(connection), BASELINE)
                lines.append(
                    f"the store at {state.url} was made before migrations; its tables match "
                    f"{BASELINE}: stamped it"
                )
                if BASELINE == state.head:
                    return lines
            command.upgrade(alembic_config(connection), "head")
        before = BASELINE if lines else state.current or "none"
        lines.append(f"the store at {state.url} upgraded from {before} to {state.head}")
        return lines
    except SQLAlchemyError as err:
        where = display_url(engine)
        raise StoreNotReady(f"cannot upgrade the store at {where}: {_first_line(err)}") from err
    finally:
        engine.dispose()


def schema_state_at(url: str) -> SchemaState:
    """The state of the store at ``url`` (``borderflow db current``)."""
    engine = make_engine(url)
    try:
        return schema_state(engine)
    finally:
        engine.dispose()


def _head(script: ScriptDirectory) -> str:
    head = script.get_current_head()
    if head is None:  # pragma: no cover - the package always ships the baseline
        raise RuntimeError("store/migrations has no revision")
    return head


def _first_line(err: Exception) -> str:
    return str(getattr(err, "orig", None) or err).strip().splitlines()[0]


# An old store is compared with the baseline as a fresh SQLite database has it, dialect
# neutrally: columns (name, generic type and length, nullability), primary key, indexes and
# unique constraints (by columns).
_Signature = dict[str, tuple[object, ...]]


def _baseline_signature() -> _Signature:
    reference = make_engine("sqlite:///:memory:")
    try:
        with reference.connect() as connection:
            command.upgrade(alembic_config(connection), BASELINE)
            tables = set(inspect(connection).get_table_names()) - {"alembic_version"}
            return _signature(connection, tables)
    finally:
        reference.dispose()


def _has_baseline_tables(connection: Connection) -> bool:
    present = inspect(connection).get_table_names()  # checked first: no reference to build
    return bool(present) and bool(set(present) & set(_baseline_signature()))


def _baseline_difference(connection: Connection) -> str | None:
    expected = _baseline_signature()
    present = set(inspect(connection).get_table_names())
    missing = sorted(set(expected) - present)
    if missing:
        return f"no table {', '.join(missing)}"
    found = _signature(connection, expected)
    for table in sorted(expected):
        if found[table] != expected[table]:
            return f"table {table} differs"
    return None


def _signature(connection: Connection, tables: Iterable[str]) -> _Signature:
    inspector = inspect(connection)
    signature: _Signature = {}
    for table in sorted(tables):
        columns = tuple(
            (column["name"], _generic(column["type"]), column["nullable"])
            for column in inspector.get_columns(table)
        )
        primary_key = tuple(inspector.get_pk_constraint(table)["constrained_columns"])
        indexes = sorted(
            (index["name"], tuple(index["column_names"]), bool(index["unique"]))
            for index in inspector.get_indexes(table)
            if "duplicates_constraint" not in index  # PostgreSQL: a unique constraint's index
        )
        uniques = sorted(
            tuple(unique["column_names"]) for unique in inspector.get_unique_constraints(table)
        )
        signature[table] = (columns, primary_key, tuple(indexes), tuple(uniques))
    return signature


def _generic(type_: TypeEngine[object]) -> str:
    generic = type_.as_generic()
    length = getattr(generic, "length", None)
    return f"{type(generic).__name__}({length or ''})"
