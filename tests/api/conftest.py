"""Fixtures of the API tests: one live stack per session, APIs on SQLite and PostgreSQL."""

from collections.abc import Iterator

import pytest
from live import LiveApi, Stack
from pg_support import postgres_database
from temporalio.client import Client


@pytest.fixture(scope="session")
def stack(temporal_cli: str) -> Iterator[Stack]:
    running = Stack(temporal_cli)
    running.start_worker()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(scope="session")
def api(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> LiveApi:
    """The API on SQLite; ops actions wait 5 s for a worker before they answer 503."""
    database = tmp_path_factory.mktemp("api") / "store.db"
    return stack.serve_api(f"sqlite:///{database}", update_timeout_s=5)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    yield from postgres_database()


@pytest.fixture
async def temporal(stack: Stack) -> Client:
    return await stack.client()
