"""The DHL-style carrier (``dhl``) behind :class:`~activities.carriers.port.CarrierPort`.

Wire format: ``docs/partners.md`` § Carrier: DHL-style API (body mapping in
:mod:`activities.carriers.dhl_wire`). Guarantees, beyond the port's:

- auth is the ``DHL-API-Key`` header (never in a message or log line); errors are
  problem+json, their ``detail`` becomes the error message;
- DHL takes no idempotency keys, so ``book`` searches before it creates:
  ``GET /shipments?customerReference=<reference>`` first, and a live booking found there is
  returned as is (the oldest, if a race ever made two); only when there is none does it
  ``POST /shipments``. A timeout after DHL booked is therefore healed by the retry, which
  finds the booking. ``idempotency_key`` is not sent (DHL has no such header);
- ``cancel`` is ``DELETE /shipments/{n}`` (repeat-safe); ``409`` once picked up is the
  non-retryable "too late to cancel" (not the retryable conflict a ``409`` usually is);
- labels: ``Document(type=label, format=pdf, sha256=<of the decoded bytes>)`` whose ``uri``
  is the documents URL (``{dhl}/shipments/{n}/documents``, the label being its ``label``
  entry). Not a ``data:`` URI, so no label bytes travel through workflow histories; the
  hash proves what a later fetch returns. ``label`` asks the documents endpoint; a booking
  whose label is unreadable still succeeds (label ``None``) and ``label`` reports the break;
- ``track`` polls Unified tracking (``GET /track/shipments?trackingNumber=<n>``) and
  normalizes the answer with the ``dhl`` dialect (event ids stable across polls); ``404``
  (not known to tracking yet) is no events, not an error.
"""

import base64
import binascii
import hashlib
import logging
from datetime import UTC, datetime

import httpx
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError

from activities.carriers.dhl_wire import (
    PARTNER,
    PRODUCT_CODES,
    DhlBooking,
    DhlCancelled,
    DhlDocument,
    DhlDocuments,
    DhlSearch,
    dhl_shipment,
)
from activities.carriers.http import CarrierHttp, contract_error, json_error_body
from activities.carriers.settings import CarrierSettings, configured
from activities.errors import business_error, new_http_client
from canonical.billing import Charge
from canonical.booking import CarrierBooking
from canonical.dialects import MalformedPayload, normalize
from canonical.documents import Document, DocumentFormat, DocumentType
from canonical.events import ShipmentEvent
from canonical.shipment import Shipment

logger = logging.getLogger(__name__)

IMAGE_FORMATS = {"PDF": DocumentFormat.PDF, "PNG": DocumentFormat.PNG, "ZPL": DocumentFormat.ZPL}


def problem_detail(response: httpx.Response) -> str:
    """``title: detail (field: message; …)`` of a problem+json body (else the raw text)."""
    body = json_error_body(response)
    if body is None:
        return response.text[:200]
    title, detail = body.get("title"), body.get("detail")
    text = ": ".join(str(part) for part in (title, detail) if part) or str(body)[:200]
    fields = [
        f"{e.get('field')}: {e.get('message')}"
        for e in body.get("errors") or []
        if isinstance(e, dict)
    ]
    return f"{text} ({'; '.join(fields)})" if fields else text


def label_document(documents: list[DhlDocument], uri: str) -> Document | None:
    """The ``label`` among ``documents`` (``None`` if there is none), hashed, at ``uri``."""
    label = next((d for d in documents if d.typeCode.lower() == "label"), None)
    if label is None:
        return None
    document_format = IMAGE_FORMATS.get(label.imageFormat.upper())
    if document_format is None:
        raise contract_error(PARTNER, "label", f"image format {label.imageFormat!r}")
    try:
        content = base64.b64decode(label.content, validate=True)
    except (binascii.Error, ValueError) as err:
        raise contract_error(PARTNER, "label", "content is not base64") from err
    return Document(
        type=DocumentType.LABEL,
        format=document_format,
        uri=uri,
        sha256=hashlib.sha256(content).hexdigest(),
    )


