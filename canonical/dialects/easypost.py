"""EasyPost ``tracker.updated`` Events → canonical milestones.

The Event id is the dedupe key: EasyPost redelivers the same Event (same id) until it gets a
2xx. Each Event reports the tracker's current status; its time is that of the newest
tracking detail.
"""

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict

from canonical.dialects.normalized import NormalizedWebhook
from canonical.dialects.table import load_table
from canonical.milestones import Milestone, MilestoneEvent, ProofOfDelivery

PARTNER = "easypost"
TRACKER_EVENTS = frozenset({"tracker.created", "tracker.updated"})


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class TrackingLocation(_Wire):
    city: str | None = None
    state: str | None = None
    country: str | None = None


class TrackingDetail(_Wire):
    status: str
    status_detail: str | None = None
    message: str | None = None
    datetime: AwareDatetime
    tracking_location: TrackingLocation | None = None


class Tracker(_Wire):
    id: str
    tracking_code: str
    status: str
    status_detail: str | None = None
    signed_by: str | None = None
    public_url: str | None = None
    updated_at: AwareDatetime | None = None
    tracking_details: list[TrackingDetail] = []


class Event(_Wire):
    object: str
    id: str
    description: str
    result: Tracker | None = None


def normalize(body: bytes) -> NormalizedWebhook:
    """Raises ``pydantic.ValidationError`` for a body that is not an EasyPost Event."""
    event = Event.model_validate_json(body)
    if event.description not in TRACKER_EVENTS or event.result is None:
        return NormalizedWebhook(events=[])
    tracker = event.result
    latest = tracker.tracking_details[-1] if tracker.tracking_details else None
    occurred_at: datetime | None = latest.datetime if latest else tracker.updated_at
    if occurred_at is None:
        raise ValueError("tracker has neither tracking_details nor updated_at")
    milestone = load_table(PARTNER).milestone(tracker.status, tracker.status_detail)
    proof = None
    if milestone == Milestone.DELIVERED and tracker.signed_by:
        proof = ProofOfDelivery(signed_by=tracker.signed_by, document_uri=tracker.public_url)
    location = None
    if latest and latest.tracking_location:
        where = latest.tracking_location
        location = ", ".join(part for part in (where.city, where.state, where.country) if part)
    canonical = MilestoneEvent(
        milestone=milestone,
        occurred_at=occurred_at,
        partner=PARTNER,
        partner_event_id=event.id,
        raw_code=f"{tracker.status}/{tracker.status_detail}"
        if tracker.status_detail
        else tracker.status,
        location=location or None,
        description=latest.message if latest else None,
        proof_of_delivery=proof,
    )
    return NormalizedWebhook(events=[canonical], tracking_number=tracker.tracking_code)
