"""Temporal's own SDK metrics: served by the SDK's core on a loopback port, bridged into the
worker's ``/metrics``."""

import asyncio
import time

import httpx
from aiohttp import web
from observed_lifecycle import Lifecycle
from prometheus_client.parser import text_string_to_metric_families
from temporalio import activity
from temporalio.client import Client
from temporalio.worker import Worker
from tests_support import free_port

from workers.http import (
    WorkerHealth,
    add_routes,
    create_http_app,
    metrics_route,
    sdk_runtime,
    start_http,
)


@activity.defn
async def noop() -> None:
    """Never runs: the worker only has to poll."""


async def test_the_worker_metrics_carry_ours_and_the_sdk_metrics(lifecycle: Lifecycle) -> None:
    sdk_port, http_port = free_port(), free_port()
    client = await Client.connect(lifecycle.temporal_address, runtime=sdk_runtime(sdk_port))
    await client.count_workflows()
    app = create_http_app(WorkerHealth(client))
    add_routes(app, [metrics_route(sdk_port)])
    runner = await start_http(app, "127.0.0.1", http_port)
    try:
        async with Worker(client, task_queue="sdk-metrics-test", activities=[noop]):
            deadline = time.monotonic() + 30
            text = ""
            async with httpx.AsyncClient(timeout=10) as http:
                while time.monotonic() < deadline:
                    reply = await http.get(f"http://127.0.0.1:{http_port}/metrics")
                    text = reply.text
                    if "temporal_worker_task_slots_available" in text:
                        break
                    await asyncio.sleep(0.2)
        assert reply.headers["content-type"].startswith("text/plain")
        assert "borderflow_partner_requests_total" in text  # ours
        assert "temporal_request{" in text and 'operation="CountWorkflowExecutions"' in text
        assert "temporal_worker_task_slots_available" in text  # the SDK's, bridged in
        assert 'task_queue="sdk-metrics-test"' in text
        names = {family.name for family in text_string_to_metric_families(text)}  # parseable
        assert {"borderflow_partner_requests", "temporal_request"} <= names
    finally:
        await runner.cleanup()


async def test_without_the_sdk_port_the_worker_still_serves_its_own_metrics() -> None:
    app = web.Application()
    add_routes(app, [metrics_route(free_port())])  # nobody listens there
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with httpx.AsyncClient(timeout=10) as http:
            reply = await http.get(f"http://127.0.0.1:{port}/metrics")
        assert reply.status_code == 200
        assert "borderflow_partner_requests_total" in reply.text
        assert "# Temporal SDK metrics unavailable:" in reply.text
    finally:
        await runner.cleanup()
