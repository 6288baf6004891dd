"""Shippo ``track_updated`` webhooks → canonical events.

- Webhook dedupe key: ``data.tracking_status.object_id`` (else a hash of the body).
- Every ``data.tracking_history`` entry is one event, oldest first. ``tracking_status`` is
  Shippo's current status: the newest history entry again, under an ``object_id`` of its own.
  It is recognised by its content (``status``, ``substatus.code``, the ``status_date`` instant
  and ``location``) or its ``object_id``, and is then one event, not two: the history entry,
  with the history's ``object_id``. A current status the history lacks is one more event.
- The current status is the shipment's current state: its event is last (``sort_at``), even
  when Shippo stamps an earlier entry later than it, and is the payload's ``current_event_id``
  (the shipment follows it, ``workflows.progress``).
- Each event's dedupe key is its ``object_id`` (else hashed from the tracking number,
  ``status_date`` and ``STATUS/substatus``).
- Shippo documents UTC: a naive ``status_date`` is read as UTC.
- Shippo gives no signer: its events carry no proof of delivery.
- Other webhook events (``transaction_created``…) are valid but carry no shipment event.
"""

from dataclasses import replace
from datetime import datetime
from typing import Any

from canonical.dialects.normalized import NormalizedWebhook, PartnerReferences
from canonical.dialects.table import load_table
from canonical.dialects.wire import (
    Draft,
    PartnerId,
    UtcIfNaive,
    Wire,
    body_key,
    envelope,
    location,
    member,
    no_events,
    text,
    webhook,
)

PARTNER = "shippo"
TABLE = load_table(PARTNER)
TRACK_UPDATED = "track_updated"


class Substatus(Wire):
    code: str | None = None
    text: str | None = None


class Location(Wire):
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None


class TrackingStatus(Wire):
    object_id: PartnerId | None = None
    status: PartnerId
    status_details: str | None = None
    status_date: UtcIfNaive
    substatus: Substatus | None = None
    location: Location | None = None

    @property
    def sub_code(self) -> str | None:
        return self.substatus.code if self.substatus else None

    @property
    def content(self) -> tuple[object, ...]:
        """What the status says, whatever its ``object_id``: the repeat's identity."""
        where = self.location or Location()
        place = tuple(text(part) for part in (where.city, where.state, where.zip, where.country))
        return (self.status, self.sub_code, self.status_date, place)

    def same_as(self, other: "TrackingStatus") -> bool:
        both_ids = self.object_id and other.object_id
        return bool(both_ids and self.object_id == other.object_id) or (
            self.content == other.content
        )


class Track(Wire):
    tracking_number: PartnerId
    carrier: str | None = None
    tracking_status: TrackingStatus | None = None
    tracking_history: tuple[TrackingStatus, ...] = ()


class Webhook(Wire):
    event: str
    data: dict[str, Any] | None = None


def _draft(status: TrackingStatus) -> Draft:
    where = status.location or Location()
    return Draft(
        occurred_at=status.status_date,
        resolution=TABLE.resolve(status.status, status.sub_code),
        raw_status=status.status,
        raw_sub_status=status.sub_code,
        partner_event_id=status.object_id,
        location=location(city=where.city, postal_code=where.zip, country_code=where.country),
        reason=status.status_details,
    )


def _drafts(track: Track) -> list[Draft]:
    """The history's events, with the current status's event last (see the module docstring)."""
    history = list(track.tracking_history)
    current = track.tracking_status
    if current is None:
        return [_draft(status) for status in history]
    repeats = [index for index, entry in enumerate(history) if current.same_as(entry)]
    if repeats:
        current = history.pop(repeats[-1])
    latest = max([current.status_date, *(entry.status_date for entry in history)])
    last = replace(_draft(current), sort_at=latest, current=True)
    return [_draft(status) for status in history] + [last]


def normalize(body: bytes, *, received_at: datetime) -> NormalizedWebhook:
    """One Shippo webhook; raises MalformedPayload for anything that is not one."""
    hook = envelope(PARTNER, Webhook, body)
    if hook.event != TRACK_UPDATED:
        return no_events(PARTNER, body_key(body), received_at)
    track = member(PARTNER, Track, hook.data, "data", "a track_updated webhook carries the track")
    current = track.tracking_status
    return webhook(
        PARTNER,
        dedupe_key=(current.object_id if current else None) or body_key(body),
        drafts=_drafts(track),
        references=PartnerReferences(tracking_number=track.tracking_number),
        received_at=received_at,
        subject=track.tracking_number,
    )
