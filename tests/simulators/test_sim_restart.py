"""State across restarts (``sim_state_dir``): records, idempotency keys and unfinished stories."""

import asyncio
import stat
from pathlib import Path
from typing import Any

import httpx
from sim_support import (
    CONSIGNEE,
    SECRETS,
    SHIPPER,
    Receiver,
    poll_until,
    running,
    set_faults,
    wait_until,
)
from test_sim_broker import AUTH as BROKER_AUTH
from test_sim_broker import DECLARATION
from test_sim_carrier import AUTH as EASYPOST_AUTH
from test_sim_carrier import BUY, STORY
from test_sim_dhl import AUTH as DHL_AUTH
from test_sim_dhl import BOOKING

SCALE = 0.1  # slow enough to stop a story between two steps
TMS_AUTH = {"Authorization": f"Bearer {SECRETS['tms_api_key']}"}
ORDER = {"reference": "S00001", "shipper": SHIPPER, "consignee": CONSIGNEE,
         "packages": [{"weight_kg": 2}], "carrier": "dhl"}  # fmt: skip


def unique_events(receiver: Receiver, path: str, key: str) -> list[dict[str, Any]]:
    """Accepted webhook bodies, first delivery of each event id only (at-least-once)."""
    seen: dict[str, dict[str, Any]] = {}
    for delivery in receiver.accepted(path):
        body = delivery.json()
        seen.setdefault(body[key], body)
    return list(seen.values())


def assert_private_and_tidy(directory: Path, names: set[str]) -> None:
    """Exactly ``names`` (no temp files left behind), each readable by its owner only."""
    assert {p.name for p in directory.iterdir()} == names
    for name in names:
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600


async def test_tms_orders_and_idempotency_keys(tmp_path: Path, http: httpx.AsyncClient) -> None:
    headers = {**TMS_AUTH, "Idempotency-Key": "to-S00001"}
    async with running("http://127.0.0.1:9", sim_state_dir=tmp_path) as sims:
        url = f"{sims.url('tms')}/api/v1/transport-orders"
        first = await http.post(url, json=ORDER, headers=headers)
        assert first.status_code == 201
    assert_private_and_tidy(tmp_path, {"tms.json"})
    async with running("http://127.0.0.1:9", sim_state_dir=tmp_path) as sims:
        url = f"{sims.url('tms')}/api/v1/transport-orders"
        replay = await http.post(url, json=ORDER, headers=headers)
        assert (replay.status_code, replay.content) == (201, first.content)
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert (await http.get(f"{url}/TO-000001", headers=TMS_AUTH)).json()["status"] == "CREATED"
        second = await http.post(url, json=ORDER, headers=TMS_AUTH)
        assert second.json()["id"] == "TO-000002"
    assert_private_and_tidy(tmp_path, {"tms.json"})  # files appear with the first write


