"""The fixture of tests/observability: one observed lifecycle, shared by the whole session."""

from collections.abc import AsyncIterator

import pytest
from observed_lifecycle import Lifecycle, observed_lifecycle


@pytest.fixture(scope="session")
async def lifecycle(
    temporal_cli: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Lifecycle]:
    async for running in observed_lifecycle(temporal_cli, tmp_path_factory.mktemp("observed")):
        yield running
