"""The DHL-style wire format: request bodies built from canonical data, answers as wire models.

Guarantees: kilograms and centimetres as the canonical model has them (no conversion), numbers
as JSON numbers (integral values as integers); the product code follows the service level
(express → ``P``, standard → ``N``); every commodity is one export line item with its most
precise tariff code (:attr:`Commodity.tariff_code`) and its unit price; the declared value is
the sum of the line values. What DHL cannot express (commodities in several currencies, a
unit of measure with no DHL equivalent) is a non-retryable refusal raised before any call.
Wire models ignore fields we do not use.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import Field

from activities.errors import business_error
from activities.wire import WireModel
from canonical.goods import Commodity, Package
from canonical.money import Money
from canonical.parties import Party
from canonical.shipment import ServiceLevel, Shipment

PARTNER = "dhl"
PRODUCT_CODES = {ServiceLevel.EXPRESS: "P", ServiceLevel.STANDARD: "N"}
DHL_UNITS = {
    "C62": "PCS", "H87": "PCS", "KGM": "KG", "GRM": "GM", "LBR": "LBS", "LTR": "L",
    "MTR": "M", "CMT": "CM", "MTK": "M2", "MTQ": "M3", "PR": "PRS", "DZN": "DOZ",
    "SET": "SET", "BX": "BOX",
}  # fmt: skip
"""UN/ECE Rec 20 unit → DHL ``unitOfMeasurement``."""


# -- answers --------------------------------------------------------------------------------
class DhlDocument(WireModel):
    typeCode: str
    imageFormat: str
    content: str


class DhlPiece(WireModel):
    referenceNumber: int | None = None
    trackingNumber: str


class DhlBooking(WireModel):
    """``POST /shipments``'s answer, and one entry of a search."""

    shipmentTrackingNumber: str
    trackingUrl: str | None = None
    packages: list[DhlPiece] = Field(default_factory=list)
    documents: list[DhlDocument] = Field(default_factory=list)


class DhlSearch(WireModel):
    shipments: list[DhlBooking]


class DhlDocuments(WireModel):
    documents: list[DhlDocument]


class DhlCancelled(WireModel):
    shipmentTrackingNumber: str
    status: str


# -- request body ---------------------------------------------------------------------------
def number(value: Decimal) -> int | float:
    """A Decimal as a JSON number: an integer when integral."""
    return int(value) if value == value.to_integral_value() else float(value)


def planned_shipping(now: datetime) -> str:
    """DHL's ``plannedShippingDateAndTime`` (``2026-03-01T10:00:00 GMT+00:00``)."""
    offset = now.strftime("%z") or "+0000"
    return f"{now:%Y-%m-%dT%H:%M:%S} GMT{offset[:3]}:{offset[3:]}"


def dhl_party(party: Party) -> dict[str, Any]:
    """``shipperDetails`` / ``receiverDetails``: up to three address lines, the rest joined."""
    address = party.address
    postal: dict[str, Any] = {
        "addressLine1": address.lines[0],
        "cityName": address.city,
        "countryCode": address.country,
    }
    if len(address.lines) > 1:
        postal["addressLine2"] = address.lines[1]
    if len(address.lines) > 2:
        postal["addressLine3"] = ", ".join(address.lines[2:])
    if address.postal_code:
        postal["postalCode"] = address.postal_code
    contact = {"companyName": party.name, "fullName": party.name}
    contact |= {k: v for k, v in (("email", party.email), ("phone", party.phone)) if v}
    return {"postalAddress": postal, "contactInformation": contact}


def dhl_package(package: Package) -> dict[str, Any]:
    """One piece, in kg and cm."""
    return {
        "weight": number(package.weight_kg),
        "dimensions": {
            "length": number(package.length_cm),
            "width": number(package.width_cm),
            "height": number(package.height_cm),
        },
    }


def line_item(index: int, line: Commodity) -> dict[str, Any]:
    """One export declaration line; ``price`` is the unit price."""
    unit = DHL_UNITS.get(line.unit)
    if unit is None:
        raise business_error(PARTNER, f"unit {line.unit} of {line.description!r} has no DHL code")
    item: dict[str, Any] = {
        "number": index,
        "description": line.description,
        "price": number(line.unit_value.amount),
        "quantity": {"value": number(line.quantity), "unitOfMeasurement": unit},
        "commodityCodes": [{"typeCode": "outbound", "value": line.tariff_code}],
        "manufacturerCountry": line.origin_country,
    }
    weights = {"netValue": line.net_weight_kg, "grossValue": line.gross_weight_kg}
    if any(weights.values()):
        item["weight"] = {k: number(v) for k, v in weights.items() if v}
    return item


def declared_value(shipment: Shipment) -> Money:
    """The sum of the commodity values; one currency only."""
    total = shipment.commodities[0].value
    for line in shipment.commodities[1:]:
        if line.value.currency != total.currency:
            raise business_error(
                PARTNER, f"commodities in {total.currency} and {line.value.currency}: one please"
            )
        total = total + line.value
    return total


def dhl_shipment(reference: str, shipment: Shipment, *, now: datetime) -> dict[str, Any]:
    """The ``POST /shipments`` body; ``reference`` goes in as the ``CU`` customer reference."""
    value = declared_value(shipment)
    return {
        "plannedShippingDateAndTime": planned_shipping(now),
        "productCode": PRODUCT_CODES[shipment.service_level],
        "customerReferences": [{"value": reference, "typeCode": "CU"}],
        "customerDetails": {
            "shipperDetails": dhl_party(shipment.shipper),
            "receiverDetails": dhl_party(shipment.consignee),
        },
        "content": {
            "packages": [dhl_package(package) for package in shipment.packages],
            "isCustomsDeclarable": True,
            "declaredValue": number(value.amount),
            "declaredValueCurrency": value.currency,
            "incoterm": shipment.incoterm.value,
            "description": ", ".join(line.description for line in shipment.commodities)[:70],
            "exportDeclaration": {
                "lineItems": [
                    line_item(index, line)
                    for index, line in enumerate(shipment.commodities, start=1)
                ]
            },
        },
    }
