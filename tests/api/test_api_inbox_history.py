"""The inbox keeps each message's delivery history; replays are one attempt; late is not dead.

Signed payloads go to a live API of this module's own (its redelivery loop and gauges run
every 0.2 s; a shipment no workflow matches is dead at once), against the real dev server and
the stand-in worker. Shipments end through the stand-in's ``set_stage`` signal.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from api_support import inbox_item, start_shipment
from live import LiveApi, Stack
from temporalio.client import Client, WorkflowHandle
from webhook_payloads import broker_event, easypost_event, send

from canonical.shipment import Stage
from store.tokens import Role
from store.tracking import link_tracking

LOOP_S = 0.2


@pytest.fixture(scope="module")
def inbox_api(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    database = tmp_path_factory.mktemp("inbox") / "store.db"
    api = stack.serve_api(f"sqlite:///{database}", inbox_redelivery_s=LOOP_S,
                          inbox_unknown_grace_s=0, metrics_refresh_s=LOOP_S)  # fmt: skip
    yield api
    stack.stop_api(api)  # its gauges loop every LOOP_S: it must not outlive this module


@pytest.fixture
async def http(inbox_api: LiveApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=inbox_api.url, timeout=30) as client:
        yield client


async def item(http: httpx.AsyncClient, api: LiveApi, message_id: int) -> dict[str, Any]:
    return await inbox_item(http, api.headers(Role.ADMIN), message_id)


async def replay(http: httpx.AsyncClient, api: LiveApi, message_id: int) -> dict[str, Any]:
    reply = await http.post(f"/v1/inbox/{message_id}/replay", headers=api.headers(Role.ADMIN))
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


async def tracked_shipment(temporal: Client, api: LiveApi) -> tuple[WorkflowHandle, str]:
    shipment = await start_shipment(temporal)
    number = f"EZ{uuid.uuid4().hex[:10]}"
    link_tracking(api.store, "easypost", number, shipment.id)
    return shipment, number


async def end(shipment: WorkflowHandle) -> None:
    await shipment.signal("set_stage", Stage.INVOICED)
    await shipment.result()


async def untouched_by_the_loop(
    http: httpx.AsyncClient, api: LiveApi, message: dict[str, Any]
) -> None:
    """Several rounds of the redelivery loop pass and the message is as it was."""
    await asyncio.sleep(10 * LOOP_S)
    assert await item(http, api, message["id"]) == message


async def test_a_replay_of_a_delivered_message_delivers_it_once_more_and_keeps_its_history(
    inbox_api: LiveApi, http: httpx.AsyncClient, temporal: Client
) -> None:
    shipment, number = await tracked_shipment(temporal, inbox_api)
    sent = await send(http, "easypost", easypost_event(number))
    assert sent.status_code == 200 and sent.json()["state"] == "delivered", sent.text
    first = await item(http, inbox_api, sent.json()["inbox_id"])
    assert (first["attempts"], first["deliveries"], first["replays"]) == (1, 1, 0)
    assert first["delivered_at"] is not None and first["replayed_at"] is None

    replayed = await replay(http, inbox_api, first["id"])
    assert (replayed["outcome"], replayed["state"]) == ("delivered", "delivered")
    assert (replayed["attempts"], replayed["deliveries"], replayed["replays"]) == (2, 2, 1)
    assert replayed["delivered_at"] == first["delivered_at"]  # when it was first delivered
    replayed_at = datetime.fromisoformat(replayed["replayed_at"])
    assert replayed_at > datetime.fromisoformat(first["delivered_at"])
    listed = await item(http, inbox_api, first["id"])
    assert listed == {k: v for k, v in replayed.items() if k != "outcome"}
    await untouched_by_the_loop(http, inbox_api, listed)
    status = await temporal.get_workflow_handle(shipment.id).query("status")
    assert len(status["events"]) == 1  # the workflow recorded the event once
    await shipment.terminate()


async def test_a_replay_after_the_shipment_ended_leaves_a_delivered_message_delivered(
    inbox_api: LiveApi, http: httpx.AsyncClient, temporal: Client
) -> None:
    shipment, number = await tracked_shipment(temporal, inbox_api)
    sent = await send(http, "easypost", easypost_event(number))
    assert sent.json()["state"] == "delivered", sent.text
    await end(shipment)

    replayed = await replay(http, inbox_api, sent.json()["inbox_id"])
    assert (replayed["outcome"], replayed["state"]) == ("late", "delivered")
    assert replayed["last_outcome"] == "late" and "had ended (completed)" in replayed["reason"]
    assert (replayed["attempts"], replayed["deliveries"], replayed["replays"]) == (2, 1, 1)
    await untouched_by_the_loop(
        http, inbox_api, {k: v for k, v in replayed.items() if k != "outcome"}
    )


async def test_a_webhook_after_its_shipment_ended_is_kept_late_and_counted(
    inbox_api: LiveApi, http: httpx.AsyncClient, temporal: Client
) -> None:
    shipment, number = await tracked_shipment(temporal, inbox_api)
    await end(shipment)

    sent = await send(http, "easypost", easypost_event(number))
    assert sent.status_code == 202 and sent.json()["state"] == "late", sent.text
    late = await item(http, inbox_api, sent.json()["inbox_id"])
    assert (late["state"], late["last_outcome"], late["attempts"]) == ("late", "late", 1)
    assert late["shipment_id"] == shipment.id and late["delivered_at"] is None
    assert late["reason"].startswith(f"shipment {shipment.id} had ended (completed)")
    listed = await http.get("/v1/inbox", params={"state": "late", "limit": 200},
                            headers=inbox_api.headers(Role.ADMIN))  # fmt: skip
    assert late["id"] in [m["id"] for m in listed.json()["items"]]
    await untouched_by_the_loop(http, inbox_api, late)

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        metrics = (await http.get("/metrics")).text
        counted = [line for line in metrics.splitlines()
                   if line.startswith("borderflow_inbox_late_letters ")]  # fmt: skip
        if counted and float(counted[0].split()[1]) >= 1:
            break
        await asyncio.sleep(LOOP_S)
    else:
        raise AssertionError("borderflow_inbox_late_letters never counted the late webhook")


async def test_a_webhook_for_a_shipment_that_never_existed_is_still_a_dead_letter(
    inbox_api: LiveApi, http: httpx.AsyncClient
) -> None:
    sent = await send(http, "broker", broker_event(f"shipment-NEVER{uuid.uuid4().hex[:8]}"))
    assert sent.status_code == 202 and sent.json()["state"] == "dead", sent.text
    dead = await item(http, inbox_api, sent.json()["inbox_id"])
    assert "is not running" in dead["reason"]


async def test_a_replayed_dead_letter_is_delivered(
    inbox_api: LiveApi, http: httpx.AsyncClient, temporal: Client
) -> None:
    number = f"EZ{uuid.uuid4().hex[:10]}"
    sent = await send(http, "easypost", easypost_event(number))  # no shipment has it yet
    assert sent.json()["state"] == "dead", sent.text
    shipment = await start_shipment(temporal)
    link_tracking(inbox_api.store, "easypost", number, shipment.id)

    replayed = await replay(http, inbox_api, sent.json()["inbox_id"])
    assert (replayed["outcome"], replayed["state"], replayed["reason"]) == (
        "delivered", "delivered", None,
    )  # fmt: skip
    assert (replayed["attempts"], replayed["deliveries"], replayed["replays"]) == (2, 1, 1)
    assert replayed["shipment_id"] == shipment.id
    await shipment.terminate()
