"""The drills' platform: one ``borderflow up`` per test module, on free ports and its own data."""

from collections.abc import Iterator

import pytest
from running_platform import Platform


@pytest.fixture(scope="module")
def platform(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Platform]:
    """A running platform, stopped after the module (a module may override it, e.g. with env)."""
    name = request.module.__name__.rsplit(".", 1)[-1]
    running = Platform(tmp_path_factory.mktemp(name) / ".data", demo_shipments=0,
                       ports=Platform.free_ports())  # fmt: skip
    try:
        running.wait_for("running:", timeout_s=90)
        yield running
    finally:
        running.stop()
