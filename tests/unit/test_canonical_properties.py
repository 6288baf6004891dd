"""Properties of the canonical model over generated input (hypothesis)."""

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from canonical.codes import COUNTRY_CODES, CURRENCY_CODES
from canonical.events import EventClassifier, ShipmentEvent, event_id_for
from canonical.goods import Package
from canonical.milestones import Milestone
from canonical.money import NOT_MONEY, Money, minor_units
from canonical.shipment import Shipment

CURRENCIES = sorted(CURRENCY_CODES - NOT_MONEY)
COUNTRIES = sorted(COUNTRY_CODES)


@st.composite
def money(draw: st.DrawFn, currency: str | None = None) -> Money:
    currency = currency or draw(st.sampled_from(CURRENCIES))
    minor = draw(st.integers(min_value=0, max_value=10**12))
    return Money(amount=Decimal(minor).scaleb(-minor_units(currency)), currency=currency)


@given(money())
def test_money_round_trips_through_json_exactly(value: Money) -> None:
    assert Money.model_validate_json(value.model_dump_json()) == value


@given(
    st.sampled_from(CURRENCIES),
    st.decimals(min_value=0, max_value=10**9, allow_nan=False, allow_infinity=False, places=8),
)
def test_rounding_money_is_valid_idempotent_and_within_half_a_minor_unit(
    currency: str, amount: Decimal
) -> None:
    rounded = Money.rounded(amount, currency)
    assert Money.rounded(rounded.amount, currency) == rounded
    assert abs(rounded.amount - amount) <= Decimal(1).scaleb(-minor_units(currency)) / 2


@given(st.sampled_from(CURRENCIES).flatmap(lambda c: st.tuples(money(c), money(c))))
def test_adding_money_adds_amounts_of_one_currency(pair: tuple[Money, Money]) -> None:
    a, b = pair
    assert (a + b).amount == a.amount + b.amount
    assert (a + b).currency == a.currency


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=1000, places=2),
    st.decimals(min_value=Decimal("0.1"), max_value=500, places=1),
)
def test_package_units_convert_consistently(pounds: Decimal, inches: Decimal) -> None:
    imperial = Package.from_units(
        weight=pounds,
        weight_unit="lb",
        length=inches,
        width=inches,
        height=inches,
        length_unit="in",
    )
    metric = Package.from_units(weight=pounds * Decimal("453.59237"), weight_unit="g",
                                length=inches * Decimal("25.4"), width=inches,
                                height=inches, length_unit="mm")  # fmt: skip
    assert abs(imperial.weight_kg - pounds * Decimal("0.45359237")) <= Decimal("0.0005")
    assert imperial.weight_kg == metric.weight_kg
    assert imperial.length_cm == metric.length_cm == (inches * Decimal("2.54")).quantize(
        Decimal("0.01"))  # fmt: skip
    assert Package.model_validate_json(imperial.model_dump_json()) == imperial


@st.composite
def shipments(draw: st.DrawFn) -> dict:
    def address() -> dict:
        return {"lines": [draw(st.text("abc 123", min_size=1, max_size=20)).strip() or "x"],
                "city": draw(st.sampled_from(["Hamburg", "Boston", "Zürich", "大阪"])),
                "country": draw(st.sampled_from(COUNTRIES))}  # fmt: skip

    currency = draw(st.sampled_from(CURRENCIES))
    return {
        "order_ref": draw(st.from_regex(r"\AS[0-9]{5}\Z")),
        "shipper": {"name": "Shipper", "address": address()},
        "consignee": {"name": "Consignee", "address": address()},
        "incoterm": draw(st.sampled_from(["EXW", "FCA", "DAP", "DDP", "CIF"])),
        "currency": currency,
        "commodities": [
            {"description": "Goods", "hs6": draw(st.from_regex(r"\A[0-9]{6}\Z")),
             "origin_country": draw(st.sampled_from(COUNTRIES)),
             "quantity": str(draw(st.integers(min_value=1, max_value=10_000))),
             "unit_value": {"amount": str(draw(st.decimals(min_value=0, max_value=10**6,
                                                           places=4))), "currency": currency}}
        ],
        "packages": [{"weight_kg": "1.5", "length_cm": "10", "width_cm": "10",
                      "height_cm": "10"}],
        "carrier": draw(st.sampled_from(["easypost", "dhl"])),
    }  # fmt: skip


@given(shipments())
def test_shipments_round_trip_through_json(data: dict) -> None:
    shipment = Shipment.model_validate_json(json.dumps(data))
    assert Shipment.model_validate_json(shipment.model_dump_json()) == shipment
    line = shipment.commodities[0]
    assert line.value.currency == shipment.currency
    assert line.value.amount == Money.rounded(
        line.unit_value.amount * line.quantity, shipment.currency).amount  # fmt: skip


@given(
    st.sampled_from(list(Milestone)),
    st.sampled_from(list(EventClassifier)),
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
    st.text(min_size=1, max_size=40).filter(lambda key: key.strip() == key and key),
)
def test_events_keep_their_original_offset_and_stable_id(
    milestone: Milestone,
    classifier: EventClassifier,
    moment: datetime,
    offset_min: int,
    key: str,
) -> None:
    zone = timezone(timedelta(minutes=offset_min))
    event = ShipmentEvent.model_validate_json(json.dumps({
        "event_id": event_id_for("dcsa", key), "dedupe_key": key, "milestone": milestone,
        "classifier": classifier, "occurred_at": moment.replace(tzinfo=zone).isoformat(),
        "recorded_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        "source": {"partner": "dcsa", "partner_event_id": key},
    }))  # fmt: skip
    again = ShipmentEvent.model_validate_json(event.model_dump_json())
    assert again == event
    assert again.occurred_at.utcoffset() == timedelta(minutes=offset_min)
    assert event.event_id == event_id_for("dcsa", key) != event_id_for("easypost", key)
