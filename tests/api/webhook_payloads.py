"""Signed partner payloads for the API tests, in the partners' own formats."""

import json
import time
import uuid

import httpx
from live import WEBHOOK_SECRET

from simulators.signing import sign_broker, sign_easypost


def easypost_event(tracking_number: str, event_id: str | None = None) -> bytes:
    return json.dumps({
        "object": "Event", "id": event_id or f"evt_{uuid.uuid4().hex[:12]}",
        "description": "tracker.updated",
        "result": {"object": "Tracker", "id": "trk_1", "tracking_code": tracking_number,
                   "status": "in_transit", "status_detail": "arrived_at_facility",
                   "tracking_details": [{"object": "TrackingDetail", "status": "in_transit",
                                         "status_detail": "arrived_at_facility",
                                         "message": "Sorted", "datetime":
                                         "2026-11-20T10:00:00+01:00"}]},
    }).encode()  # fmt: skip


def broker_event(shipment_id: str) -> bytes:
    return json.dumps({
        "event_id": f"bev_{uuid.uuid4().hex[:12]}", "type": "declaration.status_changed",
        "occurred_at": "2026-11-20T10:00:00+01:00",
        "declaration": {"id": "DEC-1", "reference": shipment_id, "lrn": "L", "mrn": None,
                        "status": "UNDER_REVIEW", "hold_reason": None},
    }).encode()  # fmt: skip


async def send(http: httpx.AsyncClient, partner: str, body: bytes) -> httpx.Response:
    secret = WEBHOOK_SECRET.encode()
    if partner == "easypost":
        headers = {"X-Hmac-Signature": sign_easypost(secret, body)}
    else:
        headers = {"X-Broker-Signature": sign_broker(secret, body, int(time.time()))}
    return await http.post(f"/v1/webhooks/{partner}", content=body, headers=headers)