class DhlCarrier:
    """:class:`~activities.carriers.port.CarrierPort` for the DHL-style API."""

    name: str = PARTNER
    webhook_partner: str = PARTNER

    def __init__(self, url: str, api_key: SecretStr, *, timeout_s: float = 20.0) -> None:
        headers = {"DHL-API-Key": api_key.get_secret_value(), "Accept": "application/json"}
        http = new_http_client(url, timeout_s=timeout_s, headers=headers, partner=PARTNER)
        self._http = CarrierHttp(PARTNER, http, problem_detail)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def book(
        self, reference: str, shipment: Shipment, *, idempotency_key: str
    ) -> CarrierBooking:
        """The live booking for ``reference`` if DHL has one, else a new one."""
        body = dhl_shipment(reference, shipment, now=datetime.now(UTC))  # refusals before calls
        service = PRODUCT_CODES[shipment.service_level]
        found = await self._http.call(
            "GET", "/shipments", DhlSearch, params={"customerReference": reference}
        )
        if found.shipments:
            if len(found.shipments) > 1:
                logger.warning(
                    "dhl: %d live bookings for %s; using the oldest",
                    len(found.shipments),
                    reference,
                )
            existing = found.shipments[0]
            logger.info("dhl: %s already booked as %s", reference, existing.shipmentTrackingNumber)
            return self._booking(existing, service)
        booked = await self._http.call("POST", "/shipments", DhlBooking, json=body)
        logger.info("dhl: %s booked as %s", reference, booked.shipmentTrackingNumber)
        return self._booking(booked, service)

    async def cancel(self, booking: CarrierBooking) -> None:
        """Cancel before pickup; cancelling a cancelled booking succeeds."""
        number = booking.booking_reference
        response = await self._http.send("DELETE", f"/shipments/{number}", passthrough=(409,))
        if response.status_code == 409:
            raise business_error(
                PARTNER, f"too late to cancel {number}: {problem_detail(response)}"
            )
        cancelled = self._http.parse(response, DhlCancelled)
        if cancelled.status.lower() != "cancelled":
            raise contract_error(PARTNER, "DELETE response", f"status {cancelled.status!r}")
        logger.info("dhl: %s cancelled", number)

    async def label(self, booking: CarrierBooking) -> Document:
        """The label from the documents endpoint, hashed."""
        path = self._documents_path(booking.booking_reference)
        found = await self._http.call("GET", path, DhlDocuments)
        label = label_document(found.documents, self._http.base_url + path)
        if label is None:
            raise contract_error(PARTNER, f"GET {path} response", "no label document")
        return label

    async def track(self, booking: CarrierBooking, *, received_at: datetime) -> list[ShipmentEvent]:
        """Every scan so far, oldest first, through the ``dhl`` dialect (404 → none yet)."""
        response = await self._http.send(
            "GET",
            "/track/shipments",
            params={"trackingNumber": booking.tracking_number},
            passthrough=(404,),
        )
        if response.status_code == 404:
            return []
        try:
            normalized = normalize(PARTNER, response.content, received_at=received_at)
        except MalformedPayload as err:
            raise contract_error(PARTNER, "tracking response", str(err)) from err
        return normalized.events

    async def final_charges(self, booking: CarrierBooking) -> list[Charge] | None:
        """DHL's shipment API does not report billed charges: they come with DHL's invoice."""
        return None

    @staticmethod
    def _documents_path(number: str) -> str:
        return f"/shipments/{number}/documents"

    def _booking(self, found: DhlBooking, service: str) -> CarrierBooking:
        number = found.shipmentTrackingNumber
        uri = self._http.base_url + self._documents_path(number)
        pieces = [p.trackingNumber for p in found.packages if p.trackingNumber != number]
        try:
            label = label_document(found.documents, uri)
        except ApplicationError as err:  # booked all the same: label() will report it
            logger.warning("dhl: %s booked without a usable label: %s", number, err)
            label = None
        try:
            return CarrierBooking(
                carrier=PARTNER,
                service=service,
                booking_reference=number,
                tracking_numbers=[number, *pieces],
                label=label,
            )
        except ValueError as err:  # pydantic's ValidationError included
            raise contract_error(PARTNER, "booking", " ".join(str(err).split())[:300]) from err


def from_settings(settings: CarrierSettings) -> DhlCarrier | None:
    """The adapter the registry builds (``None``: no key is set, not configured here)."""
    key = settings.dhl_api_key
    if key is None or not configured(key):
        return None
    return DhlCarrier(settings.dhl_url, key, timeout_s=settings.dhl_timeout_s)
