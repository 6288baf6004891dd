"""What the carrier contract tests share (no tests of its own).

In-process simulators to book against, their ``/_sim/`` admin views and fault switches, a
stub partner answering whatever it is told, the order every test books, and the polling of
a tracking story.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
from activity_partners import SECRETS
from aiohttp import web
from pydantic import SecretStr

from activities.carriers.port import CarrierPort
from canonical.booking import CarrierBooking
from canonical.events import ShipmentEvent
from canonical.milestones import Milestone
from canonical.shipment import Shipment
from simulators.app import RunningSimulators, start_simulators
from simulators.settings import SimulatorSettings, default_ports

REF = "shipment-S00042"
NOBODY = "http://127.0.0.1:9"  # nobody listens
STEP_S = 0.05
PARCEL = {"weight_kg": "2.5", "length_cm": "40", "width_cm": "30", "height_cm": "20"}


def shipment(carrier: str, **changes: Any) -> Shipment:
    """Two laptops from Hamburg to Boston by ``carrier``, express (plus ``changes``)."""
    party = {"lines": ["Am Sandtorkai 1"], "city": "Hamburg", "postal_code": "20457",
             "country": "DE", "subdivision": "DE-HH"}  # fmt: skip
    data: dict[str, Any] = {
        "order_ref": "S00042",
        "shipper": {"name": "Borderflow Demo GmbH", "address": party, "phone": "+4940123"},
        "consignee": {"name": "Acme Inc.", "email": "ops@acme.example",
                      "address": {"lines": ["1 Main St", "Suite 5"], "city": "Boston",
                                  "postal_code": "02110", "country": "US",
                                  "subdivision": "US-MA"}},
        "incoterm": "DAP",
        "currency": "EUR",
        "commodities": [{"description": "Laptop", "hs6": "847130", "origin_country": "CN",
                         "quantity": "2", "unit_value": {"amount": "899.00", "currency": "EUR"},
                         "national_code": {"scheme": "HTS", "code": "8471.30.0100"},
                         "gross_weight_kg": "2.2"}],
        "packages": [PARCEL],
        "carrier": carrier,
        "service_level": "express",
    }  # fmt: skip
    return Shipment.model_validate({**data, **changes}, strict=False)


@contextlib.asynccontextmanager
async def simulators(time_scale: float) -> AsyncIterator[RunningSimulators]:
    """Every simulator on a free port, one story step per ``time_scale`` s, webhooks to nobody."""
    secrets: dict[str, Any] = {k: SecretStr(v) for k, v in SECRETS.items()}
    settings = SimulatorSettings(
        sim_ports=dict.fromkeys(default_ports(), 0),
        api_url=NOBODY, sim_time_scale=time_scale,
        **secrets,
    )  # fmt: skip
    async with await start_simulators(settings) as running:
        yield running


async def sim(url: str, path: str, faults: dict[str, Any] | None = None) -> Any:
    """GET a ``/_sim/`` view, or POST ``faults`` to ``/_sim/faults``."""
    async with httpx.AsyncClient(base_url=url) as http:
        if faults is None:
            response = await http.get(path)
        else:
            response = await http.post(path, json=faults)
        response.raise_for_status()
        return response.json()


@contextlib.asynccontextmanager
async def stub_partner(status: int, body: Any) -> AsyncIterator[str]:
    """A server answering every request with ``status`` and the JSON ``body``."""

    async def answer(request: web.Request) -> web.Response:
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def poll_until(
    carrier: CarrierPort, booking: CarrierBooking, done: Milestone, scans: int = 1
) -> list[list[ShipmentEvent]]:
    """Every poll until ``scans`` events with milestone ``done`` have been seen."""
    polls: list[list[ShipmentEvent]] = []
    deadline = asyncio.get_running_loop().time() + 5
    while not polls or sum(e.milestone == done for e in polls[-1]) < scans:
        assert asyncio.get_running_loop().time() < deadline, f"no {done} in time"
        polls.append(await carrier.track(booking, received_at=datetime.now(UTC)))
        await asyncio.sleep(STEP_S / 2)
    return polls


def assert_polls_keep_ids(polls: list[list[ShipmentEvent]]) -> None:
    """A later poll repeats the scans seen already, under the same ids."""
    final = polls[-1]
    for earlier in polls:
        ids = [e.event_id for e in earlier]
        assert len(set(ids)) == len(ids)
        assert ids == [e.event_id for e in final[: len(ids)]]
