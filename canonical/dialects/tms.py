"""Our TMS's ``transport_order.status_changed`` events (our dialect) → canonical events.

The shape is ours (docs/partners.md, "TMS status events")::

    {"event_id": "tev_…", "type": "transport_order.status_changed",
     "occurred_at": "<ISO 8601 with offset>",
     "transport_order": {"id": "TO-000001", "reference": "<our shipment id>",
                         "status": "PICKED_UP", "carrier": "easypost", "tracking_number": …}}

- One event per payload; its ``event_id`` is both the payload's and the event's dedupe key.
- The TMS echoes our ``reference``: it is the ``shipment_id`` reference (the carrier's
  ``tracking_number`` is passed on too when the TMS knows it).
- ``occurred_at`` must carry a UTC offset.
- Other event types are valid but carry no shipment event.
"""

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime

from canonical.dialects.normalized import NormalizedWebhook, PartnerReferences
from canonical.dialects.table import load_table
from canonical.dialects.wire import (
    Draft,
    PartnerId,
    Wire,
    envelope,
    member,
    no_events,
    text,
    webhook,
)

PARTNER = "tms"
TABLE = load_table(PARTNER)
STATUS_CHANGED = "transport_order.status_changed"


class TransportOrder(Wire):
    id: PartnerId
    reference: PartnerId
    status: PartnerId
    carrier: str | None = None
    tracking_number: str | None = None


class StatusChanged(Wire):
    event_id: PartnerId
    type: str
    occurred_at: AwareDatetime
    transport_order: dict[str, Any] | None = None


def normalize(body: bytes, *, received_at: datetime) -> NormalizedWebhook:
    """One TMS status event; raises MalformedPayload for anything that is not one."""
    event = envelope(PARTNER, StatusChanged, body)
    if event.type != STATUS_CHANGED:
        return no_events(PARTNER, event.event_id, received_at)
    order = member(
        PARTNER,
        TransportOrder,
        event.transport_order,
        "transport_order",
        f"a {STATUS_CHANGED} names its order",
    )
    draft = Draft(
        occurred_at=event.occurred_at,
        resolution=TABLE.resolve(order.status),
        raw_status=order.status,
        partner_event_id=event.event_id,
    )
    references = PartnerReferences(
        shipment_id=order.reference, tracking_number=text(order.tracking_number)
    )
    return webhook(
        PARTNER,
        dedupe_key=event.event_id,
        drafts=[draft],
        references=references,
        received_at=received_at,
        subject=order.reference,
    )
