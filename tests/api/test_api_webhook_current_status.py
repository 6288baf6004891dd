"""The API names the vendor's current-status event in each batch, even one it leaves out.

EasyPost ``tracker.updated`` webhooks whose Tracker ``status`` is ``failure`` while the failure
scan is stamped before the in-transit one (issue 15 #5): each ``EventBatch`` carries
``current_event_id``. (The API tests run a stand-in workflow; that the shipment follows it is
tests/workflow/test_shipment_current_status.py.)
"""

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from api_support import start_shipment
from live import LiveApi
from temporalio.client import Client
from test_api_webhook_batches import batches
from webhook_payloads import send

from canonical.dialects import normalize
from canonical.milestones import Milestone
from store.tracking import link_tracking

PICKED = ("in_transit", "arrived_at_facility", "2026-11-20T10:00:00+01:00")
FAILED = ("failure", "address_not_found", "2026-11-20T09:00:00+01:00")  # stamped earlier
LATE = ("in_transit", "departed_facility", "2026-11-20T08:00:00+01:00")  # an older scan


def tracker_updated(number: str, status: str, *scans: tuple[str, str, str]) -> bytes:
    details = [
        {"object": "TrackingDetail", "status": s, "status_detail": d, "message": f"scan {i}",
         "datetime": at}
        for i, (s, d, at) in enumerate(scans)
    ]  # fmt: skip
    return json.dumps({
        "object": "Event", "id": f"evt_{uuid.uuid4().hex[:12]}", "description": "tracker.updated",
        "result": {"object": "Tracker", "id": "trk_1", "tracking_code": number,
                   "status": status, "tracking_details": details},
    }).encode()  # fmt: skip


@pytest.fixture
async def http(api: LiveApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as client:
        yield client


async def test_each_batch_names_the_vendors_current_event_even_when_it_is_left_out(
    api: LiveApi, http: httpx.AsyncClient, temporal: Client
) -> None:
    shipment = await start_shipment(temporal)
    number = f"EZ{uuid.uuid4().hex[:10]}"
    link_tracking(api.store, "easypost", number, shipment.id)
    bodies = [
        tracker_updated(number, "in_transit", PICKED),
        tracker_updated(number, "failure", PICKED, FAILED),
        tracker_updated(number, "failure", LATE, PICKED, FAILED),  # the failure is sent before
    ]
    for body in bodies:
        reply = await send(http, "easypost", body)
        assert reply.status_code == 200 and reply.json()["state"] == "delivered", reply.text

    sent = await batches(temporal, shipment)
    assert [len(batch.events) for batch in sent] == [1, 1, 1]
    currents = [normalize("easypost", body, received_at=datetime.now(UTC)).current_event_id
                for body in bodies]  # fmt: skip
    assert [batch.current_event_id for batch in sent] == currents
    failure = sent[1].events[0]
    assert (failure.milestone, currents[1]) == (Milestone.EXCEPTION, failure.event_id)
    assert sent[2].current_event_id == failure.event_id  # left out of the batch, named by id
    assert failure.event_id not in {event.event_id for event in sent[2].events}
    await shipment.terminate()
