"""Carrier (EasyPost-style) simulator: auth, validation, idempotency, tracking webhooks."""

import asyncio
import hashlib
import hmac
import time
from datetime import datetime
from typing import Any

import httpx
import pytest
from sim_support import SECRETS, TIME_SCALE, Delivery, Receiver, make_settings, wait_until

from simulators.app import RunningSimulators, start_simulators

AUTH = httpx.BasicAuth(SECRETS["carrier_api_key"], "")
WEBHOOK_PATH = "/v1/webhooks/easypost"
ADDRESS = {"name": "Borderflow Demo GmbH", "street1": "Am Sandtorkai 50", "city": "Hamburg",
           "zip": "20457", "country": "DE", "email": "ops@example.com"}  # fmt: skip
BUY: dict[str, Any] = {
    "shipment": {
        "reference": "S00001",
        "to_address": {**ADDRESS, "name": "Northwind", "city": "Oakland", "state": "CA",
                       "zip": "94607", "country": "US"},
        "from_address": ADDRESS,
        "parcel": {"length": 15.7, "width": 11.8, "height": 7.9, "weight": 148.2},
        "customs_info": {"contents_type": "merchandise", "customs_items": []},
        "service": "Express",
    }
}  # fmt: skip
STORY = [
    ("pre_transit", "label_created"),
    ("in_transit", "package_accepted"),
    ("in_transit", "departed_facility"),
    ("in_transit", "arrived_at_destination"),
    ("out_for_delivery", "out_for_delivery"),
    ("delivered", "arrived_at_destination"),
]


@pytest.fixture
def shipments_url(sims: RunningSimulators) -> str:
    return f"{sims.url('easypost')}/v2/shipments"


def verify_easypost(delivery: Delivery) -> None:
    """Check the signature independently of the simulator's signing code."""
    secret = SECRETS["easypost_webhook_secret"].encode()
    expected = hmac.new(secret, delivery.body, hashlib.sha256).hexdigest()
    assert delivery.headers["X-Hmac-Signature"] == f"hmac-sha256-hex={expected}"


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    error: dict[str, Any] = response.json()["error"]
    assert set(error) == {"code", "message", "errors"}
    return error


async def test_auth(http: httpx.AsyncClient, shipments_url: str) -> None:
    assert_error(await http.post(shipments_url, json=BUY), 401)
    wrong_key = httpx.BasicAuth("nope", "")
    assert_error(await http.post(shipments_url, json=BUY, auth=wrong_key), 401)
    with_password = httpx.BasicAuth(SECRETS["carrier_api_key"], "x")
    assert_error(await http.get(f"{shipments_url}/shp_x", auth=with_password), 401)
    bearer = {"Authorization": f"Bearer {SECRETS['carrier_api_key']}"}
    assert_error(await http.get(f"{shipments_url}/shp_x", headers=bearer), 401)
    assert_error(await http.get(f"{shipments_url}/shp_x", auth=AUTH), 404)


async def test_validation(http: httpx.AsyncClient, shipments_url: str) -> None:
    shipment = {k: v for k, v in BUY["shipment"].items() if k != "to_address"}
    shipment["parcel"] = {"length": 1, "weight": -2}
    error = assert_error(
        await http.post(shipments_url, json={"shipment": shipment}, auth=AUTH), 422
    )
    fields = {e["field"] for e in error["errors"]}
    assert fields == {"shipment.to_address", "shipment.parcel.weight"}
    error = assert_error(await http.post(shipments_url, content=b"[", auth=AUTH), 400)
    assert error["errors"] == []


async def test_buy_and_tracking_story(
    http: httpx.AsyncClient, sims: RunningSimulators, receiver: Receiver, shipments_url: str
) -> None:
    response = await http.post(shipments_url, json=BUY, auth=AUTH)
    assert response.status_code == 201
    shipment = response.json()
    assert shipment["object"] == "Shipment"
    assert shipment["id"].startswith("shp_")
    assert shipment["reference"] == "S00001"
    assert shipment["tracking_code"].startswith("EZ")
    assert shipment["status"] == "unknown"
    assert {"carrier", "service", "rate", "currency"} <= set(shipment["selected_rate"])
    assert shipment["selected_rate"]["service"] == "Express"
    assert shipment["tracker"]["id"].startswith("trk_")
    assert shipment["tracker"]["status"] == "pre_transit"
    label = await http.get(shipment["postage_label"]["label_url"])
    assert label.content.startswith(b"\x89PNG")
    assert receiver.deliveries == []  # the story starts one step after the purchase

    await wait_until(lambda: len(receiver.accepted(WEBHOOK_PATH)) == len(STORY))
    events = []
    for delivery in receiver.accepted(WEBHOOK_PATH):
        verify_easypost(delivery)
        events.append(delivery.json())
    assert len({e["id"] for e in events}) == len(STORY)
    previous = "pre_transit"
    for index, (event, (status, detail)) in enumerate(zip(events, STORY, strict=True)):
        assert event["object"] == "Event"
        assert event["id"].startswith("evt_")
        assert event["description"] == "tracker.updated"
        assert event["mode"] == "test"
        assert event["previous_attributes"] == {"status": previous}
        previous = status
        tracker = event["result"]
        assert tracker["object"] == "Tracker"
        assert tracker["id"] == shipment["tracker"]["id"]
        assert tracker["shipment_id"] == shipment["id"]
        assert tracker["tracking_code"] == shipment["tracking_code"]
        assert (tracker["status"], tracker["status_detail"]) == (status, detail)
        history = tracker["tracking_details"]
        assert [(d["status"], d["status_detail"]) for d in history] == STORY[: index + 1]
        for moment in [
            tracker["updated_at"],
            event["created_at"],
            *(d["datetime"] for d in history),
        ]:
            assert datetime.fromisoformat(moment).tzinfo is not None
        assert tracker["signed_by"] == ("J. SMITH" if status == "delivered" else None)
    assert events[0]["result"]["tracking_details"][0]["tracking_location"]["city"] == "Hamburg"
    assert events[-1]["result"]["tracking_details"][-1]["tracking_location"]["city"] == "Oakland"

    tracker_id = shipment["tracker"]["id"]
    tracker = (await http.get(f"{sims.url('easypost')}/v2/trackers/{tracker_id}", auth=AUTH)).json()
    assert tracker["status"] == "delivered"
    assert len(tracker["tracking_details"]) == len(STORY)
    current = (await http.get(f"{shipments_url}/{shipment['id']}", auth=AUTH)).json()
    assert current["status"] == "delivered"
    attempts = (await http.get(f"{sims.url('easypost')}/_sim/webhooks")).json()
    assert [a["status"] for a in attempts] == [200] * len(STORY)


