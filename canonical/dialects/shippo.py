"""Shippo ``track_updated`` webhooks → canonical events.

- Webhook dedupe key: ``data.tracking_status.object_id`` (else a hash of the body).
- Every ``data.tracking_history`` entry is one event, oldest first, plus ``tracking_status``
  when the history does not hold it yet. Each event's dedupe key is its ``object_id`` (else
  hashed from the tracking number, ``status_date`` and ``STATUS/substatus``).
- Shippo documents UTC: a naive ``status_date`` is read as UTC.
- Shippo gives no signer: its events carry no proof of delivery.
- Other webhook events (``transaction_created``…) are valid but carry no shipment event.
"""

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

    def same_as(self, other: "TrackingStatus") -> bool:
        if self.object_id or other.object_id:
            return self.object_id == other.object_id
        mine = (self.status_date, self.status, self.sub_code)
        return mine == (other.status_date, other.status, other.sub_code)


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


def _history(track: Track) -> list[TrackingStatus]:
    current = track.tracking_status
    history = list(track.tracking_history)
    if current and not any(current.same_as(entry) for entry in history):
        history.append(current)
    return history


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
        drafts=[_draft(status) for status in _history(track)],
        references=PartnerReferences(tracking_number=track.tracking_number),
        received_at=received_at,
        subject=track.tracking_number,
    )
