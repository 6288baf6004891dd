"""Carrier adapter for an EasyPost-style API (``easypost``): one-call buy of a label.

EasyPost works in inches and ounces; the canonical model in centimetres and kilograms, so the
conversion happens here, at the edge.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from pydantic import SecretStr

from activities.errors import business_error, new_http_client
from activities.rest import RestPartner
from activities.wire import WireModel
from canonical.parties import Party
from canonical.shipment import Shipment

PARTNER = "easypost"
CM_PER_INCH = Decimal("2.54")
OUNCES_PER_KG = Decimal("35.27396195")


def easypost_error(response: httpx.Response) -> str:
    """The message of an EasyPost error body ``{"error": {"code", "message"}}``."""
    try:
        error = response.json().get("error") or {}
        return f"{error.get('code')}: {error.get('message')}"
    except (ValueError, AttributeError):
        return response.text[:200]


class PostageLabel(WireModel):
    label_url: str | None = None


class Tracker(WireModel):
    id: str
    status: str


class EasyPostShipment(WireModel):
    id: str
    reference: str | None = None
    tracking_code: str
    postage_label: PostageLabel | None = None
    tracker: Tracker | None = None


def _round(value: Decimal, places: str = "0.1") -> str:
    return str(value.quantize(Decimal(places), rounding=ROUND_HALF_UP))


def easypost_address(party: Party) -> dict[str, Any]:
    lines = party.address.lines
    return {
        "name": party.name,
        "street1": lines[0],
        "street2": ", ".join(lines[1:]) or None,
        "city": party.address.city,
        "zip": party.address.postal_code,
        "country": party.address.country,
        "phone": party.phone,
        "email": party.email,
    }


def easypost_shipment(reference: str, shipment: Shipment) -> dict[str, Any]:
    """The ``POST /v2/shipments`` body for a one-call buy of ``shipment``'s single parcel."""
    if len(shipment.packages) != 1:
        raise business_error(
            PARTNER, f"a shipment is one parcel here, got {len(shipment.packages)} packages"
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
                "customs_items": [
                    {
                        "description": line.description,
                        "quantity": str(line.quantity),
                        "value": str(line.value.amount),
                        "currency": line.value.currency,
                        "hs_tariff_number": line.tariff_code,
                        "origin_country": line.origin_country,
                    }
                    for line in shipment.commodities
                ],
            },
            "service": "Express" if shipment.service_level == "express" else "Standard",
        }
    }


class EasyPostClient:
    def __init__(
        self,
        url: str,
        api_key: SecretStr,
        *,
        timeout_s: float = 20.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        auth = httpx.BasicAuth(api_key.get_secret_value(), "")
        self._rest = RestPartner(
            PARTNER,
            http or new_http_client(url, timeout_s=timeout_s, auth=auth),
            error_detail=easypost_error,
        )

    async def aclose(self) -> None:
        await self._rest.aclose()

    async def buy_label(
        self, reference: str, shipment: Shipment, *, idempotency_key: str
    ) -> EasyPostShipment:
        return await self._rest.call(
            "POST",
            "/v2/shipments",
            EasyPostShipment,
            json=easypost_shipment(reference, shipment),
            idempotency_key=idempotency_key,
        )