async def test_story_steps_are_paced(
    http: httpx.AsyncClient, receiver: Receiver, shipments_url: str
) -> None:
    started = time.monotonic()
    await http.post(shipments_url, json=BUY, auth=AUTH)
    await wait_until(lambda: len(receiver.accepted(WEBHOOK_PATH)) == len(STORY))
    for step, delivery in enumerate(receiver.deliveries, start=1):
        assert delivery.at - started >= 0.8 * step * TIME_SCALE
    stamps = [d.json()["result"]["updated_at"] for d in receiver.deliveries]
    assert stamps == sorted(stamps)


async def test_webhook_retried_after_500(
    http: httpx.AsyncClient, sims: RunningSimulators, receiver: Receiver, shipments_url: str
) -> None:
    receiver.fail_next(WEBHOOK_PATH, 2)
    await http.post(shipments_url, json=BUY, auth=AUTH)
    await wait_until(lambda: len(receiver.accepted(WEBHOOK_PATH)) == len(STORY))
    statuses = [d.status for d in receiver.deliveries]
    assert statuses == [500, 500] + [200] * len(STORY)
    first_id = receiver.deliveries[0].json()["id"]
    assert [d.json()["id"] for d in receiver.deliveries[:3]] == [first_id] * 3
    for delivery in receiver.deliveries:
        verify_easypost(delivery)
    accepted = [d.json()["result"]["status_detail"] for d in receiver.accepted(WEBHOOK_PATH)]
    assert accepted == [detail for _, detail in STORY]  # order survives the retries
    attempts = (await http.get(f"{sims.url('easypost')}/_sim/webhooks")).json()
    first = [a for a in attempts if a["event_id"] == first_id]
    assert [(a["attempt"], a["status"], a["delivered"]) for a in first] == [
        (1, 500, False),
        (2, 500, False),
        (3, 200, True),
    ]


async def test_idempotent_purchase_starts_one_story(
    http: httpx.AsyncClient, sims: RunningSimulators, receiver: Receiver, shipments_url: str
) -> None:
    headers = {"Idempotency-Key": "buy-S00001"}
    first = await http.post(shipments_url, json=BUY, auth=AUTH, headers=headers)
    replay = await http.post(shipments_url, json=BUY, auth=AUTH, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.content == first.content
    conflict = await http.post(
        shipments_url,
        json={"shipment": {**BUY["shipment"], "reference": "S00002"}},
        auth=AUTH,
        headers=headers,
    )
    assert assert_error(conflict, 422)["code"] == "IDEMPOTENCY.CONFLICT"
    await wait_until(lambda: len(receiver.accepted(WEBHOOK_PATH)) == len(STORY))
    shipments = (await http.get(f"{sims.url('easypost')}/_sim/shipments")).json()
    assert [s["id"] for s in shipments] == [first.json()["id"]]
    # Give a would-be second story time to run: still exactly one set of events.
    await asyncio.sleep(TIME_SCALE * (len(STORY) + 2))
    assert len(receiver.deliveries) == len(STORY)


async def test_close_mid_story_stops_everything(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    running = await start_simulators(make_settings(receiver.url))
    await http.post(f"{running.url('easypost')}/v2/shipments", json=BUY, auth=AUTH)
    await wait_until(lambda: len(receiver.deliveries) >= 1)
    await running.close()
    names = {t.get_name() for t in asyncio.all_tasks()}
    assert not any(n.startswith(("story:", "webhook:")) for n in names)
    seen = len(receiver.deliveries)
    await asyncio.sleep(TIME_SCALE * (len(STORY) + 2))
    assert len(receiver.deliveries) == seen < len(STORY)
    await running.close()  # idempotent
