"""Fixtures of the deploy tests: a real Temporal dev server like the one an operator runs."""

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests_support import free_port


@pytest.fixture(scope="module")
def dev_server(temporal_cli: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a dev server with the namespace ``borderflow`` (no search attributes:
    ``borderflow temporal-setup`` registers them)."""
    port = free_port()
    log = tmp_path_factory.mktemp("temporal") / "server.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [temporal_cli, "server", "start-dev", "--headless", "--ip", "127.0.0.1",
             "--port", str(port), "--namespace", "borderflow", "--log-level", "error"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    address = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            health = subprocess.run(
                [temporal_cli, "operator", "cluster", "health", "--address", address],
                capture_output=True, text=True, timeout=30,
            )  # fmt: skip
            if "SERVING" in health.stdout:
                break
            assert server.poll() is None, Path(log).read_text()
            time.sleep(0.5)
        yield address
    finally:
        server.terminate()
        server.wait(timeout=30)
