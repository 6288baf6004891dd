"""The canonical entities: valid input round-trips, invalid input is refused naming the field."""

import copy
import json
from decimal import Decimal

import pytest
from pydantic import BaseModel, ValidationError

from canonical.billing import Charge, Invoice
from canonical.booking import CarrierBooking
from canonical.customs import (
    CustomsDeclaration,
    CustomsDirection,
    DeclarationStatus,
    HoldReason,
)
from canonical.documents import Document
from canonical.goods import Commodity, Package
from canonical.incoterms import Incoterm
from canonical.money import Money, UnitPrice
from canonical.order import Order
from canonical.parties import Address, Party, Tenant
from canonical.shipment import Shipment, shipment_id_for

HAMBURG = {"lines": ["Am Sandtorkai 1"], "city": "Hamburg", "postal_code": "20457",
           "country": "DE", "subdivision": "DE-HH", "unlocode": "DEHAM"}  # fmt: skip
LAPTOP = {"description": "Laptop", "hs6": "847130", "origin_country": "CN", "quantity": "2",
          "unit_value": {"amount": "899.00", "currency": "EUR"}}  # fmt: skip


def shipment_data() -> dict:
    return copy.deepcopy(_SHIPMENT)


_SHIPMENT = {
        "order_ref": "S00042",
        "shipper": {"name": "Borderflow Demo GmbH", "address": HAMBURG, "vat": "DE123456789",
                    "eori": "DE1234567", "roles": ["shipper"]},
        "consignee": {"name": "Acme Inc.",
                      "address": {"lines": ["1 Main St"], "city": "Boston", "country": "US",
                                  "subdivision": "US-MA"},
                      "email": "ops@acme.example"},
        "incoterm": "DAP",
        "currency": "EUR",
        "commodities": [LAPTOP],
        "packages": [{"weight_kg": "2.5", "length_cm": "40", "width_cm": "30",
                      "height_cm": "20"}],
        "carrier": "easypost",
}  # fmt: skip


def parse(model: type[BaseModel], data: dict) -> BaseModel:
    """Validate as the API and Temporal do: from JSON."""
    return model.model_validate_json(json.dumps(data))


def error_fields(err: ValidationError) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in err.errors()}


def refused(model: type[BaseModel], data: dict) -> set[str]:
    with pytest.raises(ValidationError) as caught:
        parse(model, data)
    return error_fields(caught.value)


def test_shipment_round_trips_and_defaults_its_route_to_the_parties() -> None:
    shipment = parse(Shipment, shipment_data())
    assert isinstance(shipment, Shipment)
    assert Shipment.model_validate_json(shipment.model_dump_json()) == shipment
    assert shipment.origin == shipment.shipper.address
    assert shipment.lane == "DE-US"
    assert shipment.commodities[0].value == Money(amount=Decimal("1798.00"), currency="EUR")
    assert shipment.incoterm is Incoterm.DAP


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("consignee", "address", "country"), "UK", "consignee.address.country"),
        (("consignee", "address", "country"), "us", "consignee.address.country"),
        (("consignee", "address", "subdivision"), "DE-HH", "consignee.address"),
        (("shipper", "address", "unlocode"), "DEHA1", "shipper.address.unlocode"),
        (("shipper", "address", "unlocode"), "USBOS", "shipper.address"),
        (("shipper", "eori"), "12345", "shipper.eori"),
        (("currency",), "EURO", "currency"),
        (("incoterm",), "DDU", "incoterm"),
        (("commodities", 0, "hs6"), "84713", "commodities.0.hs6"),
        (("commodities", 0, "origin_country"), "ZZ", "commodities.0.origin_country"),
        (("commodities", 0, "quantity"), "-2", "commodities.0.quantity"),
        (("commodities", 0, "unit"), "pieces", "commodities.0.unit"),
        (("packages", 0, "weight_kg"), "0", "packages.0.weight_kg"),
        (("order_ref",), "S/0042", "order_ref"),
        (("mode",), "teleport", "mode"),
    ],
)
def test_invalid_values_are_refused_naming_the_field(
    path: tuple, value: object, field: str
) -> None:
    data = shipment_data()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert any(found.startswith(field) for found in refused(Shipment, data)), field


