"""Toy Post's webhooks (``{"event": {...}}``) → canonical events, one per payload."""

from datetime import datetime
from importlib import resources

from pydantic import BaseModel

from canonical.dialects.normalized import NormalizedWebhook, PartnerReferences
from canonical.dialects.table import parse_table
from canonical.dialects.wire import Draft, envelope, proof, webhook
from canonical.events import ShipmentEvent
from toy_partner import NAME
from toy_partner.wire import ToyEvent

TABLE = parse_table(resources.files("toy_partner").joinpath("toy.toml").read_text("utf-8"), NAME)


class Pushed(BaseModel):
    event: ToyEvent


def normalize(body: bytes, *, received_at: datetime) -> NormalizedWebhook:
    """One webhook; ``MalformedPayload`` naming the field for anything else."""
    event = envelope(NAME, Pushed, body).event
    return events_of([event], received_at=received_at, dedupe_key=event.id)


def events_of(
    events: list[ToyEvent], *, received_at: datetime, dedupe_key: str
) -> NormalizedWebhook:
    """The canonical form of Toy Post scans (a webhook's one, or a poll's list)."""
    drafts = [
        Draft(
            occurred_at=event.at, resolution=TABLE.resolve(event.status), raw_status=event.status,
            partner_event_id=event.id, proof_of_delivery=proof(event.signed_by),
        )
        for event in events
    ]  # fmt: skip
    number = events[0].tracking_number if events else ""
    return webhook(
        NAME, dedupe_key=dedupe_key, drafts=drafts,
        references=PartnerReferences(tracking_number=number or None),
        received_at=received_at, subject=number,
    )  # fmt: skip


def tracked(events: list[ToyEvent], *, received_at: datetime) -> list[ShipmentEvent]:
    return events_of(events, received_at=received_at, dedupe_key="poll").events
