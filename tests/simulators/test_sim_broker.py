"""Customs broker simulator: auth, validation, idempotency, status webhooks."""

import asyncio
import hashlib
import hmac
import re
import time
from datetime import datetime
from typing import Any

import httpx
import pytest
from sim_support import (
    CONSIGNEE,
    SECRETS,
    SHIPPER,
    TIME_SCALE,
    Delivery,
    Receiver,
    assert_problem,
    wait_until,
)

from simulators.app import RunningSimulators

AUTH = {"Authorization": f"Bearer {SECRETS['broker_api_key']}"}
WEBHOOK_PATH = "/v1/webhooks/broker"
MRN = re.compile(r"^\d{2}[A-Z]{2}[A-Z0-9]{14}$")
DECLARATION: dict[str, Any] = {
    "reference": "S00001",
    "direction": "export",
    "exporter": SHIPPER,
    "importer": CONSIGNEE,
    "origin_country": "DE",
    "destination_country": "US",
    "incoterm": "CIP",
    "tracking_number": "EZ9000000001",
    "goods": [
        {
            "description": "Rugged laptop",
            "hs_code": "847130",
            "origin_country": "CN",
            "quantity": "2",
            "value": {"amount": "1798.00", "currency": "EUR"},
        }
    ],
}


@pytest.fixture
def declarations_url(sims: RunningSimulators) -> str:
    return f"{sims.url('broker')}/api/v1/declarations"


def verify_broker(delivery: Delivery) -> None:
    """Check ``t=<unix>,v1=<hex>`` independently of the simulator's signing code."""
    header = delivery.headers["X-Broker-Signature"]
    parts = dict(item.split("=", 1) for item in header.split(","))
    assert set(parts) == {"t", "v1"}
    timestamp = int(parts["t"])
    assert abs(time.time() - timestamp) < 60
    secret = SECRETS["broker_webhook_secret"].encode()
    signed = f"{timestamp}.".encode() + delivery.body
    assert hmac.compare_digest(parts["v1"], hmac.new(secret, signed, hashlib.sha256).hexdigest())


async def test_auth(http: httpx.AsyncClient, declarations_url: str) -> None:
    assert_problem(await http.post(declarations_url, json=DECLARATION), 401)
    tms_key = {"Authorization": f"Bearer {SECRETS['tms_api_key']}"}
    assert_problem(await http.post(declarations_url, json=DECLARATION, headers=tms_key), 401)


async def test_validation(http: httpx.AsyncClient, declarations_url: str) -> None:
    goods = [{**DECLARATION["goods"][0], "hs_code": "84713", "value": {"amount": 12.5}}]
    broken = {**DECLARATION, "incoterm": "XYZ", "goods": goods, "direction": "sideways"}
    body = assert_problem(await http.post(declarations_url, json=broken, headers=AUTH), 422)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {
        "direction",
        "incoterm",
        "goods[0].hs_code",
        "goods[0].value.amount",
        "goods[0].value.currency",
    }
    missing = {k: v for k, v in DECLARATION.items() if k != "goods"}
    body = assert_problem(await http.post(declarations_url, json=missing, headers=AUTH), 422)
    assert [e["field"] for e in body["errors"]] == ["goods"]


async def test_filing_story(
    http: httpx.AsyncClient, sims: RunningSimulators, receiver: Receiver, declarations_url: str
) -> None:
    receiver.fail_next(WEBHOOK_PATH, 1)
    response = await http.post(declarations_url, json=DECLARATION, headers=AUTH)
    assert response.status_code == 201
    created = response.json()
    assert set(created) == {"id", "reference", "lrn", "mrn", "status"}
    assert created["id"] == "DEC-000001"
    assert (created["reference"], created["mrn"], created["status"]) == (
        "S00001",
        None,
        "SUBMITTED",
    )
    assert created["lrn"]

    await wait_until(lambda: len(receiver.accepted(WEBHOOK_PATH)) == 2)
    assert [d.status for d in receiver.deliveries] == [500, 200, 200]
    for delivery in receiver.deliveries:
        verify_broker(delivery)
    events = [d.json() for d in receiver.accepted(WEBHOOK_PATH)]
    assert [e["declaration"]["status"] for e in events] == ["ACCEPTED", "RELEASED"]
    assert events[0]["event_id"] != events[1]["event_id"]
    for event in events:
        assert event["event_id"].startswith("bev_")
        assert event["type"] == "declaration.status_changed"
        assert datetime.fromisoformat(event["occurred_at"]).utcoffset() is not None
        declaration = event["declaration"]
        assert set(declaration) == {"id", "reference", "lrn", "mrn", "status", "hold_reason"}
        assert declaration["id"] == "DEC-000001"
        assert declaration["lrn"] == created["lrn"]
        assert MRN.match(declaration["mrn"])
        assert declaration["mrn"][2:4] == "DE"
        assert declaration["hold_reason"] is None
    assert events[0]["declaration"]["mrn"] == events[1]["declaration"]["mrn"]
    fetched = (await http.get(f"{declarations_url}/DEC-000001", headers=AUTH)).json()
    assert fetched == events[1]["declaration"]
    attempts = (await http.get(f"{sims.url('broker')}/_sim/webhooks")).json()
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, 500), (2, 200), (1, 200)]
    cancel = await http.post(f"{declarations_url}/DEC-000001/cancel", headers=AUTH)
    assert_problem(cancel, 409)


async def test_cancel_stops_the_story(
    http: httpx.AsyncClient, receiver: Receiver, declarations_url: str
) -> None:
    await http.post(declarations_url, json=DECLARATION, headers=AUTH)
    cancelled = await http.post(f"{declarations_url}/DEC-000001/cancel", headers=AUTH)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "CANCELLED"
    await asyncio.sleep(TIME_SCALE * 4)
    assert receiver.deliveries == []
    fetched = (await http.get(f"{declarations_url}/DEC-000001", headers=AUTH)).json()
    assert fetched["status"] == "CANCELLED"
    assert_problem(await http.get(f"{declarations_url}/DEC-000404", headers=AUTH), 404)


async def test_idempotent_filing(
    http: httpx.AsyncClient, sims: RunningSimulators, receiver: Receiver, declarations_url: str
) -> None:
    headers = {**AUTH, "Idempotency-Key": "declare-S00001"}
    first = await http.post(declarations_url, json=DECLARATION, headers=headers)
    replay = await http.post(declarations_url, json=DECLARATION, headers=headers)
    assert (first.status_code, first.content) == (replay.status_code, replay.content)
    changed = {**DECLARATION, "tracking_number": "EZ9000000002"}
    conflict = await http.post(declarations_url, json=changed, headers=headers)
    assert assert_problem(conflict, 422)["type"].endswith("/idempotency-conflict")
    await wait_until(lambda: len(receiver.accepted(WEBHOOK_PATH)) == 2)
    await asyncio.sleep(TIME_SCALE * 4)
    assert len(receiver.deliveries) == 2
    stored = (await http.get(f"{sims.url('broker')}/_sim/declarations")).json()
    assert len(stored) == 1
    assert stored[0]["request"]["goods"][0]["hs_code"] == "847130"
