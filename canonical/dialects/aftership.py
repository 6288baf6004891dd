"""AfterShip ``tracking_update`` webhooks → canonical events.

- Webhook dedupe key: the envelope ``event_id``.
- Every ``msg.checkpoints`` entry is one event. A checkpoint has no id: its dedupe key is hashed
  from the tracking number, ``checkpoint_time`` and ``tag/subtag``.
- ``checkpoint_time`` is, as AfterShip documents it (https://www.aftership.com/docs/tracking/ ,
  checkpoint object), ``""``, ``YYYY-MM-DD``, ``YYYY-MM-DDTHH:MM:SS`` (the carrier's local time)
  or ``YYYY-MM-DDTHH:MM:SS+TZ``: :func:`canonical.dialects.times.place` reads all four, with the
  checkpoint's country (``country_region``, formerly ``country_iso3``) and ``state`` as the
  place of a local time; ``time_basis`` says how. Any other spelling is malformed.
  A checkpoint without a time (RECEIVED) keeps its place in the list (it sorts with the
  checkpoint before it) and hashes ``created_at`` (when AfterShip added it) and its message
  into its dedupe key instead of a time.
- Current state: the tracking's ``tag`` / ``subtag`` is AfterShip's current status. The
  checkpoint that matches it (``tag`` and ``subtag``, else ``tag`` alone; the latest one when
  several do) sorts last even when the carrier's times put another checkpoint after it (its
  ``sort_at``; its ``occurred_at`` is kept) and is the payload's ``current_event_id`` (the
  shipment follows it, ``workflows.progress``). No matching checkpoint: times decide alone.
- Checkpoint countries are ISO alpha-3: they become alpha-2. ``msg.signed_by`` is the proof of
  delivery of DELIVERED events.
- Other webhook events (``edd_revise``…) are valid but carry no shipment event.
"""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from canonical.dialects.errors import MalformedPayload
from canonical.dialects.normalized import NormalizedWebhook, PartnerReferences
from canonical.dialects.table import load_table
from canonical.dialects.times import place
from canonical.dialects.wire import (
    Draft,
    PartnerId,
    Wire,
    country,
    envelope,
    location,
    member,
    no_events,
    proof,
    text,
    webhook,
)
from canonical.events import TimeBasis
from canonical.milestones import ProofOfDelivery

PARTNER = "aftership"
TABLE = load_table(PARTNER)
TRACKING_UPDATE = "tracking_update"
EARLIEST = datetime.min.replace(tzinfo=UTC)
AFTER = timedelta(microseconds=1)


class Checkpoint(Wire):
    checkpoint_time: str | None = None
    created_at: str | None = None
    tag: PartnerId
    subtag: str | None = None
    message: str | None = None
    location: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    postal_code: str | None = None
    country_region: str | None = None
    country_iso3: str | None = None


class Tracking(Wire):
    tracking_number: PartnerId
    slug: str | None = None
    tag: str | None = None
    subtag: str | None = None
    signed_by: str | None = None
    checkpoints: tuple[Checkpoint, ...] = ()


class Webhook(Wire):
    event: str
    event_id: PartnerId
    msg: dict[str, Any] | None = None


def _draft(
    index: int, checkpoint: Checkpoint, signer: ProofOfDelivery | None, received_at: datetime
) -> Draft:
    where = country(checkpoint.country_region or checkpoint.country_iso3)
    try:
        occurred_at, basis = place(
            checkpoint.checkpoint_time,
            received_at=received_at,
            country=where,
            region=checkpoint.state,
        )
    except ValueError as err:
        field = f"msg.checkpoints[{index}].checkpoint_time"
        raise MalformedPayload(PARTNER, field, str(err)) from err
    resolution = TABLE.resolve(checkpoint.tag, checkpoint.subtag)
    untimed = basis is TimeBasis.RECEIVED
    identity = [resolution.raw_code, text(checkpoint.created_at), text(checkpoint.message)]
    return Draft(
        occurred_at=occurred_at,
        time_basis=basis,
        resolution=resolution,
        raw_status=checkpoint.tag,
        raw_sub_status=checkpoint.subtag,
        location=location(
            name=checkpoint.location,
            city=checkpoint.city,
            postal_code=checkpoint.postal_code or checkpoint.zip,
            country_code=where,
        ),
        reason=checkpoint.message,
        proof_of_delivery=signer,
        hashed_code="|".join(part or "" for part in identity) if untimed else None,
    )


def _sort_key(draft: Draft) -> datetime:
    return draft.sort_at or draft.occurred_at


def _untimed_keep_their_place(drafts: list[Draft]) -> list[Draft]:
    """A RECEIVED checkpoint sorts with the checkpoint before it (stable: just after it)."""
    placed, before = [], EARLIEST
    for draft in drafts:
        if draft.time_basis is TimeBasis.RECEIVED:
            draft = replace(draft, sort_at=before)
        else:
            before = draft.occurred_at
        placed.append(draft)
    return placed


def _current(tracking: Tracking, drafts: list[Draft]) -> int | None:
    """The index of the checkpoint that is AfterShip's current status, if one is."""
    tags = [(cp.tag, cp.subtag) for cp in tracking.checkpoints]
    exact = [i for i, tag in enumerate(tags) if tag == (tracking.tag, tracking.subtag)]
    matching = exact or [i for i, (tag, _) in enumerate(tags) if tag == tracking.tag]
    return max(matching, key=lambda i: (_sort_key(drafts[i]), i)) if matching else None


def _current_last(tracking: Tracking, drafts: list[Draft]) -> list[Draft]:
    """The current status's checkpoint sorts after every other one."""
    current = _current(tracking, drafts)
    if current is None:
        return drafts
    others = [_sort_key(draft) for i, draft in enumerate(drafts) if i != current]
    latest = max(others, default=EARLIEST)
    sort_at = latest + AFTER if _sort_key(drafts[current]) <= latest else drafts[current].sort_at
    drafts[current] = replace(drafts[current], sort_at=sort_at, current=True)
    return drafts


def normalize(body: bytes, *, received_at: datetime) -> NormalizedWebhook:
    """One AfterShip webhook; raises MalformedPayload for anything that is not one."""
    hook = envelope(PARTNER, Webhook, body)
    if hook.event != TRACKING_UPDATE:
        return no_events(PARTNER, hook.event_id, received_at)
    tracking = member(PARTNER, Tracking, hook.msg, "msg", "a tracking_update carries the tracking")
    signer = proof(tracking.signed_by)
    drafts = [
        _draft(index, checkpoint, signer, received_at)
        for index, checkpoint in enumerate(tracking.checkpoints)
    ]
    return webhook(
        PARTNER,
        dedupe_key=hook.event_id,
        drafts=_current_last(tracking, _untimed_keep_their_place(drafts)),
        references=PartnerReferences(tracking_number=tracking.tracking_number),
        received_at=received_at,
        subject=tracking.tracking_number,
    )
