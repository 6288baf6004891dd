"""AfterShip ``tracking_update`` webhooks → canonical events.

- Webhook dedupe key: the envelope ``event_id``.
- Every ``msg.checkpoints`` entry is one event, oldest first. A checkpoint has no id: its dedupe
  key is hashed from the tracking number, ``checkpoint_time`` and ``tag/subtag``.
- ``checkpoint_time`` must carry a UTC offset: AfterShip gives the carrier's local time, so a
  naive one cannot be placed in time and the payload is malformed.
- Checkpoint countries are ISO alpha-3 (``country_region``, formerly ``country_iso3``): they
  become alpha-2. ``msg.signed_by`` is the proof of delivery of DELIVERED events.
- Other webhook events (``edd_revise``…) are valid but carry no shipment event.
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
    location,
    member,
    no_events,
    proof,
    webhook,
)
from canonical.milestones import ProofOfDelivery

PARTNER = "aftership"
TABLE = load_table(PARTNER)
TRACKING_UPDATE = "tracking_update"


class Checkpoint(Wire):
    checkpoint_time: AwareDatetime
    tag: PartnerId
    subtag: str | None = None
    message: str | None = None
    location: str | None = None
    city: str | None = None
    zip: str | None = None
    postal_code: str | None = None
    country_region: str | None = None
    country_iso3: str | None = None


class Tracking(Wire):
    tracking_number: PartnerId
    slug: str | None = None
    signed_by: str | None = None
    checkpoints: tuple[Checkpoint, ...] = ()


class Webhook(Wire):
    event: str
    event_id: PartnerId
    msg: dict[str, Any] | None = None


def _draft(checkpoint: Checkpoint, signer: ProofOfDelivery | None) -> Draft:
    return Draft(
        occurred_at=checkpoint.checkpoint_time,
        resolution=TABLE.resolve(checkpoint.tag, checkpoint.subtag),
        raw_status=checkpoint.tag,
        raw_sub_status=checkpoint.subtag,
        location=location(
            name=checkpoint.location,
            city=checkpoint.city,
            postal_code=checkpoint.postal_code or checkpoint.zip,
            country_code=checkpoint.country_region or checkpoint.country_iso3,
        ),
        reason=checkpoint.message,
        proof_of_delivery=signer,
    )


def normalize(body: bytes, *, received_at: datetime) -> NormalizedWebhook:
    """One AfterShip webhook; raises MalformedPayload for anything that is not one."""
    hook = envelope(PARTNER, Webhook, body)
    if hook.event != TRACKING_UPDATE:
        return no_events(PARTNER, hook.event_id, received_at)
    tracking = member(PARTNER, Tracking, hook.msg, "msg", "a tracking_update carries the tracking")
    signer = proof(tracking.signed_by)
    return webhook(
        PARTNER,
        dedupe_key=hook.event_id,
        drafts=[_draft(checkpoint, signer) for checkpoint in tracking.checkpoints],
        references=PartnerReferences(tracking_number=tracking.tracking_number),
        received_at=received_at,
        subject=tracking.tracking_number,
    )