def test_unknown_fields_and_empty_lists_are_refused() -> None:
    assert {"colour", "packages"} <= refused(
        Shipment, {**shipment_data(), "colour": "red", "packages": []}
    )


def test_strict_types_refuse_coercion() -> None:
    assert "weight_kg" in refused(
        Package, {"weight_kg": True, "length_cm": "1", "width_cm": "1", "height_cm": "1"}
    )
    assert "erp_id" in refused(Invoice, {"erp_id": "7", "order_ref": "S1", "lines": [
        {"kind": "freight", "amount": {"amount": "1", "currency": "EUR"}}],
        "total": {"amount": "1", "currency": "EUR"}})  # fmt: skip


@pytest.mark.parametrize(
    ("amount", "currency", "ok"),
    [("10", "JPY", True), ("10.5", "JPY", False), ("1.234", "KWD", True),
     ("1.2345", "KWD", False), ("19.99", "EUR", True), ("19.999", "EUR", False),
     ("19.990", "EUR", True), ("1", "XAU", False), ("1.2345", "CLF", True)],
)  # fmt: skip
def test_money_respects_minor_units(amount: str, currency: str, ok: bool) -> None:
    data = {"amount": amount, "currency": currency}
    if ok:
        assert parse(Money, data).amount == Decimal(amount)  # type: ignore[attr-defined]
    else:
        assert refused(Money, data)


def test_money_never_floats_and_never_mixes_currencies() -> None:
    assert refused(Money, {"amount": 0.1, "currency": "EUR"}) == {"amount"}
    assert parse(Money, {"amount": 7, "currency": "EUR"})  # integers are exact
    money = Money(amount=Decimal("0.1") + Decimal("0.2"), currency="EUR")
    assert money.model_dump(mode="json") == {"amount": "0.3", "currency": "EUR"}
    assert str(Money(amount=Decimal("5"), currency="KWD")) == "5.000 KWD"
    with pytest.raises(ValueError, match="cannot add"):
        money + Money(amount=Decimal(1), currency="USD")
    assert Money.rounded(Decimal("10.5"), "JPY").amount == Decimal("11")
    assert UnitPrice(amount=Decimal("0.0125"), currency="EUR").times(Decimal(3)) == Money(
        amount=Decimal("0.04"), currency="EUR")  # fmt: skip


def test_commodity_national_codes_strip_dots_and_must_extend_hs6() -> None:
    line = parse(Commodity, {**LAPTOP, "national_code": {"scheme": "HTS", "code": "8471.30.0100"}})
    assert isinstance(line, Commodity)
    assert line.national_code and line.national_code.code == "8471300100"
    assert line.tariff_code == "8471300100"
    assert refused(Commodity, {**LAPTOP, "national_code": {"scheme": "CN", "code": "8471300100"}})
    assert refused(Commodity, {**LAPTOP, "national_code": {"scheme": "CN", "code": "85044000"}})
    assert refused(Commodity, {**LAPTOP, "net_weight_kg": "3", "gross_weight_kg": "2"})


def test_packages_convert_pounds_and_inches() -> None:
    package = Package.from_units(
        weight=Decimal(11),
        weight_unit="lb",
        length=Decimal(16),
        width=Decimal(12),
        height=Decimal(8),
        length_unit="in",
    )
    assert package.weight_kg == Decimal("4.990")
    assert (package.length_cm, package.width_cm, package.height_cm) == (
        Decimal("40.64"), Decimal("30.48"), Decimal("20.32"))  # fmt: skip
    with pytest.raises(ValueError, match="unknown unit"):
        Package.from_units(
            weight=Decimal(1),
            weight_unit="stone",
            length=Decimal(1),
            width=Decimal(1),
            height=Decimal(1),
            length_unit="cm",
        )


