"""AfterShip's own published payloads (tests/fixtures/aftership/SOURCES.md) mean what AfterShip
documents: every checkpoint_time spelling is accepted, the event says how its time was derived,
and the tracking's current ``tag`` is the shipment's last event."""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dialect_support import RECEIVED_AT, Dialect, assert_oldest_first, event_ids, mutate

from canonical.dialects import normalize
from canonical.events import TimeBasis
from canonical.milestones import Milestone

PARTNER = "aftership"
dialect = Dialect(PARTNER)
JAPAN = "real_fedex_cn_jp_delivered.json"
NEW_JERSEY = "real_fedex_us_exception_delivered.json"
POSTNL = "real_postnl_nl_es_in_transit.json"
EXPIRED = "real_ups_expired_no_checkpoints.json"
DOCS = "docs_usps_offsetless_time.json"


def payload(name: str) -> Any:
    return dialect.fixture(name)


def test_fedex_china_to_japan_delivered_keeps_each_offset() -> None:
    webhook = dialect.run(payload(JAPAN))
    dialect.assert_common(webhook)
    events = webhook.events
    assert len(events) == 14
    assert_oldest_first(webhook)
    assert all(event.time_basis is TimeBasis.OFFSET for event in events)
    assert [events[0].occurred_at.utcoffset(), events[1].occurred_at.utcoffset()] == [
        timedelta(hours=-5),
        timedelta(hours=8),
    ]
    assert events[1].milestone is Milestone.PICKED_UP  # InTransit_002: acceptance scan
    assert events[1].location is not None and events[1].location.country == "CN"  # from CHN
    arrived = events[9]
    assert (arrived.milestone, arrived.source.raw_code) == (
        Milestone.ARRIVED,
        "InTransit/InTransit_004",
    )
    assert arrived.location is not None and arrived.location.country == "JP"
    delivered = events[-1]
    assert delivered.milestone is Milestone.DELIVERED
    assert delivered.occurred_at == datetime(2018, 7, 25, 1, 10, tzinfo=UTC)
    assert delivered.proof_of_delivery is not None
    assert delivered.proof_of_delivery.signed_by == "..KOSUTOKO"
    assert webhook.references.tracking_number == "111111111111"


def test_an_exception_checkpoint_mid_route_is_an_exception_event() -> None:
    events = dialect.run(payload(NEW_JERSEY)).events
    assert len(events) == 11
    (exception,) = [event for event in events if event.milestone is Milestone.EXCEPTION]
    assert exception.source.raw_code == "Exception/Exception_001"
    assert exception.reason == "Shipment exception - Barcode label unreadable and replaced"
    assert exception.location is not None and exception.location.city == "KEASBEY"
    assert events[-1].milestone is Milestone.DELIVERED  # tag Delivered: the current state
    pod = events[-1].proof_of_delivery  # "Signature not required" names nobody
    assert pod is None or pod.signed_by is None


def test_postnl_in_transit_ends_in_its_current_tag() -> None:
    webhook = dialect.assert_stable(payload(POSTNL))
    events = webhook.events
    assert [event.milestone for event in events] == [
        Milestone.LABEL_CREATED,
        Milestone.LABEL_CREATED,
        Milestone.IN_TRANSIT,
        Milestone.IN_TRANSIT,
        Milestone.IN_TRANSIT,
        Milestone.ARRIVED,  # tag InTransit_004: arrived at destination country
    ]
    assert events[-1].location is not None and events[-1].location.country == "ES"
    assert len(set(event_ids(webhook))) == 6  # two InfoReceived scans 29 s apart stay two


def test_an_expired_tracking_without_checkpoints_carries_no_event() -> None:
    webhook = dialect.run(payload(EXPIRED))
    assert webhook.events == []
    assert webhook.dedupe_key == "3f1c6a52-8d0e-4b7a-9c21-5e4d3b2a1f03"


