"""A live stack for the API tests: the real dev server, a worker, and the real API app.

Everything runs on one event loop in a background thread, so the API answers real HTTP on a
real port whatever the test itself does: async tests, blocking ones (schemathesis, the
``borderflow`` command in a subprocess) alike. Each API instance has its own store (SQLite
file or PostgreSQL database) and settings.
"""

import asyncio
import base64
import threading
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest
from aiohttp import web
from sqlalchemy.engine import Engine
from stand_in import StandInShipment
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker
from tests_support import free_port, migrated_engine

from api.app import create_app
from api.settings import ApiSettings
from api.webhook_partners import WEBHOOK_PARTNERS
from store.tokens import Role, create_token
from workflows.client import connect, register_search_attributes
from workflows.models import TASK_QUEUE

T = TypeVar("T")
WEBHOOK_SECRET = "whsec-for-tests-only"
DCSA_SECRET = base64.b64encode(b"dcsa-subscription-key-for-tests-only".ljust(64, b"!")).decode()
"""A DCSA subscription's secret: 64 bytes, base64-encoded as the subscription carries it."""
WEBHOOK_SECRETS = {
    d.secret_setting: DCSA_SECRET if d.base64_secret else WEBHOOK_SECRET for d in WEBHOOK_PARTNERS
}
"""Every declared webhook partner configured, each with the tests' secret."""


@dataclass
class LiveApi:
    url: str
    settings: ApiSettings
    store: Engine

    def token(self, role: Role = Role.OPS) -> str:
        return create_token(self.store, role, f"api test {role}")[1]

    def headers(self, role: Role = Role.OPS) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role)}"}


STORES = ["sqlite", "postgresql"]
"""The params of a fixture that runs its module once per store (:func:`store_url`)."""


def store_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh SQLite file, or the session's PostgreSQL database, by ``request.param``."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('store') / 'store.db'}"
    return str(request.getfixturevalue("postgres_url"))


class Stack:
    def __init__(self, temporal_cli: str) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._env: WorkflowEnvironment = self.run(self._start_temporal(temporal_cli))
        self.address: str = self._env.client.service_client.config.target_host
        self._workers: dict[str, tuple[Worker, asyncio.Task[None]]] = {}
        self._runners: dict[int, web.AppRunner] = {}

    def run(self, coroutine: Coroutine[Any, Any, T], timeout_s: float = 120) -> T:
        """Run ``coroutine`` on the stack's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout_s)

    @staticmethod
    async def _start_temporal(temporal_cli: str) -> WorkflowEnvironment:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_cli, data_converter=pydantic_data_converter,
            dev_server_log_level="error",
        )  # fmt: skip
        await register_search_attributes(env.client)
        return env

    def start_worker(self, task_queue: str = TASK_QUEUE) -> None:
        """Poll ``task_queue`` with the stand-in workflow until :meth:`stop_worker`."""

        async def start() -> None:
            worker = Worker(self._env.client, task_queue=task_queue, workflows=[StandInShipment])
            self._workers[task_queue] = (worker, asyncio.create_task(worker.run()))

        self.run(start())

    def stop_worker(self, task_queue: str = TASK_QUEUE) -> None:
        worker, task = self._workers.pop(task_queue)

        async def stop() -> None:
            await worker.shutdown()
            await task

        self.run(stop())

    def serve_api(self, database_url: str, **overrides: Any) -> LiveApi:
        """The real API app on a free port, against this dev server and ``database_url``
        (every webhook partner's secret :data:`WEBHOOK_SECRETS`' unless ``overrides`` say)."""
        port = free_port()
        # The Prometheus registry is one per process: every API app served here would keep
        # setting the same shipment and inbox gauges from this stack's Temporal until the
        # session ends, over the values other tests' apps set (tests/observability reads
        # them). So the gauges are counted once, at start, unless a test asks for more, and
        # such a test stops its app when it is done (:meth:`stop_api`).
        overrides.setdefault("metrics_refresh_s", 86_400.0)
        settings = ApiSettings(
            _env_file=None,  # type: ignore[call-arg]
            api_port=port, temporal_address=self.address, database_url=database_url,
            **{**WEBHOOK_SECRETS, **overrides},
        )  # fmt: skip
        store = migrated_engine(database_url)

        async def serve() -> None:
            client = await connect(settings.temporal_address, settings.temporal_namespace)
            runner = web.AppRunner(create_app(settings, client, store), access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            self._runners[port] = runner

        self.run(serve())
        return LiveApi(url=f"http://127.0.0.1:{port}", settings=settings, store=store)

    def stop_api(self, api: LiveApi) -> None:
        """Stop serving ``api`` (its background loops end with it)."""
        self.run(self._runners.pop(api.settings.api_port).cleanup())

    async def client(self) -> Client:
        """A client of the dev server for the calling loop (the test's own)."""
        return await Client.connect(self.address, data_converter=pydantic_data_converter)

    def close(self) -> None:
        async def stop_all() -> None:
            for runner in self._runners.values():
                await runner.cleanup()
            for worker, task in self._workers.values():
                await worker.shutdown()
                await task
            await self._env.shutdown()

        try:
            self.run(stop_all())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
