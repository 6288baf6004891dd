"""The EasyPost-style carrier (``easypost``) behind :class:`~activities.carriers.port.CarrierPort`.

Wire format: ``docs/partners.md`` § Carrier: EasyPost-style API. Guarantees, beyond the port's:

- auth is HTTP Basic with the API key as user name (never in a message or log line);
- ``book`` is a one-call buy (``POST /v2/shipments``) sent with the caller's
  ``Idempotency-Key``: a repeat with the same key and shipment replays the first purchase, so
  exactly one label is bought. The body is built before any call, from the shipment alone (no
  clock), so a repeat sends the same bytes. One parcel per shipment: more packages is a
  non-retryable refusal, raised before anything is sent;
- units are converted here, at the edge: centimetres → inches, kilograms → ounces (to 0.1,
  never rounded down to 0);
- ``cancel`` is a refund (``POST /v2/shipments/{id}/refund``, repeat-safe); a refund the
  carrier rejects is a non-retryable "too late to cancel";
- ``label`` asks the carrier for the shipment's ``postage_label`` (format from the URL);
- ``track`` reads the tracker (``GET /v2/shipments/{id}`` for its id, then
  ``GET /v2/trackers/{id}``), wraps it in a ``tracker.updated`` Event and normalizes it with
  the ``easypost`` dialect: a poll and a webhook carrying the same scan give the same
  ``event_id``.
"""

import json
import logging
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from pydantic import AwareDatetime, SecretStr

from activities.carriers.http import CarrierHttp, contract_error, json_error_body
from activities.carriers.settings import CarrierSettings, configured
from activities.errors import business_error, new_http_client
from activities.wire import WireModel
from canonical.billing import Charge, ChargeKind
from canonical.booking import CarrierBooking
from canonical.dialects import MalformedPayload, normalize
from canonical.documents import Document, DocumentFormat, DocumentType
from canonical.events import ShipmentEvent
from canonical.goods import Commodity
from canonical.money import Money
from canonical.parties import Party
from canonical.shipment import ServiceLevel, Shipment

logger = logging.getLogger(__name__)

PARTNER = "easypost"
CM_PER_INCH = Decimal("2.54")
OUNCES_PER_KG = Decimal("35.27396195")
LABEL_FORMATS = {
    ".png": DocumentFormat.PNG,
    ".pdf": DocumentFormat.PDF,
    ".zpl": DocumentFormat.ZPL,
}
REFUND_REJECTED = frozenset({"rejected", "not_applicable"})


# -- wire models (extra fields ignored) ---------------------------------------------------
class Rate(WireModel):
    carrier: str | None = None
    service: str | None = None
    rate: Decimal
    currency: str


class PostageLabel(WireModel):
    label_url: str | None = None


class TrackerRef(WireModel):
    id: str


class EasyPostShipment(WireModel):
    id: str
    reference: str | None = None
    tracking_code: str
    created_at: AwareDatetime | None = None
    selected_rate: Rate | None = None
    postage_label: PostageLabel | None = None
    tracker: TrackerRef | None = None
    refund_status: str | None = None


class Tracker(WireModel):
    id: str
    tracking_code: str
    status: str
    updated_at: str | None = None


def easypost_error(response: httpx.Response) -> str:
    """The message of ``{"error": {"code", "message", "errors": [{"field", "message"}]}}``."""
    body = json_error_body(response)
    error = body.get("error") if body else None
    if not isinstance(error, dict):
        return response.text[:200]
    text = f"{error.get('code')}: {error.get('message')}"
    fields = [
        f"{e.get('field')}: {e.get('message')}"
        for e in error.get("errors") or []
        if isinstance(e, dict)
    ]
    return f"{text} ({'; '.join(fields)})" if fields else text


