"""DCSA Track & Trace events (2.2, 3.0.0-Beta, 3.0) → canonical events.

The version is read from the payload's shape, per event where a list may mix them:

- an object with ``events`` → TNT 3.0 (``PostEventsRequest`` / ``GetEventsResponse``), each
  item a 3.0 event (:mod:`canonical.dialects.dcsa_v3`); an object (or a list of objects) with
  ``eventClassification`` → 3.0 events without the envelope;
- an object with ``metadata`` → TNT 3.0.0-Beta, else a flat TNT 2.2 event; a list of them is a
  list of events (:mod:`canonical.dialects.dcsa_v2`).

Every refusal is a :class:`MalformedPayload` naming the version it tried (``TNT 2.2``,
``TNT 3.0.0-Beta``, ``TNT 3.0``) and the field: a 3.0 payload is never read as a 2.2 event.

- Payload dedupe key: the event's key for a single event, a hash of the body for a list or a
  3.0 envelope.
- Only ACTUAL events move a shipment, ESTIMATED/PLANNED ones update its ETA; an unknown code is
  UNKNOWN with the raw codes kept. Milestones come from ``dcsa.toml`` (2.2 codes and 3.0 names).
- References: ``booking_reference`` (BKG / BOOKING) and ``transport_document`` (TRD /
  TRANSPORT_DOCUMENT), the first an event of the payload names.
- Current state (:func:`current_event`): the classifier first, then the time. Of the standing
  ACTUAL events with a known milestone, the one with the latest ``eventDateTime``; a tie goes to
  the later update (``eventUpdatedDateTime``, 2.2/Beta ``eventCreatedDateTime``). ESTIMATED and
  PLANNED events never are the current state, however late their time (an estimate is about the
  future); with no such ACTUAL event there is none. The payload's order does not decide it.
  It is the payload's ``current_event_id`` (the shipment follows it, ``workflows.progress``);
  unlike the aggregators' current status it need not be the last event (events stay in update
  order).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from canonical.dialects import dcsa_v2, dcsa_v3
from canonical.dialects.normalized import NormalizedWebhook, PartnerReferences
from canonical.dialects.table import load_table
from canonical.dialects.wire import Draft, body_key, decode, webhook
from canonical.events import EventClassifier, ShipmentEvent
from canonical.milestones import Milestone

__all__ = ["PARTNER", "TABLE", "current_event", "normalize", "version"]

PARTNER = "dcsa"
TABLE = load_table(PARTNER)

References = tuple[str | None, str | None]


def version(data: Any) -> str:
    """The TNT version the payload's shape says (the first event's, for a list)."""
    first = data[0] if isinstance(data, list) and data else data
    if (isinstance(data, dict) and "events" in data) or dcsa_v3.is_event(first):
        return dcsa_v3.V3
    return dcsa_v2.BETA if dcsa_v2.is_beta(first) else dcsa_v2.V2_2


def _v3(
    data: Any, items: list[Any], wheres: list[str], received_at: datetime
) -> list[tuple[Draft, References]]:
    if isinstance(data, dict) and "events" in data:
        items = dcsa_v3.envelope(PARTNER, data)
        wheres = [f"events[{index}]" for index in range(len(items))]
    read = []
    for item, where in zip(items, wheres, strict=True):
        event = dcsa_v3.parse(PARTNER, item, where)
        read.append((dcsa_v3.draft(event, TABLE, received_at), event.references()))
    return read


def _v2(items: list[Any], wheres: list[str]) -> list[tuple[Draft, References]]:
    read = []
    for item, where in zip(items, wheres, strict=True):
        event, fields, tried = dcsa_v2.parse(PARTNER, item, where)
        read.append((dcsa_v2.draft(event, fields, tried, TABLE), event.references()))
    return read


def normalize(body: bytes, *, received_at: datetime) -> NormalizedWebhook:
    """One DCSA event, a list of them or a 3.0 envelope; MalformedPayload for anything else."""
    data = decode(PARTNER, body)
    single = not isinstance(data, list) and not (isinstance(data, dict) and "events" in data)
    items = [data] if not isinstance(data, list) else data
    wheres = [""] if not isinstance(data, list) else [f"[{i}]" for i in range(len(data))]
    if version(data) == dcsa_v3.V3:
        read = _v3(data, items, wheres, received_at)
    else:
        read = _v2(items, wheres)
    drafts = [draft for draft, _ in read]
    booking = next(filter(None, (refs[0] for _, refs in read)), None)
    document = next(filter(None, (refs[1] for _, refs in read)), None)
    key = drafts[0].partner_event_id if single else None
    normalized = webhook(
        PARTNER,
        dedupe_key=key or body_key(body),
        drafts=drafts,
        references=PartnerReferences(booking_reference=booking, transport_document=document),
        received_at=received_at,
        subject=booking or document or "",
    )
    current = current_event(normalized.events)  # defined on canonical events, not drafts
    normalized.current_event_id = current.event_id if current is not None else None
    return normalized


def current_event(events: Sequence[ShipmentEvent]) -> ShipmentEvent | None:
    """The event that is the shipment's current state (see the module docstring).

    ``events`` are a normalized payload's, oldest update first (``NormalizedWebhook.events``):
    among equal ``occurred_at`` the later in the list is the later update.
    """
    retracted = {event.retracts_event_id for event in events if event.retracts_event_id}
    standing = [
        (event.occurred_at, index, event)
        for index, event in enumerate(events)
        if event.classifier is EventClassifier.ACTUAL
        and event.milestone is not Milestone.UNKNOWN
        and event.event_id not in retracted
    ]
    return max(standing, key=lambda entry: entry[:2])[2] if standing else None
