"""The carrier code tables (canonical.dialects.carrier_codes): data, loaded and checked once."""

from importlib import resources

import pytest

from canonical.dialects.carrier_codes import (
    CARRIER_TABLES,
    CarrierCodesError,
    carrier_of,
    fold,
    native_milestone,
    overrides,
    parse_carrier_table,
)
from canonical.milestones import Milestone

M = Milestone
GOOD = """
carrier = "acme"
version = 1
names = ["Acme", "ACME Parcel"]
sources = ["https://acme.example/codes"]
[codes]
"PU" = "PICKED_UP"
"""


def test_the_carriers_that_matter_under_aggregators_have_tables() -> None:
    assert set(CARRIER_TABLES) == {"fedex", "ups", "usps", "dhl_express"}
    shipped = {f.name for f in resources.files("canonical.dialects.carrier_codes").iterdir()}
    assert {f"{carrier}.toml" for carrier in CARRIER_TABLES} <= shipped


@pytest.mark.parametrize("carrier", sorted(CARRIER_TABLES))
def test_every_table_cites_its_source_and_maps_to_real_milestones(carrier: str) -> None:
    table = CARRIER_TABLES[carrier]
    assert table.sources and all(source.startswith("https://") for source in table.sources)
    assert M.UNKNOWN not in table.codes.values()
    assert all(carrier_of(name) == carrier for name in (carrier, *table.names))
    for code, milestone in table.codes.items():
        assert native_milestone(table.names[0], code) is milestone


@pytest.mark.parametrize(
    ("carrier", "code", "milestone"),
    [
        ("FedEx", "PU", M.PICKED_UP),
        ("FedEx", "OC", M.LABEL_CREATED),
        ("FedEx", "OD", M.OUT_FOR_DELIVERY),
        ("FedEx", "DL", M.DELIVERED),
        ("FedEx", "RS", M.RETURN_TO_SENDER),
        ("FedEx", "DE", M.EXCEPTION),
        ("FedEx", "CD", M.CUSTOMS_HELD),
        ("FedExDefault", "pu ", M.PICKED_UP),
        ("UPS", "P", M.PICKED_UP),
        ("UPS", "D", M.DELIVERED),
        ("UPS", "X", M.EXCEPTION),
        ("UPS", "RS", M.RETURN_TO_SENDER),
        ("USPS", "03", M.PICKED_UP),
        ("USPS", "01", M.DELIVERED),
        ("USPS", "02", M.DELIVERY_ATTEMPTED),
        ("USPS", "09", M.RETURN_TO_SENDER),
        ("DHLExpress", "PU", M.PICKED_UP),
        ("DHL Express", "WC", M.OUT_FOR_DELIVERY),
        ("DHLExpress", "OK", M.DELIVERED),
        ("DHLExpress", "CR", M.CUSTOMS_RELEASED),
        ("DHLExpress", "RT", M.RETURN_TO_SENDER),
    ],
)
def test_published_codes(carrier: str, code: str, milestone: Milestone) -> None:
    assert native_milestone(carrier, code) is milestone


@pytest.mark.parametrize(
    ("carrier", "code"),
    [
        ("FedEx", "ZZ"),  # not a FedEx code
        ("FedEx", "DY"),  # documented loosely (a delay): left to the aggregator
        ("FedEx", ""),
        ("FedEx", None),
        ("Acme Parcel", "PU"),  # no table for the carrier
        ("", "PU"),
        (None, "PU"),
        ("DHLExpress", "SIR"),
    ],
)
def test_what_is_not_known_is_none_never_unknown(carrier: str | None, code: str | None) -> None:
    assert native_milestone(carrier, code) is None


def test_carrier_names_are_folded() -> None:
    assert fold(" Fed-Ex ") == "fedex"
    assert carrier_of("FEDEX") == carrier_of("fed ex") == "fedex"
    assert carrier_of("dhl_express") == carrier_of("DHLExpress") == "dhl_express"
    assert carrier_of("Royal Mail") is None
    assert carrier_of(None) is None


@pytest.mark.parametrize(
    ("native", "aggregator", "wins"),
    [
        (M.PICKED_UP, M.ARRIVED, True),  # EasyPost's lossy FedEx PU
        (M.CUSTOMS_HELD, M.IN_TRANSIT, True),
        (M.EXCEPTION, M.UNKNOWN, True),
        (M.IN_TRANSIT, M.UNKNOWN, True),
        (M.IN_TRANSIT, M.DEPARTED, False),  # a plain "processed" never hides a departure
        (M.DELIVERED, M.DELIVERED, False),  # agreeing: the aggregator's detail stands
        (None, M.ARRIVED, False),
    ],
)
def test_the_precedence(native: Milestone | None, aggregator: Milestone, wins: bool) -> None:
    assert overrides(native, aggregator) is wins


def test_a_valid_file_parses() -> None:
    table = parse_carrier_table(GOOD, "acme")
    assert table.milestone(" pu") is M.PICKED_UP
    assert table.milestone("XX") is None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (GOOD.replace('"PICKED_UP"', '"TELEPORTED"'), "codes.PU"),
        (GOOD.replace('"PU"', '"pu"'), "codes"),
        (GOOD + 'extra = "x"\n', "extra"),
        (GOOD.replace('sources = ["https://acme.example/codes"]', "sources = []"), "sources"),
        (GOOD.replace('carrier = "acme"', 'carrier = "other"'), "carrier is 'other'"),
        ("carrier = ", "not TOML"),
    ],
)
def test_a_bad_file_fails_loudly_naming_the_file(text: str, problem: str) -> None:
    with pytest.raises(CarrierCodesError) as caught:
        parse_carrier_table(text, "acme")
    assert str(caught.value).startswith("acme.toml: ")
    assert problem in str(caught.value)
