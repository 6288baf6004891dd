"""EasyPost ``tracker.created`` / ``tracker.updated`` Events → canonical events.

- Webhook dedupe key: the Event ``id`` (EasyPost redelivers the same Event until it gets a 2xx).
- Every ``result.tracking_details`` entry is one event, oldest first. A TrackingDetail has no id:
  its dedupe key is hashed from the tracking code, its ``datetime`` and ``status/status_detail``,
  so a later Event repeating the history gives the old details the same ids.
- ``signed_by`` is the proof of delivery of DELIVERED events.
- Any other Event ``description`` is valid but carries no shipment event.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from canonical.dialects.normalized import NormalizedWebhook, PartnerReferences
from canonical.dialects.table import load_table
from canonical.dialects.wire import (
    Draft,
    PartnerId,
    Wire,
    envelope,
    location,
    member,
    no_events,
    proof,
    webhook,
)
from canonical.milestones import ProofOfDelivery

PARTNER = "easypost"
TABLE = load_table(PARTNER)
TRACKER_EVENTS = frozenset({"tracker.created", "tracker.updated"})


class TrackingLocation(Wire):
    city: str | None = None
    state: str | None = None
    country: str | None = None
    zip: str | None = None


class TrackingDetail(Wire):
    status: PartnerId
    status_detail: str | None = None
    message: str | None = None
    at: AwareDatetime = Field(alias="datetime")
    tracking_location: TrackingLocation | None = None


class Tracker(Wire):
    object: Literal["Tracker"] = "Tracker"
    tracking_code: PartnerId
    status: str
    status_detail: str | None = None
    signed_by: str | None = None
    tracking_details: tuple[TrackingDetail, ...] = ()


class Event(Wire):
    object: Literal["Event"]
    id: PartnerId
    description: str
    result: dict[str, Any] | None = None


def _draft(detail: TrackingDetail, signer: ProofOfDelivery | None) -> Draft:
    where = detail.tracking_location or TrackingLocation()
    return Draft(
        occurred_at=detail.at,
        resolution=TABLE.resolve(detail.status, detail.status_detail),
        raw_status=detail.status,
        raw_sub_status=detail.status_detail,
        location=location(city=where.city, postal_code=where.zip, country_code=where.country),
        reason=detail.message,
        proof_of_delivery=signer,
    )


def normalize(body: bytes, *, received_at: datetime) -> NormalizedWebhook:
    """One EasyPost Event; raises MalformedPayload for anything that is not one."""
    event = envelope(PARTNER, Event, body)
    if event.description not in TRACKER_EVENTS:
        return no_events(PARTNER, event.id, received_at)
    tracker = member(
        PARTNER, Tracker, event.result, "result", f"a {event.description} Event carries a Tracker"
    )
    signer = proof(tracker.signed_by)
    return webhook(
        PARTNER,
        dedupe_key=event.id,
        drafts=[_draft(detail, signer) for detail in tracker.tracking_details],
        references=PartnerReferences(tracking_number=tracker.tracking_code),
        received_at=received_at,
        subject=tracker.tracking_code,
    )
