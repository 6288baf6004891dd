"""With ``BORDERFLOW_LOG_FORMAT=json`` every line a process writes is JSON.

The real processes (``python -m api``, ``python -m workers``) run against a dev server of their
own, each stream read whole; and a small process shows the hooks: warnings, ``print``, raw
writes to stderr, an uncaught exception.
"""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from observed_lifecycle import SECRETS, WORKER_SECRETS, Lifecycle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from tests_support import free_port, migrated_engine

from workflows.client import register_search_attributes


def parsed(text: str) -> list[dict]:
    lines = text.splitlines()
    for line in lines:
        assert isinstance(json.loads(line), dict), line
    return [json.loads(line) for line in lines]


class Process:
    """A child process with JSON logs; both its streams read into lists as it runs."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith("BORDERFLOW_")}
        self.popen = subprocess.Popen(
            argv, env={**base, "BORDERFLOW_LOG_FORMAT": "json", **env},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.out: list[str] = []
        self.err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(stream, into), daemon=True)
            for stream, into in ((self.popen.stdout, self.out), (self.popen.stderr, self.err))
        ]
        for reader in self._readers:
            reader.start()

    @staticmethod
    def _read(stream: object, into: list[str]) -> None:
        for line in stream:  # type: ignore[attr-defined]
            into.append(line)

    def wait_for(self, text: str, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while not any(text in line for line in self.out):
            assert self.popen.poll() is None, "".join(self.out + self.err)
            assert time.monotonic() < deadline, "".join(self.out + self.err)
            time.sleep(0.1)

    def stop(self) -> tuple[str, str]:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()
        for reader in self._readers:
            reader.join(timeout=10)
        return "".join(self.out), "".join(self.err)


@contextmanager
def running(argv: list[str], env: dict[str, str]) -> Iterator[Process]:
    process = Process(argv, env)
    try:
        yield process
    finally:
        process.stop()


@pytest.fixture(scope="module")
async def own_temporal(temporal_cli: str) -> AsyncIterator[str]:
    """A dev server of the module's own (the worker schedules its reconciliation there)."""
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli, data_converter=pydantic_data_converter,
        dev_server_log_level="error",
    )  # fmt: skip
    try:
        await register_search_attributes(env.client)
        yield env.client.service_client.config.target_host
    finally:
        await env.shutdown()


def test_the_api_writes_only_json_lines(own_temporal: str, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'store.db'}"
    migrated_engine(database_url).dispose()
    port = free_port()
    env = {
        "BORDERFLOW_DATABASE_URL": database_url, "BORDERFLOW_TEMPORAL_ADDRESS": own_temporal,
        "BORDERFLOW_API_PORT": str(port), "BORDERFLOW_API_HOST": "127.0.0.1",
        "BORDERFLOW_EASYPOST_WEBHOOK_SECRET": "s1", "BORDERFLOW_BROKER_WEBHOOK_SECRET": "s2",
    }  # fmt: skip
    with running([sys.executable, "-m", "api"], env) as api:
        api.wait_for("api ready on")
        url = f"http://127.0.0.1:{port}"
        for path in ("/healthz", "/readyz", "/v1/shipments?token=x", "/nope", "/metrics"):
            httpx.get(f"{url}{path}", timeout=30)
        httpx.post(f"{url}/v1/webhooks/easypost?token=x", content=b"{", timeout=30)
        out, err = api.stop()
    assert api.popen.returncode == 0, err
    stdout, stderr = parsed(out), parsed(err)
    assert [line["logger"] for line in stdout] == ["stdout"]
    assert stdout[0]["message"] == f"api ready on http://127.0.0.1:{port}"
    access = [line for line in stderr if line["logger"] == "borderflow.access"]
    assert [line["route"] for line in access] == [
        "/healthz", "/readyz", "/v1/shipments", "unmatched", "/metrics", "/v1/webhooks/{partner}",
    ]  # fmt: skip
    assert not [line for line in stderr if line["logger"].startswith("aiohttp")]


def test_the_worker_writes_only_json_lines(
    own_temporal: str, lifecycle: Lifecycle, tmp_path: Path
) -> None:
    database_url = f"sqlite:///{tmp_path / 'store.db'}"
    migrated_engine(database_url).dispose()
    sims = lifecycle.sims
    env = {
        "BORDERFLOW_DATABASE_URL": database_url, "BORDERFLOW_TEMPORAL_ADDRESS": own_temporal,
        "BORDERFLOW_WORKER_METRICS_PORT": str(free_port()),
        "BORDERFLOW_WORKER_SDK_METRICS_PORT": str(free_port()),
        "BORDERFLOW_ODOO_URL": sims.url("odoo"), "BORDERFLOW_TMS_URL": sims.url("tms"),
        "BORDERFLOW_CARRIER_URL": sims.url("easypost"), "BORDERFLOW_BROKER_URL": sims.url("broker"),
        "BORDERFLOW_DHL_URL": sims.url("dhl"), "BORDERFLOW_NOTIFY_URL": sims.url("notify"),
        "BORDERFLOW_GRACEFUL_SHUTDOWN_S": "1",
        **{f"BORDERFLOW_{key.upper()}": SECRETS[key] for key in WORKER_SECRETS},
    }  # fmt: skip
    with running([sys.executable, "-m", "workers"], env) as worker:
        worker.wait_for("worker ready on task queues")
        out, err = worker.stop()
    assert worker.popen.returncode == 0, err
    stdout, stderr = parsed(out), parsed(err)
    assert {line["logger"] for line in stdout} == {"stdout"}
    assert any("reconciliation schedule" in line["message"] for line in stdout)
    assert stderr, "the worker logs its start and stop"


HOOKS = """
import sys, threading, warnings
from observability.logs import setup_logging
setup_logging("json")
print("plain text to stdout")
print('{"already": "json"}')
sys.stderr.write("a raw line to stderr, password=hunter2\\n")
warnings.warn("something is deprecated", DeprecationWarning, stacklevel=1)
thread = threading.Thread(target=lambda: 1 / 0, name="helper")
thread.start()
thread.join()
print("partial", end="")
sys.stdout.flush()
raise ValueError("boom")
"""


def test_warnings_prints_raw_writes_and_uncaught_exceptions_are_json() -> None:
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", HOOKS], capture_output=True, text=True,
        timeout=60, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert done.returncode == 1
    stdout, stderr = parsed(done.stdout), parsed(done.stderr)
    assert [line.get("message") for line in stdout] == [
        "plain text to stdout", None, "partial",
    ]  # fmt: skip
    assert stdout[1] == {"already": "json"}
    by_logger = {line["logger"]: line for line in stderr}
    assert by_logger["stderr"]["message"] == "a raw line to stderr, password=***"
    assert "something is deprecated" in by_logger["py.warnings"]["message"]
    uncaught = [line for line in stderr if line["logger"] == "borderflow.uncaught"]
    assert [line["message"] for line in uncaught] == [
        "uncaught ZeroDivisionError in thread helper", "uncaught ValueError",
    ]  # fmt: skip
    assert all(line["level"] == "CRITICAL" for line in uncaught)
    assert "ValueError: boom" in uncaught[1]["exception"]
