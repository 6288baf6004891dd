"""One signal per webhook, carrying only the events its shipment has not been sent yet.

Cumulative EasyPost ``tracker.updated`` webhooks go to the live API; what reached the
workflow is read from its history (each ``events`` signal and its ``EventBatch``) and from its
status query.
"""

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from api_support import start_shipment
from live import LiveApi
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle
from webhook_payloads import send

from store.tokens import Role
from store.tracking import link_tracking
from workflows.models import AcceptedShipment, EventBatch, ShipmentStatus

SCANS = [
    ("pre_transit", "label_created", "2026-11-20T08:00:00+01:00"),
    ("in_transit", "arrived_at_facility", "2026-11-20T10:00:00+01:00"),
    ("out_for_delivery", "out_for_delivery", "2026-11-21T07:30:00+01:00"),
]


def tracker_updated(tracking_number: str, scans: int) -> bytes:
    """An EasyPost Event repeating the tracker's first ``scans`` scans, as EasyPost does."""
    details = [
        {"object": "TrackingDetail", "status": status, "status_detail": detail,
         "message": f"scan {i}", "datetime": at}
        for i, (status, detail, at) in enumerate(SCANS[:scans])
    ]  # fmt: skip
    return json.dumps({
        "object": "Event", "id": f"evt_{uuid.uuid4().hex[:12]}", "description": "tracker.updated",
        "result": {"object": "Tracker", "id": "trk_1", "tracking_code": tracking_number,
                   "status": SCANS[scans - 1][0], "tracking_details": details},
    }).encode()  # fmt: skip


async def batches(temporal: Client, handle: WorkflowHandle[object, object]) -> list[EventBatch]:
    """Every signal in the workflow's history, as ``EventBatch`` (any other signal fails).

    A signal that arrives while a workflow task is running is buffered by the server and
    written to the history only when that task completes: an update first (it runs after every
    signal sent before it) makes every signal sent so far readable."""
    await status_after_signals(handle)
    history = await handle.fetch_history()
    signals = [
        e.workflow_execution_signaled_event_attributes
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    assert [s.signal_name for s in signals] == ["events"] * len(signals)
    converter = temporal.data_converter
    return [(await converter.decode(s.input.payloads, [EventBatch]))[0] for s in signals]


async def status_after_signals(handle: WorkflowHandle[object, object]) -> ShipmentStatus:
    """The status once every signal sent so far is handled (an update runs after them)."""
    accepted = await handle.execute_update("accept", result_type=AcceptedShipment)
    return accepted.status


async def recorded(http: httpx.AsyncClient, api: LiveApi, message_id: int) -> dict[str, Any]:
    """The inbox message as the list shows it (the API records its own outcomes first)."""
    page = await http.get("/v1/inbox", params={"after": message_id - 1, "limit": 1},
                          headers=api.headers(Role.ADMIN))  # fmt: skip
    (found,) = page.json()["items"]
    return dict(found)


@pytest.fixture
async def http(api: LiveApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as client:
        yield client


async def test_cumulative_webhooks_signal_only_their_new_events_and_a_replay_sends_all(
    api: LiveApi, http: httpx.AsyncClient, temporal: Client
) -> None:
    shipment = await start_shipment(temporal)
    number = f"EZ{uuid.uuid4().hex[:10]}"
    link_tracking(api.store, "easypost", number, shipment.id)
    inbox_ids = []
    for scans in (1, 2, 3):
        reply = await send(http, "easypost", tracker_updated(number, scans))
        assert reply.status_code == 200 and reply.json()["state"] == "delivered", reply.text
        inbox_ids.append(reply.json()["inbox_id"])

    sent = await batches(temporal, shipment)
    assert [len(batch.events) for batch in sent] == [1, 1, 1]
    assert [batch.inbox_message_id for batch in sent] == inbox_ids
    assert {batch.partner for batch in sent} == {"easypost"}
    assert [batch.events[0].source.raw_status for batch in sent] == [s[0] for s in SCANS]
    assert {event.shipment_id for batch in sent for event in batch.events} == {shipment.id}
    events = (await status_after_signals(shipment)).events
    assert len({event.event_id for event in events}) == len(events) == 3

    # The same history again under a new Event id: nothing new, delivered without a signal.
    again = await send(http, "easypost", tracker_updated(number, 3))
    assert again.status_code == 200 and again.json()["state"] == "delivered", again.text
    assert len(await batches(temporal, shipment)) == 3
    quiet = await recorded(http, api, again.json()["inbox_id"])
    assert quiet["reason"] == f"nothing new: every event was signalled to {shipment.id} before"

    # An admin's replay re-sends every event of the payload; the workflow keeps each once.
    replay = await http.post(f"/v1/inbox/{inbox_ids[-1]}/replay", headers=api.headers(Role.ADMIN))
    assert replay.status_code == 200 and replay.json()["outcome"] == "delivered", replay.text
    assert replay.json()["reason"] is None
    *earlier, replayed = await batches(temporal, shipment)
    assert len(earlier) == 3
    assert [event.event_id for event in replayed.events] == [event.event_id for event in events]
    assert (await status_after_signals(shipment)).events == events
    await shipment.terminate()
