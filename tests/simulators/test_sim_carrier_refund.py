"""EasyPost-style carrier: label refunds and refused bookings."""

import asyncio

import httpx
from sim_support import TIME_SCALE, Receiver, set_faults, wait_until
from test_sim_carrier import AUTH, BUY, WEBHOOK_PATH, assert_error

from simulators.app import RunningSimulators


async def test_refund_is_repeat_safe_and_stops_the_story(
    http: httpx.AsyncClient, sims: RunningSimulators, receiver: Receiver
) -> None:
    shipment = (await http.post(f"{sims.url('easypost')}/v2/shipments", json=BUY, auth=AUTH)).json()
    assert shipment["refund_status"] is None
    refund_url = f"{sims.url('easypost')}/v2/shipments/{shipment['id']}/refund"
    first = await http.post(refund_url, auth=AUTH)
    assert first.status_code == 200
    refunded = first.json()
    assert refunded["id"] == shipment["id"]
    assert refunded["refund_status"] == "submitted"
    steps_before = len(refunded["tracker"]["tracking_details"])
    again = await http.post(refund_url, auth=AUTH, headers={"Idempotency-Key": "refund-1"})
    assert again.status_code == 200 and again.json()["refund_status"] == "submitted"
    await asyncio.sleep(TIME_SCALE * 8)
    current = (
        await http.get(f"{sims.url('easypost')}/v2/shipments/{shipment['id']}", auth=AUTH)
    ).json()
    assert current["refund_status"] == "submitted"
    assert len(current["tracker"]["tracking_details"]) == steps_before < 6
    await wait_until(lambda: len(receiver.accepted(WEBHOOK_PATH)) == steps_before)
    missing = await http.post(f"{sims.url('easypost')}/v2/shipments/shp_nope/refund", auth=AUTH)
    assert assert_error(missing, 404)["code"] == "NOT_FOUND"
    assert_error(await http.post(refund_url), 401)


async def test_refused_booking(http: httpx.AsyncClient, sims: RunningSimulators) -> None:
    await set_faults(http, sims.url("easypost"), reject_bookings=1)
    headers = {"Idempotency-Key": "buy-S00001"}
    url = f"{sims.url('easypost')}/v2/shipments"
    refused = await http.post(url, json=BUY, auth=AUTH, headers=headers)
    error = assert_error(refused, 422)
    assert error["code"] == "SHIPMENT.POSTAGE.FAILURE"
    assert error["message"]
    retried = await http.post(url, json=BUY, auth=AUTH, headers=headers)  # the key stayed free
    assert retried.status_code == 201
    assert len((await http.get(f"{sims.url('easypost')}/_sim/shipments")).json()) == 1
    counters = (await http.get(f"{sims.url('easypost')}/_sim/faults")).json()["injected"]
    assert counters["reject_bookings"] == 1
