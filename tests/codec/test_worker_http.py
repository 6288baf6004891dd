"""The worker's probe port and regional queues (the ready case runs in tests/e2e)."""

from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from pydantic import ValidationError
from temporalio.client import Client
from tests_support import free_port

from workers.http import WorkerHealth, add_routes, create_http_app, start_http
from workers.regions import regional_task_queue
from workers.settings import WorkerSettings


@pytest.fixture
async def probes() -> AsyncIterator[tuple[str, WorkerHealth]]:
    nowhere = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)  # nothing listens
    health = WorkerHealth(nowhere)
    app = create_http_app(health)

    async def metrics(_request: web.Request) -> web.Response:
        return web.Response(text="borderflow_up 1\n")

    add_routes(app, [web.get("/metrics", metrics)])
    port = free_port()
    runner = await start_http(app, "127.0.0.1", port)
    yield f"http://127.0.0.1:{port}", health
    await runner.cleanup()


async def test_readiness_follows_the_worker_and_temporal(probes: tuple[str, WorkerHealth]) -> None:
    base, health = probes
    async with httpx.AsyncClient() as http:
        assert (await http.get(f"{base}/healthz")).status_code == 200
        starting = await http.get(f"{base}/readyz")
        assert starting.status_code == 503 and starting.json()["status"] == "starting"
        health.serving = True
        unreachable = await http.get(f"{base}/readyz")
        assert unreachable.status_code == 503 and unreachable.json()["temporal"]
        health.draining = True
        draining = await http.get(f"{base}/readyz")
        assert draining.status_code == 503 and draining.json()["status"] == "draining"
        assert (await http.get(f"{base}/healthz")).status_code == 200
        assert (await http.get(f"{base}/metrics")).text == "borderflow_up 1\n"


def test_regional_queues() -> None:
    assert regional_task_queue("borderflow-odoo", None) == "borderflow-odoo"
    assert regional_task_queue("borderflow-odoo", "eu-west") == "borderflow-odoo-eu-west"
    for bad in ("EU", "eu_west", "-eu", "", "x" * 40):
        with pytest.raises(ValueError, match="region"):
            regional_task_queue("borderflow-odoo", bad)


def test_worker_region_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ODOO_PASSWORD", "TMS_API_KEY", "CARRIER_API_KEY", "BROKER_API_KEY"):
        monkeypatch.setenv(f"BORDERFLOW_{name}", "x")
    monkeypatch.setenv("BORDERFLOW_REGION", "eu")
    assert WorkerSettings().region == "eu"
    monkeypatch.setenv("BORDERFLOW_REGION", "Europe West")
    with pytest.raises(ValidationError, match="region"):
        WorkerSettings()
