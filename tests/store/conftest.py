"""Every store test runs on SQLite and on PostgreSQL.

PostgreSQL is found at ``BORDERFLOW_TEST_POSTGRES_URL`` (default: the local server,
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Each session works in a database of its
own, created and dropped here. Where no server answers, the PostgreSQL cases are skipped with
the reason shown, unless ``BORDERFLOW_REQUIRE_POSTGRES=1`` (set by CI), where they fail.
"""

from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_support import migrated_store, postgres_database
from sqlalchemy.engine import Engine


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    yield from postgres_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from migrated_store(request, tmp_path)
