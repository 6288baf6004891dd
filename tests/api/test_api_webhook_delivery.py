"""Webhooks into running shipments: partners reach only their own, and nothing is lost.

Signed payloads go to the live API; the tracking links are written in its store, as the
booking step does. What reaches a workflow is read back through its status query.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from api_support import start_shipment
from live import LiveApi, Stack
from temporalio.client import Client
from webhook_payloads import broker_event, easypost_event, send

from store.tokens import Role
from store.tracking import link_tracking


@pytest.fixture
async def http(api: LiveApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as client:
        yield client


async def events_of(
    http: httpx.AsyncClient, api: LiveApi, shipment_id: str, expected: int, timeout_s: float = 60
) -> list[dict[str, Any]]:
    """The shipment's events once it lists ``expected`` (or the deadline passed)."""
    headers = api.headers(Role.SUPPORT)
    deadline = time.monotonic() + timeout_s
    while True:
        reply = await http.get(f"/v1/shipments/{shipment_id}", headers=headers)
        events: list[dict[str, Any]] = reply.json().get("events", []) if reply.is_success else []
        if len(events) >= expected or time.monotonic() > deadline:
            return events
        await asyncio.sleep(0.3)


async def test_a_carrier_cannot_reach_another_carriers_shipment(
    api: LiveApi, http: httpx.AsyncClient, temporal: Client
) -> None:
    theirs = await start_shipment(temporal, carrier="dhl")
    ours = await start_shipment(temporal)
    dhl_number, our_number = f"JD{uuid.uuid4().hex[:10]}", f"EZ{uuid.uuid4().hex[:10]}"
    link_tracking(api.store, "dhl", dhl_number, theirs.id)
    link_tracking(api.store, "easypost", our_number, ours.id)

    refused = await send(http, "easypost", easypost_event(dhl_number))
    assert refused.status_code == 202, refused.text  # kept, never signalled
    assert refused.json()["state"] == "dead"
    dead = (await http.get("/v1/inbox", params={"state": "dead", "limit": 200},
                           headers=api.headers(Role.ADMIN))).json()["items"]  # fmt: skip
    (letter,) = [m for m in dead if m["id"] == refused.json()["inbox_id"]]
    assert letter["reason"] == (f"refused: tracking number {dhl_number} is not easypost's: it is "
                                f"linked to dhl ({theirs.id})")  # fmt: skip
    assert letter["shipment_id"] is None
    # a replay refuses it again
    replay = await http.post(f"/v1/inbox/{letter['id']}/replay", headers=api.headers(Role.ADMIN))
    assert replay.json()["state"] == "dead"

    accepted = await send(http, "easypost", easypost_event(our_number))
    assert accepted.status_code == 200 and accepted.json()["state"] == "delivered"
    assert len(await events_of(http, api, ours.id, 1)) == 1
    # the refused shipment saw nothing; the broker, which names shipments by our reference,
    # reaches it
    assert await events_of(http, api, theirs.id, 0) == []
    broker = await send(http, "broker", broker_event(theirs.id))
    assert broker.status_code == 200 and broker.json()["state"] == "delivered"
    (event,) = await events_of(http, api, theirs.id, 1)
    assert event["source"]["partner"] == "broker"


async def test_a_webhook_accepted_while_no_worker_runs_reaches_the_workflow_later(
    stack: Stack, api: LiveApi, http: httpx.AsyncClient, temporal: Client
) -> None:
    queue = f"worker-down-{uuid.uuid4().hex[:8]}"
    shipment = await start_shipment(temporal, task_queue=queue)  # no worker polls `queue`
    number = f"EZ{uuid.uuid4().hex[:10]}"
    link_tracking(api.store, "easypost", number, shipment.id)
    tracking = easypost_event(number, event_id=f"evt_{uuid.uuid4().hex[:12]}")
    first = await send(http, "easypost", tracking)
    assert first.status_code == 200 and first.json()["state"] == "delivered", first.text
    again = await send(http, "easypost", tracking)  # a partner's redelivery
    assert again.status_code == 200 and again.json()["duplicate"] is True
    customs = await send(http, "broker", broker_event(shipment.id))
    assert customs.status_code == 200 and customs.json()["state"] == "delivered"

    stack.start_worker(queue)
    try:
        events = await events_of(http, api, shipment.id, 2)
    finally:
        await shipment.terminate()
        stack.stop_worker(queue)
    assert sorted(e["source"]["partner"] for e in events) == ["broker", "easypost"]
    assert len({e["event_id"] for e in events}) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [("limit=0", "limit"), ("limit=201", "limit"), ("after=-1", "after"),
     ("after=2147483648", "after"), ("state=bogus", "state"), ("limit=ten", "limit")],
)  # fmt: skip
async def test_a_bad_inbox_query_is_a_400_naming_the_parameter(
    api: LiveApi, http: httpx.AsyncClient, query: str, field: str
) -> None:
    reply = await http.get(f"/v1/inbox?{query}", headers=api.headers(Role.ADMIN))
    assert reply.status_code == 400, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert reply.json()["title"] == "Bad query" and field in reply.json()["detail"]
