"""Migration 0002 on a store holding data: existing rows keep their meaning, both ways.

Runs on a fresh SQLite file and a fresh PostgreSQL database, migrated to the baseline first.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pg_support import postgres_database
from sqlalchemy import text
from sqlalchemy.engine import Engine

from store.db import make_engine, table_metadata
from store.migrate import alembic_config

BEFORE = "0001_baseline"
REVISION = "0002_inbox_idempotency"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty store of its own (not the shared ``engine`` fixture: it is migrated here)."""
    databases = None if request.param == "sqlite" else postgres_database()
    url = f"sqlite:///{tmp_path / 'store.db'}" if databases is None else next(databases)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    if databases is not None:
        databases.close()  # drops the database


def migrate(engine: Engine, revision: str, *, down: bool = False) -> None:
    with engine.begin() as connection:
        step = command.downgrade if down else command.upgrade
        step(alembic_config(connection), revision)


def test_existing_rows_migrate_up_and_down(store: Engine) -> None:
    migrate(store, BEFORE)
    with store.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO idempotent_response (scope, key, request_sha256, status, body,"
                " created_at) VALUES ('t1', 'k1', 'aa', 201, '{}', CURRENT_TIMESTAMP)"
            )
        )
        for key, state, attempts in (("e1", "delivered", 1), ("e2", "received", 0),
                                     ("e3", "dead", 0)):  # fmt: skip
            connection.execute(text(
                "INSERT INTO inbox_message (partner, dedupe_key, received_at, updated_at, headers,"
                " body, state, attempts) VALUES ('easypost', :key, CURRENT_TIMESTAMP,"
                " CURRENT_TIMESTAMP, '{}', :body, :state, :attempts)"
            ), {"key": key, "body": b"{}", "state": state, "attempts": attempts})  # fmt: skip

    migrate(store, REVISION)
    with store.connect() as connection:
        response = connection.execute(text(
            "SELECT state, holder, status, finished_at IS NOT NULL FROM idempotent_response"
        )).one()  # fmt: skip
        inbox = connection.execute(text(
            "SELECT dedupe_key, last_outcome, delivered_at IS NOT NULL, deliveries, replays"
            " FROM inbox_message ORDER BY dedupe_key"
        )).all()  # fmt: skip
        drift = compare_metadata(MigrationContext.configure(connection), table_metadata())
    assert tuple(response) == ("finished", None, 201, True)
    assert [tuple(row) for row in inbox] == [
        ("e1", "delivered", True, 1, 0), ("e2", None, False, 0, 0), ("e3", "dead", False, 0, 0),
    ]  # fmt: skip
    assert drift == []

    with store.begin() as connection:
        connection.execute(text(
            "INSERT INTO idempotent_response (scope, key, request_sha256, state, holder,"
            " created_at) VALUES ('t1', 'k2', 'bb', 'in_flight', 'h', CURRENT_TIMESTAMP)"
        ))  # fmt: skip
        connection.execute(text("UPDATE inbox_message SET state = 'late' WHERE dedupe_key = 'e2'"))
    migrate(store, BEFORE, down=True)
    with store.connect() as connection:
        keys = connection.execute(text("SELECT key FROM idempotent_response")).scalars().all()
        states = connection.execute(
            text("SELECT state FROM inbox_message ORDER BY dedupe_key")
        ).scalars().all()  # fmt: skip
    assert keys == ["k1"] and states == ["delivered", "dead", "dead"]
