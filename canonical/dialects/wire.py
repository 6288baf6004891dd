"""What every normalizer shares: parsing a body, timestamps, locations, building the events.

Guarantees of :func:`webhook` (hence of every normalizer):

- events are oldest first (a stable sort on ``sort_at``, else ``occurred_at``: ties keep the
  order the partner documents);
- ``dedupe_key`` is the partner's own event id, else
  ``hashed_dedupe_key(subject, occurred_at in UTC, raw_code)``: the instant, not its spelling,
  identifies the event (EasyPost, for one, may restate a time in the local zone once it knows
  the place); ``hashed_code`` replaces the raw code where that is too coarse to tell events
  apart. ``event_id = event_id_for(partner, key)``;
- ``recorded_at`` is ``received_at``; ``occurred_at`` keeps the partner's UTC offset, and
  ``time_basis`` says how it was derived (:mod:`canonical.dialects.times`); an event whose time
  is RECEIVED hashes no time into its dedupe key (a redelivery is received later);
- ``proof_of_delivery`` is only ever set on DELIVERED events;
- ``current_event_id`` is the ``event_id`` of the one draft flagged ``current`` (the vendor's
  own current status), else None; more than one flagged draft is a programming error;
- anything pydantic refuses in partner data is a :class:`MalformedPayload` naming the field.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
)

from canonical.codes import COUNTRY_CODES
from canonical.dialects.errors import MalformedPayload
from canonical.dialects.normalized import MAX_EVENTS, NormalizedWebhook, PartnerReferences
from canonical.dialects.signers import person
from canonical.dialects.table import Resolution
from canonical.events import (
    EventClassifier,
    EventLocation,
    EventSource,
    ShipmentEvent,
    TimeBasis,
    event_id_for,
    hashed_dedupe_key,
)
from canonical.milestones import Milestone, ProofOfDelivery

ALPHA3_TO_ALPHA2 = {country.alpha_3: country.alpha_2 for country in pycountry.countries}
"""Read at import time, as in :mod:`canonical.codes` (the workflow sandbox forbids file I/O)."""

NO_TIME = datetime(1970, 1, 1, tzinfo=UTC)
"""The time hashed into the dedupe key of an event the partner gave no time."""

UNLOCODE_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789")

M = TypeVar("M", bound=BaseModel)


class Wire(BaseModel):
    """A partner's JSON object: unknown fields are ignored, known ones are checked."""

    model_config = ConfigDict(extra="ignore")


PartnerId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
"""A partner identifier (event id, tracking number…): never empty."""


def _assume_utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


UtcIfNaive = Annotated[datetime, AfterValidator(_assume_utc)]
"""A timestamp of a partner that documents UTC: a naive value is read as UTC."""


def _field(loc: tuple[int | str, ...], prefix: str) -> str:
    parts = [prefix] if prefix else []
    for part in loc:
        if isinstance(part, int) and parts:
            parts[-1] += f"[{part}]"
        else:
            parts.append(str(part))
    return ".".join(parts) or "(body)"


def malformed(partner: str, err: ValidationError, prefix: str = "") -> MalformedPayload:
    """The first problem pydantic found, as a one-line :class:`MalformedPayload`."""
    problems = err.errors(include_url=False)
    first = problems[0]
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return MalformedPayload(partner, _field(first["loc"], prefix), first["msg"] + more)


def decode(partner: str, body: bytes) -> Any:
    """The JSON value of ``body``."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise MalformedPayload(partner, None, f"not JSON ({err})") from err


def validate(partner: str, model: type[M], data: Any, prefix: str = "") -> M:
    """``data`` as ``model``; ``prefix`` is the dotted path of ``data`` in the body."""
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise malformed(partner, err, prefix) from err


def envelope(partner: str, model: type[M], body: bytes) -> M:
    """The whole ``body``: JSON, validated as the partner's outer ``model``."""
    return validate(partner, model, decode(partner, body))


def member(partner: str, model: type[M], data: Any, field: str, missing: str) -> M:
    """The envelope's member ``field`` (``data``) as ``model``; ``missing`` says why when None."""
    if data is None:
        raise MalformedPayload(partner, field, missing)
    return validate(partner, model, data, field)


def body_key(body: bytes) -> str:
    """The dedupe key of a payload that has no id of its own."""
    return "b:" + hashlib.sha256(body).hexdigest()[:32]


def text(value: str | None) -> str | None:
    """``value`` stripped, or None when it is empty."""
    value = value.strip() if value else None
    return value or None


def country(code: str | None) -> str | None:
    """An ISO 3166-1 alpha-2 code from an alpha-2 or alpha-3 ``code``, else None."""
    code = (code or "").strip().upper()
    code = ALPHA3_TO_ALPHA2.get(code, code)
    return code if code in COUNTRY_CODES else None


def unlocode(code: str | None) -> str | None:
    """A well-formed UN/LOCODE (``DEHAM``), else None."""
    code = (code or "").strip().upper()
    valid = len(code) == 5 and code[:2].isalpha() and set(code[2:]) <= UNLOCODE_LETTERS
    return code if valid else None


