from datetime import UTC, timedelta
from typing import Any

import pytest
from dialect_support import DELETE, Dialect, assert_oldest_first, mutate, split

from canonical.events import event_id_for, hashed_dedupe_key
from canonical.milestones import Milestone

PARTNER = "easypost"
dialect = Dialect(PARTNER)


def delivered() -> dict[str, Any]:
    return dialect.fixture("delivered.json")


def with_detail(status: str, detail: str | None) -> dict[str, Any]:
    """The fixture with one tracking detail of ``status``/``detail`` and no signer."""
    payload = delivered()
    payload["result"].update(status=status, status_detail=detail, signed_by=None)
    entry = payload["result"]["tracking_details"][0]
    entry.update(status=status, status_detail=detail)
    payload["result"]["tracking_details"] = [entry]
    return payload


def test_every_tracking_detail_is_an_event_oldest_first_with_offsets_kept() -> None:
    webhook = dialect.run(delivered())
    dialect.assert_common(webhook)
    assert webhook.dedupe_key == "evt_5f1c0a2b9d8e4f7a"
    assert webhook.references.tracking_number == "EZ4000000004"
    assert webhook.references.shipment_id is None
    assert [event.milestone for event in webhook.events] == [
        Milestone.LABEL_CREATED,
        Milestone.PICKED_UP,
        Milestone.DEPARTED,
        Milestone.ARRIVED,
        Milestone.OUT_FOR_DELIVERY,
        Milestone.DELIVERED,
    ]
    assert_oldest_first(webhook)
    offsets = [event.occurred_at.utcoffset() for event in webhook.events]
    assert offsets[0] == timedelta(hours=1)
    assert offsets[-1] == timedelta(hours=-5)


def test_events_keep_raw_codes_location_and_message() -> None:
    last = dialect.run(delivered()).events[-1]
    assert last.source.raw_status == "delivered"
    assert last.source.raw_sub_status == "arrived_at_destination"
    assert last.source.raw_code == "delivered/arrived_at_destination"
    assert last.source.partner_event_id is None
    assert last.location is not None
    assert (last.location.city, last.location.postal_code, last.location.country) == (
        "Boston",
        "02110",
        "US",
    )
    assert last.reason == "Delivered, signed for by J. SMITH"


def test_details_have_hashed_dedupe_keys_and_stable_ids() -> None:
    webhook = dialect.assert_stable(delivered())
    first = webhook.events[0]
    assert first.dedupe_key == hashed_dedupe_key(
        "EZ4000000004", first.occurred_at.astimezone(UTC), "pre_transit/label_created"
    )
    assert first.event_id == event_id_for(PARTNER, first.dedupe_key)


def test_a_time_restated_in_another_zone_keeps_its_id() -> None:
    """EasyPost may give a detail's time in UTC first and in the local zone later."""
    path = ("result", "tracking_details", 0, "datetime")
    in_utc = dialect.run(mutate(delivered(), path, "2026-11-17T08:00:00Z")).events[0]
    local = dialect.run(delivered()).events[0]
    assert local.occurred_at.utcoffset() == timedelta(hours=1)
    assert in_utc.event_id == local.event_id


def test_a_longer_history_keeps_the_ids_of_known_details() -> None:
    longer = delivered()
    shorter = mutate(
        longer, ("result", "tracking_details"), longer["result"]["tracking_details"][:-1]
    )
    shorter["id"] = "evt_earlier"
    dialect.assert_redelivery_keeps_ids(shorter, longer)


def test_signed_by_is_the_proof_of_the_delivered_event_only() -> None:
    events = dialect.run(delivered()).events
    assert [e.proof_of_delivery for e in events[:-1]] == [None] * (len(events) - 1)
    pod = events[-1].proof_of_delivery
    assert pod is not None
    assert pod.signed_by == "J. SMITH"


def test_no_signer_no_proof() -> None:
    payload = mutate(delivered(), ("result", "signed_by"), None)
    assert dialect.run(payload).events[-1].proof_of_delivery is None


@pytest.mark.parametrize("key", dialect.table_keys())
def test_every_mapped_code(key: str) -> None:
    event = dialect.assert_mapped(with_detail(*split(key)), key)
    assert event.source.raw_code == key


def test_an_unmapped_detail_falls_back_to_its_status() -> None:
    (event,) = dialect.run(with_detail("in_transit", "something_new")).events
    assert event.milestone is Milestone.IN_TRANSIT
    assert event.source.raw_code == "in_transit/something_new"


@pytest.mark.parametrize(("status", "detail"), [("teleported", None), ("teleported", "beam")])
def test_unknown_codes_become_unknown_with_raw_codes_kept(status: str, detail: str | None) -> None:
    event = dialect.assert_unknown(with_detail(status, detail))
    assert (event.source.raw_status, event.source.raw_sub_status) == (status, detail)
    assert not dialect.table.is_mapped(status, detail)


def test_other_event_descriptions_carry_no_event() -> None:
    webhook = dialect.run(mutate(delivered(), ("description",), "batch.updated"))
    assert webhook.events == []
    assert webhook.dedupe_key == "evt_5f1c0a2b9d8e4f7a"


def test_a_tracker_without_history_carries_no_event() -> None:
    payload = mutate(delivered(), ("result", "tracking_details"), [])
    assert dialect.run(mutate(payload, ("description",), "tracker.created")).events == []


def test_a_country_that_is_not_iso_is_left_out() -> None:
    path = ("result", "tracking_details", 0, "tracking_location", "country")
    event = dialect.run(mutate(delivered(), path, "Germany")).events[0]
    assert event.location is not None
    assert event.location.country is None
    assert event.location.city == "Hamburg"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("object",), "Shipment", "object"),
        (("id",), DELETE, "id"),
        (("id",), "", "id"),
        (("result",), None, "result"),
        (("result",), [], "result"),
        (("result", "tracking_code"), DELETE, "result.tracking_code"),
        (("result", "object"), "Batch", "result.object"),
        (("result", "tracking_details"), {}, "result.tracking_details"),
        (("result", "tracking_details", 1, "status"), None, "result.tracking_details[1].status"),
        (
            ("result", "tracking_details", 2, "datetime"),
            "2026-11-18T03:12:00",
            "result.tracking_details[2].datetime",
        ),
        (
            ("result", "tracking_details", 2, "datetime"),
            "yesterday",
            "result.tracking_details[2].datetime",
        ),
    ],
)
def test_malformed_payloads_name_the_field(path: tuple, value: Any, field: str) -> None:
    error = dialect.refused(mutate(delivered(), path, value))
    assert error.field == field
    assert f": {field}: " in str(error)
    assert error.__cause__ is not None or value is None


@pytest.mark.parametrize("raw", [b"", b"not json", b"\xff\xfe", b"[]", b'"text"'])
def test_bodies_that_are_not_an_event_object_are_malformed(raw: bytes) -> None:
    dialect.refused(raw)
