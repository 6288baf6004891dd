"""A non-ASCII webhook secret works end to end: the EasyPost simulator signs its tracking
webhooks as EasyPost does (the secret NFKD-normalized first), the live API verifies them.

The secret holds characters NFKD changes (``ﬁ`` becomes ``fi``, ``Å`` is decomposed), so a
signer that skipped the normalization would be refused: the control shows it.
"""

import asyncio
import hashlib
import hmac
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiohttp import web
from api_support import start_shipment
from live import LiveApi, Stack
from pydantic import SecretStr
from temporalio.client import Client
from test_api_webhook_delivery import events_of
from webhook_payloads import easypost_event

from simulators.carrier_easypost import create_carrier_app
from simulators.settings import SimulatorSettings
from store.tracking import link_tracking

SECRET = "ﬁle-Ångström-秘密"
CARRIER_KEY = "carrier-key-for-tests-only"
ADDRESS = {"name": "Borderflow Demo GmbH", "street1": "Am Sandtorkai 50", "city": "Hamburg",
           "zip": "20457", "country": "DE", "email": "ops@example.com"}  # fmt: skip
BUY: dict[str, Any] = {
    "shipment": {
        "reference": "S-NFKD",
        "to_address": {**ADDRESS, "name": "Northwind", "city": "Oakland", "state": "CA",
                       "zip": "94607", "country": "US"},
        "from_address": ADDRESS,
        "parcel": {"length": 15.7, "width": 11.8, "height": 7.9, "weight": 148.2},
        "customs_info": {"contents_type": "merchandise", "customs_items": []},
        "service": "Express",
    }
}  # fmt: skip
STORY_STEPS = 6
"""Tracker updates the carrier simulator's story sends after a purchase."""


@pytest.fixture(scope="module")
def nfkd_api(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> LiveApi:
    database = tmp_path_factory.mktemp("nfkd") / "store.db"
    return stack.serve_api(f"sqlite:///{database}", easypost_webhook_secret=SECRET)


@pytest.fixture
async def carrier(nfkd_api: LiveApi) -> AsyncIterator[str]:
    """The EasyPost simulator, posting its webhooks to ``nfkd_api``, with the same secret."""
    settings = SimulatorSettings(
        sim_ports={"easypost": 0}, api_url=nfkd_api.url, sim_time_scale=0.05,
        odoo_password=SecretStr("x"), tms_api_key=SecretStr("x"), dhl_api_key=SecretStr("x"),
        carrier_api_key=SecretStr(CARRIER_KEY), broker_api_key=SecretStr("x"),
        easypost_webhook_secret=SecretStr(SECRET), broker_webhook_secret=SecretStr("x"),
    )  # fmt: skip
    runner = web.AppRunner(create_carrier_app(settings), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


async def test_the_easypost_simulator_signs_a_non_ascii_secret_as_the_api_verifies_it(
    nfkd_api: LiveApi, carrier: str, temporal: Client
) -> None:
    shipment = await start_shipment(temporal)
    async with httpx.AsyncClient(timeout=30) as http:
        auth = httpx.BasicAuth(CARRIER_KEY, "")
        bought = await http.post(f"{carrier}/v2/shipments", json=BUY, auth=auth)
        assert bought.status_code == 201, bought.text
        link_tracking(nfkd_api.store, "easypost", bought.json()["tracking_code"], shipment.id)
        deadline = time.monotonic() + 60
        attempts: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            attempts = (await http.get(f"{carrier}/_sim/webhooks")).json()
            if sum(a["delivered"] for a in attempts) >= STORY_STEPS:
                break
            await asyncio.sleep(0.1)
        statuses = [a["status"] for a in attempts]
        assert sum(a["delivered"] for a in attempts) == STORY_STEPS, statuses
        assert 401 not in statuses, statuses  # never refused, not even once
    async with httpx.AsyncClient(base_url=nfkd_api.url, timeout=30) as api_http:
        events = await events_of(api_http, nfkd_api, shipment.id, STORY_STEPS)
        assert len(events) == STORY_STEPS  # 202s (before the link) delivered by redelivery
        assert {e["source"]["partner"] for e in events} == {"easypost"}

        # the control: signed with the raw UTF-8 secret, not normalized, it is refused
        body = easypost_event("EZ-NFKD-CONTROL")
        raw = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        refused = await api_http.post(
            "/v1/webhooks/easypost", content=body,
            headers={"X-Hmac-Signature": f"hmac-sha256-hex={raw}"},
        )  # fmt: skip
        assert refused.status_code == 401, refused.text