# -- request body (units converted here) ------------------------------------------------
def _round(value: Decimal) -> str:
    """To 0.1 (EasyPost's precision), never down to zero: a tiny parcel still weighs 0.1 oz."""
    step = Decimal("0.1")
    return str(max(value.quantize(step, rounding=ROUND_HALF_UP), step))


def easypost_address(party: Party) -> dict[str, Any]:
    """An EasyPost Address; ``state`` is the ISO 3166-2 subdivision without its country."""
    address = party.address
    return {
        "name": party.name,
        "street1": address.lines[0],
        "street2": ", ".join(address.lines[1:]) or None,
        "city": address.city,
        "state": address.subdivision.split("-", 1)[1] if address.subdivision else None,
        "zip": address.postal_code,
        "country": address.country,
        "phone": party.phone,
        "email": party.email,
    }


def customs_item(line: Commodity) -> dict[str, Any]:
    """One CustomsItem: ``value`` is the line's total value, weight in ounces when known."""
    weight = line.gross_weight_kg or line.net_weight_kg
    return {
        "description": line.description,
        "quantity": str(line.quantity),
        "value": str(line.value.amount),
        "currency": line.value.currency,
        "hs_tariff_number": line.tariff_code,
        "origin_country": line.origin_country,
        "weight": _round(weight * OUNCES_PER_KG) if weight else None,
    }


def easypost_shipment(reference: str, shipment: Shipment) -> dict[str, Any]:
    """The ``POST /v2/shipments`` body for a one-call buy of ``shipment``'s single parcel."""
    if len(shipment.packages) != 1:
        raise business_error(
            PARTNER,
            f"a shipment is one parcel here, got {len(shipment.packages)} packages",
        )
    (package,) = shipment.packages
    return {
        "shipment": {
            "reference": reference,
            "from_address": easypost_address(shipment.shipper),
            "to_address": easypost_address(shipment.consignee),
            "parcel": {
                "length": _round(package.length_cm / CM_PER_INCH),
                "width": _round(package.width_cm / CM_PER_INCH),
                "height": _round(package.height_cm / CM_PER_INCH),
                "weight": _round(package.weight_kg * OUNCES_PER_KG),
            },
            "customs_info": {
                "contents_type": "merchandise",
                "customs_certify": True,
                "customs_signer": shipment.shipper.name,
                "customs_items": [customs_item(line) for line in shipment.commodities],
            },
            "service": "Express" if shipment.service_level == ServiceLevel.EXPRESS else "Standard",
        }
    }


# -- answers → canonical ------------------------------------------------------------------
def label_document(label_url: str) -> Document | None:
    """The label at ``label_url``, its format from the URL's extension (png, pdf, zpl).

    ``None`` when the URL names no format we know: a booking still succeeds without its label
    (the label was bought), and :meth:`EasyPostCarrier.label` reports the contract break.
    """
    try:
        path = httpx.URL(label_url).path.lower()
    except httpx.InvalidURL:
        return None
    for extension, document_format in LABEL_FORMATS.items():
        if path.endswith(extension):
            return Document(type=DocumentType.LABEL, format=document_format, uri=label_url)
    return None


def booking_of(bought: EasyPostShipment) -> CarrierBooking:
    """The canonical booking of a purchased shipment."""
    rate = bought.selected_rate
    label = bought.postage_label
    try:
        charges = (
            [
                Charge(
                    kind=ChargeKind.FREIGHT, amount=Money(amount=rate.rate, currency=rate.currency)
                )
            ]
            if rate
            else []
        )
        return CarrierBooking(
            carrier=PARTNER,
            service=rate.service if rate else None,
            booking_reference=bought.id,
            tracking_numbers=[bought.tracking_code],
            label=label_document(label.label_url) if label and label.label_url else None,
            charges=charges,
            booked_at=bought.created_at,
        )
    except ValueError as err:  # pydantic's ValidationError included
        raise contract_error(PARTNER, "shipment", " ".join(str(err).split())[:300]) from err


