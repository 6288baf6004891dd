"""A PostgreSQL database of the test session's own, created and dropped here.

The server is found at ``BORDERFLOW_TEST_POSTGRES_URL`` (default: the local server,
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Where no server answers, the caller's
PostgreSQL cases are skipped with the reason shown, unless ``BORDERFLOW_REQUIRE_POSTGRES=1``
(set by CI), where they fail.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import Engine, make_url
from tests_support import migrated_engine

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgres_database() -> Iterator[str]:
    """Yield the URL of a fresh database (a generator for a pytest fixture)."""
    admin_url = make_url(os.environ.get("BORDERFLOW_TEST_POSTGRES_URL", DEFAULT_POSTGRES))
    conninfo = admin_url.set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as err:
        reason = f"PostgreSQL not reachable at {admin_url.host}:{admin_url.port}: {err}"
        if os.environ.get("BORDERFLOW_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"{reason} (BORDERFLOW_REQUIRE_POSTGRES=1)")
        pytest.skip(reason)
    name = f"borderflow_test_{uuid.uuid4().hex[:10]}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin_url.set(database=name).render_as_string(hide_password=False)
        finally:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def migrated_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """Yield a migrated store on ``request.param`` (``sqlite``: a file in ``tmp_path``;
    ``postgresql``: the ``postgres_url`` fixture's database), disposed after (a generator for
    a fixture parametrized ``["sqlite", "postgresql"]``)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = migrated_engine(url)
    yield engine
    engine.dispose()