async def test_easypost_story_resumes(
    tmp_path: Path, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    path = "/v1/webhooks/easypost"
    options: dict[str, Any] = {"sim_state_dir": tmp_path, "sim_time_scale": SCALE}
    headers = {"Idempotency-Key": "buy-S00001"}
    async with running(receiver.url, **options) as sims:
        url = f"{sims.url('easypost')}/v2/shipments"
        bought = await http.post(url, json=BUY, auth=EASYPOST_AUTH, headers=headers)
        await wait_until(lambda: len(receiver.accepted(path)) >= 2)
    before = len(unique_events(receiver, path, "id"))
    assert before < len(STORY)
    async with running(receiver.url, **options) as sims:
        url = f"{sims.url('easypost')}/v2/shipments"
        replay = await http.post(url, json=BUY, auth=EASYPOST_AUTH, headers=headers)
        assert replay.content == bought.content
        await wait_until(lambda: len(unique_events(receiver, path, "id")) == len(STORY))
        events = unique_events(receiver, path, "id")
        steps = [(e["result"]["status"], e["result"]["status_detail"]) for e in events]
        assert steps == STORY
        assert len(events[-1]["result"]["tracking_details"]) == len(STORY)
        shipments = (await http.get(f"{sims.url('easypost')}/_sim/shipments")).json()
        assert [s["id"] for s in shipments] == [bought.json()["id"]]
        await asyncio.sleep(SCALE * 2)
        assert len(unique_events(receiver, path, "id")) == len(STORY)  # nothing after delivery


async def test_dhl_story_resumes(tmp_path: Path, http: httpx.AsyncClient) -> None:
    options: dict[str, Any] = {"sim_state_dir": tmp_path, "sim_time_scale": SCALE}

    async def events(base: str, number: str) -> list[dict[str, Any]]:
        query = {"trackingNumber": number}
        response = await http.get(f"{base}/track/shipments", params=query, headers=DHL_AUTH)
        found: list[dict[str, Any]] = response.json()["shipments"][0]["events"]
        return found

    async def at_least(base: str, count: int) -> bool:
        return len(await events(base, number)) >= count

    async with running("http://127.0.0.1:9", **options) as sims:
        booking = await http.post(f"{sims.url('dhl')}/shipments", json=BOOKING, headers=DHL_AUTH)
        number = booking.json()["shipmentTrackingNumber"]
        await poll_until(lambda: at_least(sims.url("dhl"), 2))
    async with running("http://127.0.0.1:9", **options) as sims:
        search = f"{sims.url('dhl')}/shipments?customerReference=S00001"
        assert (await http.get(search, headers=DHL_AUTH)).json() == {"shipments": [booking.json()]}
        assert len(await events(sims.url("dhl"), number)) < 6
        await poll_until(lambda: at_least(sims.url("dhl"), 6))
        codes = [e["statusCode"] for e in reversed(await events(sims.url("dhl"), number))]
        assert codes == ["pre-transit", "transit", "transit", "transit", "transit", "delivered"]
        second = await http.post(f"{sims.url('dhl')}/shipments", json=BOOKING, headers=DHL_AUTH)
        assert int(second.json()["shipmentTrackingNumber"]) == int(number) + 1


async def test_broker_stories_resume_and_held_stays_held(
    tmp_path: Path, http: httpx.AsyncClient, receiver: Receiver
) -> None:
    path = "/v1/webhooks/broker"
    options: dict[str, Any] = {"sim_state_dir": tmp_path, "sim_time_scale": SCALE}
    async with running(receiver.url, **options) as sims:
        await set_faults(http, sims.url("broker"), customs={"hold_next": 1})
        url = f"{sims.url('broker')}/api/v1/declarations"
        held = (await http.post(url, json=DECLARATION, headers=BROKER_AUTH)).json()["id"]
        normal = (await http.post(url, json=DECLARATION, headers=BROKER_AUTH)).json()["id"]
        await wait_until(lambda: len(unique_events(receiver, path, "event_id")) >= 2)
    async with running(receiver.url, **options) as sims:
        url = f"{sims.url('broker')}/api/v1/declarations"
        await wait_until(lambda: len(unique_events(receiver, path, "event_id")) == 4)
        events = [
            (e["declaration"]["id"], e["declaration"]["status"])
            for e in unique_events(receiver, path, "event_id")
        ]
        assert [s for d, s in events if d == held] == ["ACCEPTED", "HELD"]
        assert [s for d, s in events if d == normal] == ["ACCEPTED", "RELEASED"]
        await asyncio.sleep(SCALE * 2)
        assert (await http.get(f"{url}/{held}", headers=BROKER_AUTH)).json()["status"] == "HELD"
    async with running(receiver.url, **options) as sims:  # a held one waits across restarts
        await asyncio.sleep(SCALE * 2)
        url = f"{sims.url('broker')}/api/v1/declarations"
        assert (await http.get(f"{url}/{held}", headers=BROKER_AUTH)).json()["status"] == "HELD"
        released = await http.post(f"{sims.url('broker')}/_sim/declarations/{held}/release")
        assert released.json()["status"] == "RELEASED"
        await wait_until(lambda: len(unique_events(receiver, path, "event_id")) == 5)