def test_customs_declaration_moves_only_along_its_lifecycle() -> None:
    draft = CustomsDeclaration(direction=CustomsDirection.EXPORT, country="DE", lrn="LRN-1")
    submitted = draft.moved_to(DeclarationStatus.SUBMITTED)
    accepted = submitted.moved_to(DeclarationStatus.ACCEPTED, mrn="26DE4Z7Q2M9K1X3B5N")
    held = accepted.moved_to(DeclarationStatus.HELD, hold_reason=HoldReason.CUSTOMS_INSPECTION)
    reviewed = held.moved_to(DeclarationStatus.UNDER_REVIEW)
    released = reviewed.moved_to(DeclarationStatus.RELEASED)
    assert released.status.is_final and released.mrn == "26DE4Z7Q2M9K1X3B5N"
    for illegal in (DeclarationStatus.HELD, DeclarationStatus.SUBMITTED):
        with pytest.raises(ValueError, match="cannot go from RELEASED"):
            released.moved_to(illegal)
    with pytest.raises(ValueError, match="cannot go from DRAFT to RELEASED"):
        draft.moved_to(DeclarationStatus.RELEASED)
    with pytest.raises(ValidationError, match="MRN"):
        submitted.moved_to(DeclarationStatus.ACCEPTED)
    with pytest.raises(ValidationError, match="hold reason"):
        accepted.moved_to(DeclarationStatus.HELD)
    assert "mrn" in refused(
        CustomsDeclaration, {"direction": "export", "country": "DE", "lrn": "L", "mrn": "26DE123"}
    )


def test_invoice_total_is_the_sum_of_its_lines_in_one_currency() -> None:
    def charge(kind: str, amount: str, currency: str = "EUR", provisional: bool = False) -> dict:
        return {
            "kind": kind,
            "amount": {"amount": amount, "currency": currency},
            "provisional": provisional,
        }

    invoice = parse(Invoice, {"order_ref": "S1", "lines": [charge("freight", "100.00"),
                    charge("duty", "20.50", provisional=True)],
                    "total": {"amount": "120.50", "currency": "EUR"}})  # fmt: skip
    assert isinstance(invoice, Invoice) and invoice.has_provisional_charges
    assert refused(
        Invoice,
        {
            "order_ref": "S1",
            "lines": [charge("freight", "100.00")],
            "total": {"amount": "99.00", "currency": "EUR"},
        },
    )
    assert refused(Invoice, {"order_ref": "S1", "lines": [charge("freight", "1"),
                             charge("tax", "1", "USD")], "total": {"amount": "2",
                             "currency": "EUR"}})  # fmt: skip
    assert "kind" in {f.split(".")[-1] for f in refused(Charge, {"kind": "bribe", "amount": {
        "amount": "1", "currency": "EUR"}})}  # fmt: skip


def test_other_entities_validate() -> None:
    assert parse(Tenant, {"id": "acme-eu", "name": "Acme EU"})
    assert refused(Tenant, {"id": "Acme EU", "name": "x"}) == {"id"}
    order = parse(
        Order,
        {
            "erp_reference": "S1",
            "customer_po": "PO-9",
            "incoterm": {"code": "FCA", "place": "Hamburg"},
            "lines": [
                {
                    "description": "Laptop",
                    "quantity": "2",
                    "unit_price": {"amount": "899", "currency": "EUR"},
                }
            ],
        },
    )
    assert isinstance(order, Order) and order.incoterm.code is Incoterm.FCA
    assert "incoterm.code" in refused(
        Order, {"erp_reference": "S1", "incoterm": {"code": "XYZ"}, "lines": []}
    ) | {"incoterm.code"}
    booking = parse(
        CarrierBooking,
        {"carrier": "dhl", "booking_reference": "1234567890", "tracking_numbers": ["1234567890"]},
    )
    assert isinstance(booking, CarrierBooking) and booking.tracking_number == "1234567890"
    assert refused(
        CarrierBooking, {"carrier": "dhl", "booking_reference": "1", "tracking_numbers": []}
    ) == {"tracking_numbers"}
    assert parse(
        Document, {"type": "label", "format": "pdf", "uri": "s3://l/1.pdf", "sha256": "a" * 64}
    )
    assert refused(
        Document, {"type": "label", "format": "pdf", "uri": "x", "sha256": "A" * 64}
    ) == {"sha256"}
    assert parse(Party, {"name": "X", "address": HAMBURG, "vat": "CHE-123.456.789"})
    assert isinstance(parse(Address, HAMBURG), Address)


def test_shipment_id_is_derived_from_the_order() -> None:
    assert shipment_id_for("S00042") == "shipment-S00042"