def test_the_documented_offsetless_time_is_kept_as_local_wall_time() -> None:
    (event,) = dialect.run(payload(DOCS)).events  # no checkpoint place: the zone is unknown
    assert event.time_basis is TimeBasis.LOCAL
    assert event.occurred_at == datetime(2021, 1, 14, 0, 52, tzinfo=UTC)
    assert event.milestone is Milestone.IN_TRANSIT


def test_offsetless_times_of_single_zone_countries_are_placed_in_their_zone() -> None:
    original = dialect.run(payload(JAPAN)).events
    data = payload(JAPAN)
    for checkpoint in data["msg"]["checkpoints"]:
        checkpoint["checkpoint_time"] = checkpoint["checkpoint_time"][:19]
    events = dialect.run(data).events
    assert events[0].time_basis is TimeBasis.LOCAL  # no country on the first checkpoint
    assert all(event.time_basis is TimeBasis.ZONE for event in events[1:])
    assert [event.occurred_at for event in events[1:]] == [e.occurred_at for e in original[1:]]
    assert [event.occurred_at.utcoffset() for event in events[-2:]] == [timedelta(hours=9)] * 2


def test_a_region_of_one_zone_places_a_local_time() -> None:
    data = payload(NEW_JERSEY)
    checkpoint = data["msg"]["checkpoints"][-1]
    checkpoint.update(checkpoint_time="2018-08-01T13:19:47", country_iso3="USA")
    delivered = dialect.run(data).events[-1]
    assert delivered.time_basis is TimeBasis.ZONE  # NJ: America/New_York
    assert delivered.occurred_at == datetime(2018, 8, 1, 17, 19, 47, tzinfo=UTC)


def test_a_date_only_time_keeps_day_precision() -> None:
    data = mutate(payload(JAPAN), ("msg", "checkpoints", 13, "checkpoint_time"), "2018-07-25")
    delivered = dialect.run(data).events[-1]
    assert delivered.time_basis is TimeBasis.DATE
    assert delivered.occurred_at == datetime(2018, 7, 25, tzinfo=UTC)


def test_an_empty_time_is_the_received_time_and_keeps_its_place_and_id() -> None:
    data = mutate(payload(POSTNL), ("msg", "checkpoints", 2, "checkpoint_time"), "")
    events = dialect.run(data).events
    assert events[2].time_basis is TimeBasis.RECEIVED
    assert events[2].occurred_at == RECEIVED_AT
    assert events[2].reason == "Shipment received by PostNL"  # after the checkpoint before it
    later = normalize(PARTNER, json.dumps(data).encode(), received_at=RECEIVED_AT + timedelta(1))
    assert event_ids(later) == event_ids(dialect.run(data))


def test_the_current_tag_sorts_last_even_when_its_time_is_earlier() -> None:
    stamped_early = "2018-07-24T12:00:00+09:00"  # before the out-for-delivery scan
    data = mutate(payload(JAPAN), ("msg", "checkpoints", 13, "checkpoint_time"), stamped_early)
    events = dialect.run(data).events
    assert [event.milestone for event in events[-2:]] == [
        Milestone.OUT_FOR_DELIVERY,
        Milestone.DELIVERED,
    ]
    assert events[-1].occurred_at == datetime.fromisoformat(stamped_early)  # the time is kept


def test_without_a_matching_checkpoint_times_decide() -> None:
    data = payload(JAPAN)
    data["msg"].update(tag="Exception", subtag="Exception_013")  # marked lost, no such scan
    events = dialect.run(data).events
    assert events[-1].milestone is Milestone.DELIVERED


def test_borderflow_normalize_prints_the_time_basis() -> None:
    borderflow = str(Path(sys.executable).parent / "borderflow")
    done = subprocess.run(
        [borderflow, "normalize", "--partner", PARTNER, str(dialect_path(DOCS))],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    assert json.loads(line)["time_basis"] == "LOCAL"


def dialect_path(name: str) -> Path:
    return Path(__file__).parent.parent / "fixtures" / PARTNER / name
