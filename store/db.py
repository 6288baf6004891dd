"""Our own store: SQLite by default, PostgreSQL in production, through sqlmodel.

The API and the worker are separate processes sharing one database, so SQLite runs in WAL
mode with a busy timeout: readers never block the writer, and a writer waits rather than
failing when another process holds the lock.
"""

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel, create_engine


def make_engine(url: str) -> Engine:
    """Create the engine for ``url`` and the tables it lacks (idempotent)."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    # Importing the table modules registers their tables on SQLModel.metadata.
    import store.audit
    import store.idempotency
    import store.inbox
    import store.reconciliation
    import store.tokens
    import store.tracking  # noqa: F401

    SQLModel.metadata.create_all(engine)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