def location(
    *,
    name: str | None = None,
    city: str | None = None,
    postal_code: str | None = None,
    country_code: str | None = None,
    un_locode: str | None = None,
) -> EventLocation | None:
    """An :class:`EventLocation` of the valid parts, or None when nothing is left."""
    locode = unlocode(un_locode)
    parts = {
        "name": text(name),
        "city": text(city),
        "postal_code": text(postal_code),
        "country": country(country_code) or country(locode[:2] if locode else None),
        "unlocode": locode,
    }
    return EventLocation(**parts) if any(parts.values()) else None


def proof(signed_by: str | None, document_uri: str | None = None) -> ProofOfDelivery | None:
    """A proof of delivery when the partner names a signer (or a document).

    A placeholder in the signer field (``"Signature not required"``…,
    :mod:`canonical.dialects.signers`) is the carrier confirming a delivery nobody signed for:
    a proof of delivery without a signature. No signer field and no document: no proof.
    """
    document = text(document_uri)
    if text(signed_by) is None and document is None:
        return None
    return ProofOfDelivery(signed_by=person(signed_by), document_uri=document)


@dataclass(frozen=True)
class Draft:
    """One partner event, before it gets its identity."""

    occurred_at: datetime
    resolution: Resolution
    raw_status: str | None
    raw_sub_status: str | None = None
    partner_event_id: str | None = None
    """The partner's own id of this event; None → a hashed dedupe key."""
    classifier: EventClassifier = EventClassifier.ACTUAL
    location: EventLocation | None = None
    reason: str | None = None
    retracts: str | None = None
    """The partner's id of an event this one withdraws."""
    proof_of_delivery: ProofOfDelivery | None = None
    sort_at: datetime | None = None
    """Orders the events when ``occurred_at`` does not (DCSA: when the event was created)."""
    hashed_code: str | None = None
    """What identifies the event in a hashed dedupe key when the raw code is too coarse."""
    time_basis: TimeBasis = TimeBasis.OFFSET
    """How ``occurred_at`` was derived (:func:`canonical.dialects.times.place`)."""
    current: bool = False
    """The vendor's own current status (at most one draft of a payload): the shipment follows
    it whatever the times say (``NormalizedWebhook.current_event_id``)."""


def _event(partner: str, draft: Draft, subject: str, received_at: datetime) -> ShipmentEvent:
    raw_code = draft.resolution.raw_code
    hashed = draft.hashed_code or raw_code
    received = draft.time_basis is TimeBasis.RECEIVED
    instant = NO_TIME if received else draft.occurred_at.astimezone(UTC)
    key = draft.partner_event_id or hashed_dedupe_key(subject, instant, hashed)
    milestone = draft.resolution.milestone
    return ShipmentEvent(
        event_id=event_id_for(partner, key),
        dedupe_key=key,
        milestone=milestone,
        classifier=draft.classifier,
        occurred_at=draft.occurred_at,
        time_basis=draft.time_basis,
        recorded_at=received_at,
        location=draft.location,
        reason=text(draft.reason),
        source=EventSource(
            partner=partner,
            partner_event_id=draft.partner_event_id,
            raw_status=text(draft.raw_status),
            raw_sub_status=text(draft.raw_sub_status),
            raw_code=text(raw_code),
        ),
        retracts_event_id=event_id_for(partner, draft.retracts) if draft.retracts else None,
        proof_of_delivery=draft.proof_of_delivery if milestone is Milestone.DELIVERED else None,
    )


def webhook(
    partner: str,
    *,
    dedupe_key: str,
    drafts: list[Draft],
    references: PartnerReferences,
    received_at: datetime,
    subject: str,
) -> NormalizedWebhook:
    """The normalized payload; ``subject`` (the tracking number…) salts hashed event keys."""
    if received_at.tzinfo is None or received_at.utcoffset() is None:
        raise ValueError("received_at must be timezone-aware")
    if len(drafts) > MAX_EVENTS:
        raise MalformedPayload(partner, "events", f"{len(drafts)} events; at most {MAX_EVENTS}")
    if sum(draft.current for draft in drafts) > 1:
        raise ValueError("at most one draft is the current status")
    ordered = sorted(drafts, key=lambda draft: draft.sort_at or draft.occurred_at)
    try:
        events = [_event(partner, draft, subject, received_at) for draft in ordered]
    except ValidationError as err:
        raise malformed(partner, err, "event") from err
    current = next((e.event_id for d, e in zip(ordered, events, strict=True) if d.current), None)
    return NormalizedWebhook(
        partner=partner, dedupe_key=dedupe_key, events=events, references=references,
        current_event_id=current,
    )  # fmt: skip


def no_events(partner: str, dedupe_key: str, received_at: datetime) -> NormalizedWebhook:
    """A valid payload of the partner that carries no shipment event."""
    return webhook(
        partner,
        dedupe_key=dedupe_key,
        drafts=[],
        references=PartnerReferences(),
        received_at=received_at,
        subject="",
    )
