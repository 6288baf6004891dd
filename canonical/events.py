"""Shipment events: the append-only timeline every partner dialect is translated into.

Identity: every event has a partner ``dedupe_key`` (the partner's own event id where it has one,
else a hash of tracking number, time and raw code) and our ``event_id``, derived from
``(partner, dedupe_key)``; a redelivered or re-polled event therefore always gets the same
``event_id``, and the workflow records it once.

Only ACTUAL events move a shipment's state; ESTIMATED and PLANNED ones update the ETA.
"""

import hashlib
import uuid
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, Field

from canonical.base import CanonicalModel
from canonical.codes import CountryCode, UnLocode
from canonical.milestones import Milestone, ProofOfDelivery

EVENT_NAMESPACE = uuid.UUID("6c0f2a4e-5b1d-4c8e-9f7a-3d2b1e0c9a88")


class EventClassifier(StrEnum):
    ACTUAL = "ACTUAL"
    ESTIMATED = "ESTIMATED"
    PLANNED = "PLANNED"


class EventSource(CanonicalModel):
    """Where an event came from, with the partner's own codes kept verbatim."""

    partner: str = Field(min_length=1)
    partner_event_id: str | None = None
    raw_status: str | None = None
    raw_sub_status: str | None = None
    raw_code: str | None = None


class EventLocation(CanonicalModel):
    name: str | None = None
    city: str | None = None
    postal_code: str | None = None
    country: CountryCode | None = None
    unlocode: UnLocode | None = None


class ShipmentEvent(CanonicalModel):
    """One canonical event on a shipment's timeline."""

    event_id: str = Field(min_length=1)
    dedupe_key: str = Field(min_length=1)
    shipment_id: str | None = None
    """Set when the event is routed to its shipment (normalizers do not know it)."""
    milestone: Milestone
    classifier: EventClassifier = EventClassifier.ACTUAL
    occurred_at: AwareDatetime
    """When it happened, with the partner's original UTC offset."""
    recorded_at: AwareDatetime
    """When we received it."""
    location: EventLocation | None = None
    reason: str | None = None
    source: EventSource
    retracts_event_id: str | None = None
    """Our ``event_id`` of an earlier event this one withdraws (DCSA ``retractedEventID``)."""
    proof_of_delivery: ProofOfDelivery | None = None


def event_id_for(partner: str, dedupe_key: str) -> str:
    """Our stable id of a partner event."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{partner}\x1f{dedupe_key}"))


def hashed_dedupe_key(tracking_number: str, occurred_at: datetime, raw_code: str) -> str:
    """The dedupe key of an event whose partner gives it no id."""
    text = f"{tracking_number}|{occurred_at.isoformat()}|{raw_code}"
    return "h:" + hashlib.sha256(text.encode()).hexdigest()[:32]