class EasyPostCarrier:
    """:class:`~activities.carriers.port.CarrierPort` for the EasyPost-style API."""

    name: str = PARTNER
    webhook_partner: str = PARTNER

    def __init__(self, url: str, api_key: SecretStr, *, timeout_s: float = 20.0) -> None:
        auth = httpx.BasicAuth(api_key.get_secret_value(), "")
        http = new_http_client(
            url,
            timeout_s=timeout_s,
            auth=auth,
            headers={"Accept": "application/json"},
            partner=PARTNER,
        )
        self._http = CarrierHttp(PARTNER, http, easypost_error)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def book(
        self, reference: str, shipment: Shipment, *, idempotency_key: str
    ) -> CarrierBooking:
        """Buy the label once per ``idempotency_key`` (see the module docstring)."""
        body = easypost_shipment(reference, shipment)
        bought = await self._http.call(
            "POST", "/v2/shipments", EasyPostShipment, json=body, idempotency_key=idempotency_key
        )
        if bought.reference is not None and bought.reference != reference:
            raise contract_error(
                PARTNER, "POST /v2/shipments response", f"reference {bought.reference!r}"
            )
        logger.info("easypost: %s booked as %s (%s)", reference, bought.id, bought.tracking_code)
        return booking_of(bought)

    async def cancel(self, booking: CarrierBooking) -> None:
        """Refund the label; refunding a refunded label succeeds."""
        path = f"/v2/shipments/{booking.booking_reference}/refund"
        refunded = await self._http.call("POST", path, EasyPostShipment)
        if refunded.refund_status in REFUND_REJECTED:
            raise business_error(
                PARTNER,
                f"too late to cancel {booking.booking_reference}: refund {refunded.refund_status}",
            )
        logger.info("easypost: %s refund %s", refunded.id, refunded.refund_status)

    async def label(self, booking: CarrierBooking) -> Document:
        """The shipment's postage label, as the carrier reports it now."""
        bought = await self._shipment(booking)
        label_url = bought.postage_label.label_url if bought.postage_label else None
        label = label_document(label_url) if label_url else None
        if label is None:
            raise contract_error(PARTNER, "shipment", f"no usable label URL: {label_url!r}")
        return label

    async def track(self, booking: CarrierBooking, *, received_at: datetime) -> list[ShipmentEvent]:
        """Every scan so far, oldest first, through the ``easypost`` dialect."""
        bought = await self._shipment(booking)
        if bought.tracker is None:
            return []
        response = await self._http.send("GET", f"/v2/trackers/{bought.tracker.id}")
        tracker = self._http.parse(response, Tracker)
        # The poll answers a bare Tracker; webhooks carry it in an Event. Wrapping it lets one
        # normalizer (and so one event_id per scan) serve both.
        event = {
            "object": "Event",
            "id": f"poll_{tracker.id}_{tracker.updated_at or ''}",
            "description": "tracker.updated",
            "result": json.loads(response.content),
        }
        try:
            normalized = normalize(PARTNER, json.dumps(event).encode(), received_at=received_at)
        except MalformedPayload as err:
            raise contract_error(PARTNER, "tracker", str(err)) from err
        return normalized.events

    async def final_charges(self, booking: CarrierBooking) -> list[Charge] | None:
        """The purchased label's rate: EasyPost bills postage when the label is bought."""
        return booking_of(await self._shipment(booking)).charges

    async def _shipment(self, booking: CarrierBooking) -> EasyPostShipment:
        path = f"/v2/shipments/{booking.booking_reference}"
        return await self._http.call("GET", path, EasyPostShipment)


def from_settings(settings: CarrierSettings) -> EasyPostCarrier | None:
    """The adapter the registry builds (``None``: no key is set, not configured here)."""
    key = settings.carrier_api_key
    if not configured(key):
        return None
    return EasyPostCarrier(settings.carrier_url, key, timeout_s=settings.carrier_timeout_s)
