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
from canonical.parties import POSTAL_CODE_MAX

EVENT_NAMESPACE = uuid.UUID("6c0f2a4e-5b1d-4c8e-9f7a-3d2b1e0c9a88")

ID_MAX = 255
"""Any identifier: our event ids (36), partner event ids, dedupe keys (an Idempotency-Key has
at most 255 characters), shipment ids."""
CODE_MAX = 255
"""A partner's raw status or code, kept verbatim."""
TEXT_MAX = 2000
"""Free text: a reason, a partner's event message."""
PLACE_MAX = 200
"""A location's name or city."""


class EventClassifier(StrEnum):
    ACTUAL = "ACTUAL"
    ESTIMATED = "ESTIMATED"
    PLANNED = "PLANNED"


class TimeBasis(StrEnum):
    """How an event's ``occurred_at`` was derived from what the partner gave."""

    OFFSET = "OFFSET"
    """The partner gave the time with its UTC offset (or documents UTC)."""
    ZONE = "ZONE"
    """A local time placed in the zone of the event's place, where that zone is certain (the
    country has one zone, or the region / UN/LOCODE maps to one)."""
    LOCAL = "LOCAL"
    """A local time whose zone is not certain: the wall time is kept, stored as if UTC."""
    DATE = "DATE"
    """A date only: midnight of that date, stored as if UTC; its precision is the day."""
    RECEIVED = "RECEIVED"
    """The partner gave no time: ``occurred_at`` is when we received the event."""


class EventSource(CanonicalModel):
    """Where an event came from, with the partner's own codes kept verbatim."""

    partner: str = Field(min_length=1, max_length=64)
    partner_event_id: str | None = Field(default=None, max_length=ID_MAX)
    raw_status: str | None = Field(default=None, max_length=CODE_MAX)
    raw_sub_status: str | None = Field(default=None, max_length=CODE_MAX)
    raw_code: str | None = Field(default=None, max_length=CODE_MAX)


class EventLocation(CanonicalModel):
    name: str | None = Field(default=None, max_length=PLACE_MAX)
    city: str | None = Field(default=None, max_length=PLACE_MAX)
    postal_code: str | None = Field(default=None, max_length=POSTAL_CODE_MAX)
    country: CountryCode | None = None
    unlocode: UnLocode | None = None


class ShipmentEvent(CanonicalModel):
    """One canonical event on a shipment's timeline."""

    event_id: str = Field(min_length=1, max_length=ID_MAX)
    dedupe_key: str = Field(min_length=1, max_length=ID_MAX)
    shipment_id: str | None = Field(default=None, max_length=ID_MAX)
    """Set when the event is routed to its shipment (normalizers do not know it)."""
    milestone: Milestone
    classifier: EventClassifier = EventClassifier.ACTUAL
    occurred_at: AwareDatetime
    """When it happened, with the partner's original UTC offset (see ``time_basis``)."""
    time_basis: TimeBasis = TimeBasis.OFFSET
    """How ``occurred_at`` was derived: only OFFSET and ZONE times are true instants."""
    recorded_at: AwareDatetime
    """When we received it."""
    location: EventLocation | None = None
    reason: str | None = Field(default=None, max_length=TEXT_MAX)
    source: EventSource
    retracts_event_id: str | None = Field(default=None, max_length=ID_MAX)
    """Our ``event_id`` of an earlier event this one withdraws (DCSA ``retractedEventID``)."""
    proof_of_delivery: ProofOfDelivery | None = None


def event_id_for(partner: str, dedupe_key: str) -> str:
    """Our stable id of a partner event."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{partner}\x1f{dedupe_key}"))


def hashed_dedupe_key(tracking_number: str, occurred_at: datetime, raw_code: str) -> str:
    """The dedupe key of an event whose partner gives it no id."""
    text = f"{tracking_number}|{occurred_at.isoformat()}|{raw_code}"
    return "h:" + hashlib.sha256(text.encode()).hexdigest()[:32]
