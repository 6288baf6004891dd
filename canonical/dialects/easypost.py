"""EasyPost ``tracker.created`` / ``tracker.updated`` Events → canonical events.

- Webhook dedupe key: the Event ``id`` (EasyPost redelivers the same Event until it gets a 2xx).
- Every ``result.tracking_details`` entry is one event, oldest first. A TrackingDetail has no id:
  its dedupe key is hashed from the tracking code, its ``datetime`` and ``status/status_detail``,
  so a later Event repeating the history gives the old details the same ids.
- ``signed_by`` is the proof of delivery of DELIVERED events.
- Any other Event ``description`` is valid but carries no shipment event.

Precedence (``/tmp/notes/canonical-easypost.md``, docs/canonical.md):

- Milestone: EasyPost's ``status/status_detail`` is lossy (a FedEx ``PU`` "Picked up" scan
  arrives as ``in_transit/arrived_at_facility``). A detail's ``carrier_code``, read for the
  carrier named by its ``source`` (else the Tracker's ``carrier``), wins when
  :mod:`canonical.dialects.carrier_codes` knows it (:func:`~.carrier_codes.overrides`: a plain
  carrier IN_TRANSIT never replaces a more specific EasyPost detail). Otherwise EasyPost's table.
- Raw codes: ``raw_status`` / ``raw_sub_status`` are always EasyPost's ``status`` /
  ``status_detail``; ``raw_code`` is the code the milestone came from: ``"<source>:<code>"``
  (``"FedEx:PU"``) when the carrier code decided it, else ``"status/status_detail"``. The
  hashed dedupe key always hashes ``"status/status_detail"``, so ids do not depend on the
  carrier tables.
- Current state: the Tracker's ``status`` (and ``status_detail``) is EasyPost's current state.
  The last listed detail that has it is ordered last (``sort_at``) even when its ``datetime``
  is earlier than other details': a vendor's times may contradict its own sequence. It is the
  payload's ``current_event_id``: the shipment follows it (``workflows.progress``).
"""

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, Field

from canonical.dialects.carrier_codes import native_milestone, overrides
from canonical.dialects.normalized import NormalizedWebhook, PartnerReferences
from canonical.dialects.table import Resolution, load_table
from canonical.dialects.wire import (
    Draft,
    PartnerId,
    Wire,
    envelope,
    location,
    member,
    no_events,
    proof,
    text,
    webhook,
)
from canonical.milestones import ProofOfDelivery

__all__ = ["PARTNER", "TABLE", "Tracker", "current_detail", "normalize"]

PARTNER = "easypost"
TABLE = load_table(PARTNER)
TRACKER_EVENTS = frozenset({"tracker.created", "tracker.updated"})
LAST = timedelta(microseconds=1)
"""How far past the newest detail the current one is sorted."""


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
    source: str | None = None
    """The carrier that reported this detail (``"FedEx"``, ``"USPS"``…)."""
    carrier_code: str | None = None
    """That carrier's own event code (``"PU"``); null or empty when EasyPost has none."""
    tracking_location: TrackingLocation | None = None


class Tracker(Wire):
    object: Literal["Tracker"] = "Tracker"
    tracking_code: PartnerId
    status: str
    status_detail: str | None = None
    carrier: str | None = None
    signed_by: str | None = None
    tracking_details: tuple[TrackingDetail, ...] = ()


class Event(Wire):
    object: Literal["Event"]
    id: PartnerId
    description: str
    result: dict[str, Any] | None = None


def _resolution(detail: TrackingDetail, carrier: str | None) -> Resolution:
    """EasyPost's table, unless the carrier's own code says more (see the module docstring)."""
    coarse = TABLE.resolve(detail.status, detail.status_detail)
    who = text(detail.source) or text(carrier)
    code = text(detail.carrier_code)
    native = native_milestone(who, code)
    if native is None or not overrides(native, coarse.milestone):
        return coarse
    return Resolution(native, f"{who}:{code}", True)


def _draft(detail: TrackingDetail, tracker: Tracker, signer: ProofOfDelivery | None) -> Draft:
    where = detail.tracking_location or TrackingLocation()
    return Draft(
        occurred_at=detail.at,
        resolution=_resolution(detail, tracker.carrier),
        raw_status=detail.status,
        raw_sub_status=detail.status_detail,
        location=location(city=where.city, postal_code=where.zip, country_code=where.country),
        reason=detail.message,
        proof_of_delivery=signer,
        hashed_code=TABLE.resolve(detail.status, detail.status_detail).raw_code,
    )


def current_detail(tracker: Tracker) -> int | None:
    """The index of the detail that is the Tracker's current state: the last one listed with
    the Tracker's ``status`` and ``status_detail`` (else its ``status`` alone); None if none."""
    same = [i for i, d in enumerate(tracker.tracking_details) if d.status == tracker.status]
    exact = [i for i in same if tracker.tracking_details[i].status_detail == tracker.status_detail]
    found = exact or same
    return found[-1] if found else None


def _drafts(tracker: Tracker, signer: ProofOfDelivery | None) -> list[Draft]:
    drafts = [_draft(detail, tracker, signer) for detail in tracker.tracking_details]
    current = current_detail(tracker)
    if current is not None:
        newest = max(draft.occurred_at for draft in drafts)
        drafts[current] = replace(drafts[current], sort_at=newest + LAST, current=True)
    return drafts


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
        drafts=_drafts(tracker, signer),
        references=PartnerReferences(tracking_number=tracker.tracking_code),
        received_at=received_at,
        subject=tracker.tracking_code,
    )
