from decimal import Decimal

import pytest
from pydantic import ValidationError

from canonical.goods import Commodity, Money, Package
from canonical.milestones import Milestone, MilestoneEvent
from canonical.parties import Address, Party
from canonical.shipment import Incoterm, Shipment, shipment_id_for

HAMBURG = {"lines": ["Am Sandtorkai 1"], "city": "Hamburg", "postal_code": "20457", "country": "DE"}


def shipment_data() -> dict:
    return {
        "order_ref": "S00042",
        "shipper": {"name": "Borderflow Demo GmbH", "address": HAMBURG},
        "consignee": {
            "name": "Acme Inc.",
            "address": {"lines": ["1 Main St"], "city": "Boston", "country": "US"},
            "email": "ops@acme.example",
        },
        "incoterm": "DAP",
        "currency": "EUR",
        "commodities": [
            {
                "description": "Laptop",
                "hs_code": "847130",
                "origin_country": "CN",
                "quantity": "2",
                "value": {"amount": "1798.00", "currency": "EUR"},
            }
        ],
        "packages": [{"weight_kg": "2.5", "length_cm": 40, "width_cm": 30, "height_cm": 20}],
        "carrier": "easypost",
    }


def error_fields(err: ValidationError) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in err.errors()}


def test_shipment_round_trips_through_json_keeping_decimals() -> None:
    shipment = Shipment.model_validate(shipment_data())
    again = Shipment.model_validate_json(shipment.model_dump_json())
    assert again == shipment
    assert again.commodities[0].value.amount == Decimal("1798.00")
    assert isinstance(again.packages[0].weight_kg, Decimal)
    assert again.incoterm is Incoterm.DAP


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("consignee", "address", "country"), "UK", "consignee.address.country"),
        (("consignee", "address", "country"), "us", "consignee.address.country"),
        (("currency",), "EURO", "currency"),
        (("currency",), "XYZ", "currency"),
        (("incoterm",), "DDU", "incoterm"),
        (("commodities", 0, "hs_code"), "8471.30", "commodities.0.hs_code"),
        (("commodities", 0, "origin_country"), "ZZ", "commodities.0.origin_country"),
        (("packages", 0, "weight_kg"), "0", "packages.0.weight_kg"),
        (("order_ref",), "S/0042", "order_ref"),
    ],
)
def test_invalid_values_are_rejected_naming_the_field(path: tuple, value: str, field: str) -> None:
    data = shipment_data()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError) as caught:
        Shipment.model_validate(data)
    assert field in error_fields(caught.value)


def test_unknown_fields_and_empty_lists_are_rejected() -> None:
    with pytest.raises(ValidationError) as caught:
        Shipment.model_validate({**shipment_data(), "colour": "red", "packages": []})
    assert {"colour", "packages"} <= error_fields(caught.value)


def test_money_is_never_a_float() -> None:
    money = Money(amount=Decimal("0.1") + Decimal("0.2"), currency="EUR")
    assert money.model_dump(mode="json") == {"amount": "0.3", "currency": "EUR"}


def test_values_are_immutable() -> None:
    address = Address.model_validate(HAMBURG)
    with pytest.raises(ValidationError):
        address.city = "Berlin"  # type: ignore[misc]


def test_milestone_event_needs_a_timezone() -> None:
    base = {"milestone": "DELIVERED", "partner": "easypost", "partner_event_id": "evt_1"}
    with pytest.raises(ValidationError) as caught:
        MilestoneEvent.model_validate({**base, "occurred_at": "2026-11-23T10:00:00"})
    assert "occurred_at" in error_fields(caught.value)
    event = MilestoneEvent.model_validate({**base, "occurred_at": "2026-11-23T10:00:00+05:30"})
    assert event.milestone is Milestone.DELIVERED
    assert event.occurred_at.utcoffset().total_seconds() == 5.5 * 3600  # type: ignore[union-attr]
    assert event.key == ("easypost", "evt_1")


def test_milestone_enum_is_closed() -> None:
    with pytest.raises(ValidationError):
        MilestoneEvent.model_validate(
            {
                "milestone": "TELEPORTED",
                "partner": "x",
                "partner_event_id": "1",
                "occurred_at": "2026-11-23T10:00:00Z",
            }
        )


def test_shipment_id_is_derived_from_the_order() -> None:
    assert shipment_id_for("S00042") == "shipment-S00042"


def test_parts_validate_on_their_own() -> None:
    assert Party(name="X", address=Address.model_validate(HAMBURG)).address.country == "DE"
    assert Package(weight_kg=1, length_cm=1, width_cm=1, height_cm=1).weight_kg == 1
    commodity = Commodity(
        description="Shirt",
        hs_code="6203420000",
        origin_country="PL",
        quantity=3,
        value=Money(amount=Decimal("30"), currency="PLN"),
    )
    assert commodity.hs_code == "6203420000"
