"""Our canonical models ↔ Karrio's unified models, for one :class:`KarrioConnection`.

Guarantees: requests are built from the shipment and the booking's idempotency key alone (no
clock, no randomness), so a retried booking sends the same request; units stay kilograms and
centimetres (Karrio converts for each carrier); each parcel's ``reference_number`` is derived
from the idempotency key, so a carrier that numbers parcels by it (Karrio's ``generic``) gives
a repeat the same tracking number. Labels never travel as bytes: a :class:`Document` names the
carrier's label URL when Karrio reports one (else an opaque ``karrio:`` reference) and carries
the SHA-256 of the bytes Karrio returned. Charges come only from the carrier's own figure
(Karrio's selected rate, else the raw answer's EasyPost-style ``selected_rate``).
"""

import base64
import binascii
import hashlib
import json
from decimal import Decimal, InvalidOperation
from typing import Any

from karrio.core import models

from activities.carriers.http import contract_error
from activities.carriers.karrio_settings import KarrioConnection
from activities.errors import business_error
from canonical.billing import Charge, ChargeKind
from canonical.booking import CarrierBooking
from canonical.documents import Document, DocumentFormat, DocumentType
from canonical.money import Money
from canonical.parties import Party
from canonical.shipment import Shipment

LABEL_FORMATS = {"PDF": DocumentFormat.PDF, "PNG": DocumentFormat.PNG, "ZPL": DocumentFormat.ZPL}


def parcel_reference(idempotency_key: str, index: int) -> str:
    """A stable, digits-only parcel reference for the ``index``-th parcel of one booking."""
    digest = hashlib.sha256(f"{idempotency_key}/{index}".encode()).hexdigest()
    return str(int(digest[:10], 16))


def address(party: Party) -> Any:
    """Karrio's ``Address`` of ``party`` (the subdivision without its country as state)."""
    where = party.address
    return models.Address(
        company_name=party.name,
        person_name=party.name,
        address_line1=where.lines[0],
        address_line2=", ".join(where.lines[1:]) or None,
        city=where.city,
        state_code=where.subdivision.split("-", 1)[1] if where.subdivision else None,
        postal_code=where.postal_code,
        country_code=where.country,
        phone_number=party.phone,
        email=party.email,
        federal_tax_id=party.vat,
    )


def customs(shipment: Shipment) -> Any:
    """Karrio's ``Customs`` of an international shipment, else ``None``."""
    assert shipment.origin is not None and shipment.destination is not None
    if shipment.origin.country == shipment.destination.country:
        return None
    items = [
        models.Commodity(
            description=line.description,
            quantity=int(line.quantity) if line.quantity == int(line.quantity) else 1,
            hs_code=line.tariff_code,
            origin_country=line.origin_country,
            value_amount=float(line.value.amount),
            value_currency=line.value.currency,
            weight=float(w) if (w := line.gross_weight_kg or line.net_weight_kg) else None,
            weight_unit="KG",
        )
        for line in shipment.commodities
    ]
    return models.Customs(
        commodities=items,
        certify=True,
        signer=shipment.shipper.name,
        content_type="merchandise",
        incoterm=shipment.incoterm.value,
    )


def shipment_request(
    connection: KarrioConnection, reference: str, shipment: Shipment, *, idempotency_key: str
) -> Any:
    """Karrio's ``ShipmentRequest``; a refusal (lane, service) is raised before any call."""
    if not connection.allows(shipment.lane):
        raise business_error(connection.name, f"lane {shipment.lane} is not served here")
    service = connection.services.get(shipment.service_level)
    if service is None:
        raise business_error(
            connection.name, f"no Karrio service configured for {shipment.service_level.value}"
        )
    parcels = [
        models.Parcel(
            weight=float(package.weight_kg),
            weight_unit="KG",
            length=float(package.length_cm),
            width=float(package.width_cm),
            height=float(package.height_cm),
            dimension_unit="CM",
            reference_number=parcel_reference(idempotency_key, index),
        )
        for index, package in enumerate(shipment.packages, start=1)
    ]
    return models.ShipmentRequest(
        service=service,
        shipper=address(shipment.shipper),
        recipient=address(shipment.consignee),
        parcels=parcels,
        customs=customs(shipment),
        reference=reference,
        label_type=connection.label_type,
    )


