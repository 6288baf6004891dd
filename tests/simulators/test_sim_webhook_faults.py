"""Outbound webhook faults: drop, duplicate (identical body twice) and reorder (swap pairs)."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from sim_support import Receiver, poll_until, serving, set_faults, wait_until
from test_sim_broker import AUTH as BROKER_AUTH
from test_sim_broker import DECLARATION
from test_sim_carrier import AUTH, BUY, WEBHOOK_PATH

from simulators.app import RunningSimulators
from simulators.faults import Faults, FaultState, WebhookFaults
from simulators.webhooks import RetryPolicy, WebhookSender


class Recorder:
    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.read())
        return web.Response(status=200)


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[Recorder, str]]:
    recorder = Recorder()
    app = web.Application()
    app.router.add_post("/hook", recorder.handle)
    async with serving(app) as url:
        yield recorder, f"{url}/hook"


def sender_with(url: str, **webhooks: object) -> tuple[WebhookSender, FaultState]:
    faults = FaultState("test", Faults(webhooks=WebhookFaults.model_validate(webhooks)))
    sender = WebhookSender(
        name="test",
        url=url,
        headers=lambda body: {},
        policy=RetryPolicy(initial_delay=0.01, max_delay=0.02, give_up_after=5),
        faults=faults,
        reorder_window=0.1,
    )
    return sender, faults


def submit_all(sender: WebhookSender, names: str, key: str = "k") -> None:
    for name in names:
        sender.submit(event_id=name, payload={"n": name}, ordering_key=key)


async def test_drop(endpoint: tuple[Recorder, str]) -> None:
    recorder, url = endpoint
    sender, faults = sender_with(url, drop_rate=1.0)
    try:
        submit_all(sender, "abc")
        await asyncio.sleep(0.1)
        assert recorder.bodies == []
        assert [(a["event_id"], a["attempt"], a["dropped"]) for a in sender.attempts] == [
            ("a", 0, True),
            ("b", 0, True),
            ("c", 0, True),
        ]
        assert faults.injected["webhook_drop"] == 3
        assert sender.pending() == []
    finally:
        await sender.close()


async def test_drop_rate_is_deterministic(endpoint: tuple[Recorder, str]) -> None:
    patterns = []
    for _ in range(2):
        sender, _ = sender_with(endpoint[1], drop_rate=0.5)
        submit_all(sender, "abcdefghijklmnop")
        patterns.append([a["event_id"] for a in sender.attempts if a["dropped"]])
        await sender.close()
    assert patterns[0] == patterns[1]
    assert 0 < len(patterns[0]) < 16


async def test_duplicate(endpoint: tuple[Recorder, str]) -> None:
    recorder, url = endpoint
    sender, faults = sender_with(url, duplicate_rate=1.0)
    try:
        submit_all(sender, "ab")
        await wait_until(lambda: len(recorder.bodies) == 4)
        assert recorder.bodies == [b'{"n":"a"}', b'{"n":"a"}', b'{"n":"b"}', b'{"n":"b"}']
        assert [a["duplicate"] for a in sender.attempts] == [False, True, False, True]
        assert faults.injected["webhook_duplicate"] == 2
    finally:
        await sender.close()


async def test_reorder(endpoint: tuple[Recorder, str]) -> None:
    recorder, url = endpoint
    sender, faults = sender_with(url, reorder=True)
    try:
        submit_all(sender, "abcd")
        submit_all(sender, "x", key="other")  # no successor: sent after the reorder window
        await wait_until(lambda: len(recorder.bodies) == 5)
        order = [body.decode()[6] for body in recorder.bodies]
        assert [n for n in order if n != "x"] == ["b", "a", "d", "c"]  # pairs swapped
        assert "x" in order
        assert faults.injected["webhook_reorder"] == 2
    finally:
        await sender.close()


async def test_dropped_tracking_webhooks_leave_polling(
    http: httpx.AsyncClient, sims: RunningSimulators, receiver: Receiver
) -> None:
    await set_faults(http, sims.url("easypost"), webhooks={"drop_rate": 1.0})
    shipment = (await http.post(f"{sims.url('easypost')}/v2/shipments", json=BUY, auth=AUTH)).json()
    tracker_url = f"{sims.url('easypost')}/v2/trackers/{shipment['tracker']['id']}"

    async def attempts() -> list[dict[str, object]]:
        return list((await http.get(f"{sims.url('easypost')}/_sim/webhooks")).json())

    async def all_dropped() -> bool:
        return len(await attempts()) == 6

    await poll_until(all_dropped)
    assert all(a["dropped"] and not a["delivered"] for a in await attempts())
    assert receiver.accepted(WEBHOOK_PATH) == []
    assert (await http.get(tracker_url, auth=AUTH)).json()["status"] == "delivered"


async def test_reordered_broker_webhooks(
    http: httpx.AsyncClient, sims: RunningSimulators, receiver: Receiver
) -> None:
    await set_faults(http, sims.url("broker"), webhooks={"reorder": True})
    url = f"{sims.url('broker')}/api/v1/declarations"
    await http.post(url, json=DECLARATION, headers=BROKER_AUTH)
    await wait_until(lambda: len(receiver.accepted("/v1/webhooks/broker")) == 2)
    seen = [d.json()["declaration"]["status"] for d in receiver.accepted("/v1/webhooks/broker")]
    assert seen == ["RELEASED", "ACCEPTED"]
