"""Customs broker ``declaration.status_changed`` webhooks (our dialect) → canonical events.

- One webhook is one event; its ``event_id`` is both the payload's and the event's dedupe key.
- The broker echoes our declaration ``reference``: it is the ``shipment_id`` reference.
- ``occurred_at`` must carry a UTC offset (docs/partners.md: "ISO 8601 with offset").
- ``reason``: the ``hold_reason`` of a HELD declaration, else ``"MRN <mrn>"`` once customs
  assigned one (the MRN is what the shipper quotes to customs).
- Other webhook types are valid but carry no shipment event.
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

PARTNER = "broker"
TABLE = load_table(PARTNER)
STATUS_CHANGED = "declaration.status_changed"


class Declaration(Wire):
    id: PartnerId
    reference: PartnerId
    lrn: str | None = None
    mrn: str | None = None
    status: PartnerId
    hold_reason: str | None = None


class StatusChanged(Wire):
    event_id: PartnerId
    type: str
    occurred_at: AwareDatetime
    declaration: dict[str, Any] | None = None


def normalize(body: bytes, *, received_at: datetime) -> NormalizedWebhook:
    """One broker webhook; raises MalformedPayload for anything that is not one."""
    event = envelope(PARTNER, StatusChanged, body)
    if event.type != STATUS_CHANGED:
        return no_events(PARTNER, event.event_id, received_at)
    declaration = member(
        PARTNER,
        Declaration,
        event.declaration,
        "declaration",
        f"a {STATUS_CHANGED} names its declaration",
    )
    mrn = text(declaration.mrn)
    draft = Draft(
        occurred_at=event.occurred_at,
        resolution=TABLE.resolve(declaration.status),
        raw_status=declaration.status,
        partner_event_id=event.event_id,
        reason=text(declaration.hold_reason) or (f"MRN {mrn}" if mrn else None),
    )
    return webhook(
        PARTNER,
        dedupe_key=event.event_id,
        drafts=[draft],
        references=PartnerReferences(shipment_id=declaration.reference),
        received_at=received_at,
        subject=declaration.reference,
    )