def rate_request(connection: KarrioConnection, shipment: Shipment) -> Any:
    """Karrio's ``RateRequest`` for the services this connection books."""
    booking = shipment_request(connection, "rate", shipment, idempotency_key="rate")
    return models.RateRequest(
        shipper=booking.shipper,
        recipient=booking.recipient,
        parcels=booking.parcels,
        customs=booking.customs,
        services=sorted(set(connection.services.values())),
    )


def money(amount: Any, currency: Any) -> Money | None:
    """``Money`` of a carrier's figure, or ``None`` when it is not one."""
    try:
        return Money(amount=Decimal(str(amount)), currency=str(currency))
    except (InvalidOperation, ValueError, TypeError):
        return None


def charges_of(details: Any, raw: Any) -> list[Charge]:
    """The freight charge the carrier stated when it booked (empty when it stated none)."""
    rate = getattr(details, "selected_rate", None)
    stated = money(rate.total_charge, rate.currency) if rate and rate.currency else None
    if stated is None and isinstance(raw, dict) and isinstance(raw.get("selected_rate"), dict):
        selected = raw["selected_rate"]
        stated = money(selected.get("rate"), selected.get("currency"))
    return [] if stated is None else [Charge(kind=ChargeKind.FREIGHT, amount=stated)]


def label_of(connection: KarrioConnection, details: Any) -> Document | None:
    """The label Karrio returned (base64 in ``docs.label``), as a reference and a hash."""
    encoded = getattr(details.docs, "label", None) if details.docs else None
    document_format = LABEL_FORMATS.get(str(details.label_type or "PDF").upper())
    if not encoded or document_format is None:
        return None
    try:
        content = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError):
        return None
    url = (details.meta or {}).get("label_url")
    uri = url or f"karrio:{connection.name}/{details.shipment_identifier}/label"
    sha = hashlib.sha256(content).hexdigest()
    return Document(type=DocumentType.LABEL, format=document_format, uri=uri, sha256=sha)


def booking_of(connection: KarrioConnection, details: Any, raw: Any) -> CarrierBooking:
    """The canonical booking of Karrio's ``ShipmentDetails``."""
    meta = details.meta or {}
    try:
        return CarrierBooking(
            carrier=connection.name,
            service=meta.get("service_name"),
            booking_reference=details.shipment_identifier,
            tracking_numbers=[details.tracking_number],
            label=label_of(connection, details),
            charges=charges_of(details, raw),
        )
    except ValueError as err:  # pydantic's ValidationError included
        raise contract_error(connection.name, "shipment", " ".join(str(err).split())[:300]) from err


def tracking_request(connection: KarrioConnection, tracking_number: str) -> Any:
    """Karrio's ``TrackingRequest`` for one tracking number."""
    options = {"carrier": connection.tracking_carrier} if connection.tracking_carrier else {}
    return models.TrackingRequest(
        tracking_numbers=[tracking_number], options={tracking_number: options}
    )


def tracking_answers(raw: Any) -> list[dict[str, Any]]:
    """The carrier's tracking answers in Karrio's raw response, errors left out.

    Extensions answer one object, a list of them, or (EasyPost) ``(tracking number, answer)``
    pairs.
    """
    items = raw if isinstance(raw, list) else [raw]
    answers = [i[-1] if isinstance(i, tuple | list) and i else i for i in items]
    return [a for a in answers if isinstance(a, dict) and "error" not in a]


def dialect_body(dialect: str, raw: dict[str, Any]) -> bytes:
    """The raw tracking answer as the dialect's payload.

    EasyPost answers a poll with a bare Tracker and pushes it inside a ``tracker.updated``
    Event: wrapping it the same way lets one normalizer (one ``event_id`` per scan) serve both.
    Any other dialect gets the carrier's answer as it came.
    """
    if dialect == "easypost":
        raw = {
            "object": "Event",
            "id": f"poll_{raw.get('id')}_{raw.get('updated_at') or ''}",
            "description": "tracker.updated",
            "result": raw,
        }
    return json.dumps(raw).encode()


__all__ = [
    "booking_of",
    "charges_of",
    "dialect_body",
    "label_of",
    "parcel_reference",
    "rate_request",
    "shipment_request",
    "tracking_answers",
    "tracking_request",
]
