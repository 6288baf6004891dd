"""Toy Post's adapter behind Borderflow's ``CarrierPort``, over its REST API.

Guarantees (the port's): ``book`` is idempotent by ``Idempotency-Key``; ``cancel`` is
repeat-safe; a 4xx is a refusal, a 5xx/429/timeout retried (``CarrierHttp``); the key never
leaves the client's default headers.
"""

from datetime import datetime

import httpx
from pydantic import BaseModel

from activities.carriers.http import CarrierHttp, json_error_body
from activities.carriers.settings import CarrierSettings
from activities.errors import new_http_client
from canonical.billing import Charge, ChargeKind
from canonical.booking import CarrierBooking
from canonical.documents import Document, DocumentFormat, DocumentType
from canonical.events import ShipmentEvent
from canonical.money import Money
from canonical.shipment import Shipment
from toy_partner import NAME
from toy_partner.dialect import tracked
from toy_partner.settings import ToySettings
from toy_partner.wire import ToyBooking, ToyEvent


class _Events(BaseModel):
    events: list[ToyEvent]


def _detail(response: httpx.Response) -> str:
    body = json_error_body(response)
    return str((body or {}).get("error", "")) or "refused"


def _freight(booking: ToyBooking, *, provisional: bool) -> Charge:
    amount = Money(amount=booking.charge.amount, currency=booking.charge.currency)
    return Charge(kind=ChargeKind.FREIGHT, amount=amount, provisional=provisional)


class ToyCarrier:
    name: str = NAME
    webhook_partner: str = NAME

    def __init__(self, settings: ToySettings) -> None:
        assert settings.toy_api_key is not None
        http = new_http_client(
            settings.toy_url, timeout_s=settings.toy_timeout_s, partner=NAME,
            headers={"X-Api-Key": settings.toy_api_key.get_secret_value()},
        )  # fmt: skip
        self._http = CarrierHttp(NAME, http, _detail)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def book(
        self, reference: str, shipment: Shipment, *, idempotency_key: str
    ) -> CarrierBooking:
        body = {"reference": reference, "parcels": len(shipment.packages)}
        booked = await self._http.call(
            "POST", "/v1/bookings", ToyBooking, json=body, idempotency_key=idempotency_key
        )
        return CarrierBooking(
            carrier=NAME, booking_reference=booked.id, tracking_numbers=[booked.tracking_number],
            label=Document(type=DocumentType.LABEL, format=DocumentFormat.PDF,
                           uri=booked.label_url),
            charges=[_freight(booked, provisional=True)],
        )  # fmt: skip

    async def cancel(self, booking: CarrierBooking) -> None:
        await self._http.send("DELETE", f"/v1/bookings/{booking.booking_reference}")

    async def label(self, booking: CarrierBooking) -> Document:
        assert booking.label is not None
        return booking.label

    async def track(self, booking: CarrierBooking, *, received_at: datetime) -> list[ShipmentEvent]:
        path = f"/v1/bookings/{booking.booking_reference}/events"
        found = await self._http.call("GET", path, _Events)
        return tracked(found.events, received_at=received_at)

    async def final_charges(self, booking: CarrierBooking) -> list[Charge] | None:
        """Toy Post's price is fixed at booking: its booking's charge is final."""
        found = await self._http.call("GET", f"/v1/bookings/{booking.booking_reference}",
                                      ToyBooking)  # fmt: skip
        return [_freight(found, provisional=False)]


def from_settings(settings: CarrierSettings) -> ToyCarrier | None:
    """The registry's factory: Toy Post reads its own settings; no key, not configured."""
    own = ToySettings()
    key = own.toy_api_key
    if key is None or not key.get_secret_value().strip():
        return None
    return ToyCarrier(own)
