"""DHL Shipment Tracking – Unified responses (``{"shipments": [...]}``) → canonical events.

Borderflow polls DHL, so the payload is a tracking response, not a webhook:

- Payload dedupe key: a hash of the body (the response has no id).
- Every ``shipments[].events`` entry is one event; DHL lists them newest first, they come out
  oldest first. The shipment's ``status`` repeats the newest event: it adds nothing.
- The milestone comes from ``statusCode`` only, never from the free-text ``status``.
- An event has no id: its dedupe key is hashed from the tracking number (``shipments[].id``),
  ``timestamp`` and ``statusCode/status``: with five status codes and minute-precision times,
  the code alone would merge distinct scans (departed, arrived… are all ``transit``).
- DHL documents UTC, so a naive ``timestamp`` is read as UTC.
- ``details.proofOfDelivery`` (``signedBy.name`` + ``documentUrl``) is the proof of delivery of
  DELIVERED events. Every shipment of one response must have the same tracking number.
"""

from datetime import datetime

from canonical.dialects.errors import MalformedPayload
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
    proof,
    webhook,
)
from canonical.milestones import ProofOfDelivery

PARTNER = "dhl"
TABLE = load_table(PARTNER)


class Address(Wire):
    addressLocality: str | None = None
    postalCode: str | None = None
    countryCode: str | None = None


class Place(Wire):
    address: Address | None = None


class Event(Wire):
    timestamp: UtcIfNaive
    statusCode: str | None = None
    status: str | None = None
    statusDetailed: str | None = None
    description: str | None = None
    location: Place | None = None


class SignedBy(Wire):
    name: str | None = None


class Proof(Wire):
    signedBy: SignedBy | None = None
    documentUrl: str | None = None


class Details(Wire):
    proofOfDelivery: Proof | None = None


class Shipment(Wire):
    id: PartnerId
    events: tuple[Event, ...] = ()
    details: Details | None = None


class Response(Wire):
    shipments: list[Shipment]


def _proof(shipment: Shipment) -> ProofOfDelivery | None:
    pod = shipment.details.proofOfDelivery if shipment.details else None
    if pod is None:
        return None
    return proof(pod.signedBy.name if pod.signedBy else None, pod.documentUrl)


def _draft(event: Event, signer: ProofOfDelivery | None) -> Draft:
    address = (event.location.address if event.location else None) or Address()
    return Draft(
        occurred_at=event.timestamp,
        resolution=TABLE.resolve(event.statusCode),
        raw_status=event.status,
        raw_sub_status=event.statusDetailed,
        location=location(
            city=address.addressLocality,
            postal_code=address.postalCode,
            country_code=address.countryCode,
        ),
        reason=event.description or event.status,
        proof_of_delivery=signer,
        hashed_code=f"{event.statusCode or ''}/{event.status or ''}",
    )


def _drafts(shipment: Shipment) -> list[Draft]:
    signer = _proof(shipment)
    return [_draft(event, signer) for event in reversed(shipment.events)]


def normalize(body: bytes, *, received_at: datetime) -> NormalizedWebhook:
    """One tracking response; raises MalformedPayload for anything that is not one."""
    response = envelope(PARTNER, Response, body)
    numbers = [shipment.id for shipment in response.shipments]
    for index, number in enumerate(numbers):
        if number != numbers[0]:
            raise MalformedPayload(
                PARTNER, f"shipments[{index}].id", f"{number!r} is not {numbers[0]!r}"
            )
    tracking_number = numbers[0] if numbers else None
    return webhook(
        PARTNER,
        dedupe_key=body_key(body),
        drafts=[draft for shipment in response.shipments for draft in _drafts(shipment)],
        references=PartnerReferences(tracking_number=tracking_number),
        received_at=received_at,
        subject=tracking_number or "",
    )
