"""canonical.dialects.times: the four documented spellings, and a zone only where it is certain."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from canonical.dialects.times import COUNTRY_ZONES, LOCODE_ZONES, REGION_ZONES, place, zone_of
from canonical.events import TimeBasis

RECEIVED = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def at(hours: float) -> timezone:
    return timezone(timedelta(hours=hours))


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_no_time_is_the_received_time(raw: str | None) -> None:
    assert place(raw, received_at=RECEIVED, country="JP") == (RECEIVED, TimeBasis.RECEIVED)


def test_a_date_is_midnight_as_if_utc_with_day_precision() -> None:
    assert place("2021-05-13", received_at=RECEIVED, country="JP") == (
        datetime(2021, 5, 13, tzinfo=UTC),
        TimeBasis.DATE,
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2018-07-23T16:58:00+08:00", datetime(2018, 7, 23, 16, 58, tzinfo=at(8))),
        ("2018-07-23T01:21:39-05:00", datetime(2018, 7, 23, 1, 21, 39, tzinfo=at(-5))),
        ("2018-07-23T16:58:00Z", datetime(2018, 7, 23, 16, 58, tzinfo=UTC)),
        ("2018-07-23T16:58:00.5+0800", datetime(2018, 7, 23, 16, 58, 0, 500000, tzinfo=at(8))),
    ],
)
def test_an_offset_wins_over_any_place(raw: str, expected: datetime) -> None:
    value, basis = place(raw, received_at=RECEIVED, country="US")
    assert basis is TimeBasis.OFFSET
    assert value == expected
    assert value.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize(
    ("hints", "offset"),
    [
        ({"country": "JP"}, 9),  # one zone
        ({"country": "DE"}, 2),  # zone.tab splits it only for history (Busingen)
        ({"country": "CN"}, 8),  # China Standard Time everywhere
        ({"country": "US", "region": "NC"}, -4),  # a whole state in one zone
        ({"country": "AU", "region": "QLD"}, 10),  # no daylight saving
        ({"unlocode": "USLAX"}, -7),  # a hub of a multi-zone country
        ({"unlocode": "NLRTM"}, 2),  # the LOCODE's country has one zone
    ],
)
def test_a_local_time_is_placed_where_the_zone_is_certain(
    hints: dict[str, str], offset: float
) -> None:
    value, basis = place("2021-05-13T13:04:00", received_at=RECEIVED, **hints)
    assert basis is TimeBasis.ZONE
    assert (value.replace(tzinfo=None), value.utcoffset()) == (
        datetime(2021, 5, 13, 13, 4),
        timedelta(hours=offset),
    )
    assert value.tzinfo == at(offset)  # a fixed offset, as JSON keeps it


@pytest.mark.parametrize(
    "hints",
    [
        {},
        {"country": "US"},
        {"country": "US", "region": "FL"},  # split: the panhandle is Central
        {"country": "RU"},
        {"country": "ES"},  # Canary Islands
        {"country": "XX"},
    ],
)
def test_an_uncertain_zone_keeps_the_wall_time_as_local(hints: dict[str, str]) -> None:
    assert place("2021-05-13T13:04:00", received_at=RECEIVED, **hints) == (
        datetime(2021, 5, 13, 13, 4, tzinfo=UTC),
        TimeBasis.LOCAL,
    )


def test_clock_changes_take_the_offset_before_the_change() -> None:
    repeated, _ = place("2021-10-31T02:30:00", received_at=RECEIVED, country="NL")
    skipped, _ = place("2021-03-28T02:30:00", received_at=RECEIVED, country="NL")
    assert (repeated.utcoffset(), skipped.utcoffset()) == (timedelta(hours=2), timedelta(hours=1))


@pytest.mark.parametrize(
    "raw", ["2026-11-19 08:21:00", "19/11/2026", "2026-11-19T08", "tomorrow", "2026-13-01"]
)
def test_other_spellings_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        place(raw, received_at=RECEIVED)


def test_the_zone_tables_name_real_zones() -> None:
    zones = {*COUNTRY_ZONES.values(), *REGION_ZONES.values(), *LOCODE_ZONES.values()}
    assert all(ZoneInfo(zone) for zone in zones)
    assert COUNTRY_ZONES["SG"] == "Asia/Singapore"
    assert zone_of("us", "ny") == "America/New_York"
    assert zone_of("US", "TX") is None
