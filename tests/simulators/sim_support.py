"""Shared helpers for the simulator tests: settings, a fake API receiving webhooks, polling."""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from pydantic import SecretStr

from simulators.app import RunningSimulators, start_simulators
from simulators.settings import SimulatorSettings, default_ports

TIME_SCALE = 0.02
SECRETS = {
    "odoo_password": "odoo-test-password",
    "tms_api_key": "tms-test-key",
    "carrier_api_key": "carrier-test-key",
    "dhl_api_key": "dhl-test-key",
    "broker_api_key": "broker-test-key",
    "easypost_webhook_secret": "easypost-test-secret",
    "broker_webhook_secret": "broker-test-secret",
}


def make_settings(
    api_url: str, state_file: Path | None = None, **overrides: Any
) -> SimulatorSettings:
    """Settings with every port 0, test secrets and a fast story clock (plus ``overrides``)."""
    options: dict[str, Any] = {"sim_time_scale": TIME_SCALE, **overrides}
    return SimulatorSettings(
        sim_host="127.0.0.1",
        sim_ports=dict.fromkeys(default_ports(), 0),
        odoo_db="borderflow",
        odoo_login="admin",
        api_url=api_url,
        sim_odoo_state_file=state_file,
        odoo_password=SecretStr(SECRETS["odoo_password"]),
        tms_api_key=SecretStr(SECRETS["tms_api_key"]),
        carrier_api_key=SecretStr(SECRETS["carrier_api_key"]),
        dhl_api_key=SecretStr(SECRETS["dhl_api_key"]),
        broker_api_key=SecretStr(SECRETS["broker_api_key"]),
        easypost_webhook_secret=SecretStr(SECRETS["easypost_webhook_secret"]),
        broker_webhook_secret=SecretStr(SECRETS["broker_webhook_secret"]),
        **options,
    )


@dataclass
class Delivery:
    """One webhook request received by the fake API."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int
    at: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """A fake Borderflow API recording webhook deliveries; can fail the next N requests."""

    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)

    def fail_next(self, path: str, times: int) -> None:
        self.failures[path] = times

    def accepted(self, path: str) -> list[Delivery]:
        return [d for d in self.deliveries if d.path == path and d.status == 200]

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = 200
        if self.failures.get(request.path, 0) > 0:
            self.failures[request.path] -= 1
            status = 500
        self.deliveries.append(Delivery(request.path, dict(request.headers), body, status))
        return web.json_response({"ok": status == 200}, status=status)


async def wait_until(condition: Callable[[], bool], within: float = 5.0) -> None:
    """Poll ``condition`` until it holds; fail the test after ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


# Parties and packages as Borderflow's canonical models serialise them (model_dump(mode="json")).
SHIPPER: dict[str, Any] = {
    "name": "Borderflow Demo GmbH",
    "address": {
        "lines": ["Am Sandtorkai 50"],
        "city": "Hamburg",
        "postal_code": "20457",
        "country": "DE",
    },
    "vat": "DE123456788",
    "email": "logistics@borderflow-demo.example",
    "phone": None,
}
CONSIGNEE: dict[str, Any] = {
    "name": "Northwind Robotics Inc.",
    "address": {
        "lines": ["1200 Harbor Way", "Building C"],
        "city": "Oakland",
        "postal_code": "94607",
        "country": "US",
    },
    "vat": None,
    "email": "purchasing@northwind-robotics.example",
    "phone": "+1 510 555 0142",
}
PACKAGE: dict[str, Any] = {
    "weight_kg": "4.2",
    "length_cm": "40",
    "width_cm": "30",
    "height_cm": "20",
}


@asynccontextmanager
async def serving(app: web.Application) -> AsyncIterator[str]:
    """``app`` served on a free local port: yields its base URL, cleaned up on exit."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def running(api_url: str, **overrides: Any) -> AsyncIterator[RunningSimulators]:
    """In-process simulators with ``make_settings`` overrides, closed on exit."""
    sims = await start_simulators(make_settings(api_url, **overrides))
    try:
        yield sims
    finally:
        await sims.close()


async def set_faults(http: httpx.AsyncClient, base_url: str, **faults: Any) -> dict[str, Any]:
    """Replace the faults of the simulator at ``base_url``; returns the new view."""
    response = await http.post(f"{base_url}/_sim/faults", json=faults)
    assert response.status_code == 200, response.text
    view: dict[str, Any] = response.json()
    return view


async def injected(http: httpx.AsyncClient, base_url: str) -> dict[str, int]:
    """The ``injected`` counters of the simulator at ``base_url``."""
    counters: dict[str, int] = (await http.get(f"{base_url}/_sim/faults")).json()["injected"]
    return counters


async def poll_until(check: Callable[[], Awaitable[bool]], within: float = 5.0) -> None:
    """Await ``check`` every 10 ms until it holds; fail the test after ``within`` seconds."""
    for _ in range(int(within / 0.01) + 1):
        if await check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


def assert_problem(response: httpx.Response, status: int, *members: str) -> dict[str, Any]:
    """An RFC 9457 problem+json of ``status`` with type, title, status, detail and ``members``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail", *members} <= set(body)
    return body
