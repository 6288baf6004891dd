from datetime import UTC, timedelta
from typing import Any

import pytest
from dialect_support import DELETE, Dialect, assert_oldest_first, body, mutate, split

from canonical.dialects.wire import body_key
from canonical.events import event_id_for, hashed_dedupe_key
from canonical.milestones import Milestone

PARTNER = "shippo"
dialect = Dialect(PARTNER)


def track_updated() -> dict[str, Any]:
    return dialect.fixture("track_updated.json")


def with_status(status: str, code: str | None) -> dict[str, Any]:
    payload = track_updated()
    entry = payload["data"]["tracking_history"][1]
    entry.update(status=status, substatus={"code": code, "text": "…"} if code else None)
    payload["data"].update(tracking_status=entry, tracking_history=[entry])
    return payload


def test_every_history_entry_is_an_event_oldest_first() -> None:
    webhook = dialect.run(track_updated())
    dialect.assert_common(webhook)
    assert webhook.references.tracking_number == "9205590164917312751089"
    assert [event.milestone for event in webhook.events] == [
        Milestone.LABEL_CREATED,
        Milestone.PICKED_UP,
        Milestone.DEPARTED,
        Milestone.ARRIVED,
        Milestone.OUT_FOR_DELIVERY,
        Milestone.DELIVERED,
    ]
    assert_oldest_first(webhook)
    assert all(event.occurred_at.utcoffset() == timedelta(0) for event in webhook.events)


def test_object_ids_are_the_dedupe_keys() -> None:
    webhook = dialect.assert_stable(track_updated())
    assert webhook.dedupe_key == "c3a1e5b7d9f24e6a8b0c2d4e6f8a0b1c"
    history = track_updated()["data"]["tracking_history"]
    assert [event.dedupe_key for event in webhook.events] == [e["object_id"] for e in history]
    assert webhook.events[0].event_id == event_id_for(PARTNER, history[0]["object_id"])
    assert webhook.events[0].source.partner_event_id == history[0]["object_id"]


def test_raw_codes_location_and_details_are_kept() -> None:
    departed = dialect.run(track_updated()).events[2]
    assert (departed.source.raw_status, departed.source.raw_sub_status) == (
        "TRANSIT",
        "package_departed",
    )
    assert departed.source.raw_code == "TRANSIT/package_departed"
    assert departed.reason == "Departed USPS Regional Facility"
    assert departed.location is not None
    assert (departed.location.city, departed.location.country) == (
        "Las Vegas NV Distribution Center",
        "US",
    )


def test_a_longer_history_keeps_the_ids_of_known_statuses() -> None:
    longer = track_updated()
    history = longer["data"]["tracking_history"]
    shorter = mutate(longer, ("data", "tracking_history"), history[:-1])
    shorter["data"]["tracking_status"] = history[-2]
    dialect.assert_redelivery_keeps_ids(shorter, longer)


def test_the_current_status_counts_when_the_history_lacks_it() -> None:
    payload = track_updated()
    payload["data"]["tracking_history"] = payload["data"]["tracking_history"][:-1]
    webhook = dialect.run(payload)
    assert len(webhook.events) == 6
    assert webhook.events[-1].milestone is Milestone.DELIVERED


def test_statuses_without_object_id_get_hashed_keys_and_are_not_doubled() -> None:
    payload = with_status("TRANSIT", "package_accepted")
    del payload["data"]["tracking_status"]["object_id"]
    (event,) = dialect.run(payload).events
    assert event.dedupe_key == hashed_dedupe_key(
        "9205590164917312751089", event.occurred_at.astimezone(UTC), "TRANSIT/package_accepted"
    )
    assert dialect.run(payload).dedupe_key == body_key(body(payload))


def test_a_naive_status_date_is_utc() -> None:
    path = ("data", "tracking_history", 0, "status_date")
    event = dialect.run(mutate(track_updated(), path, "2026-11-17T20:58:00")).events[0]
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert event.occurred_at.hour == 20


def test_shippo_gives_no_proof_of_delivery() -> None:
    assert dialect.run(track_updated()).events[-1].proof_of_delivery is None


@pytest.mark.parametrize("key", dialect.table_keys())
def test_every_mapped_code(key: str) -> None:
    event = dialect.assert_mapped(with_status(*split(key)), key)
    assert event.source.raw_code == key


def test_an_unmapped_substatus_falls_back_to_its_status() -> None:
    (event,) = dialect.run(with_status("TRANSIT", "delayed")).events
    assert event.milestone is Milestone.IN_TRANSIT


@pytest.mark.parametrize(("status", "code"), [("TELEPORTED", None), ("TELEPORTED", "beamed")])
def test_unknown_codes_become_unknown_with_raw_codes_kept(status: str, code: str | None) -> None:
    event = dialect.assert_unknown(with_status(status, code))
    assert (event.source.raw_status, event.source.raw_sub_status) == (status, code)


def test_other_webhook_events_carry_no_event() -> None:
    webhook = dialect.run({"event": "transaction_created", "test": True, "data": {"x": 1}})
    assert webhook.events == []


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("event",), DELETE, "event"),
        (("data",), DELETE, "data"),
        (("data", "tracking_number"), DELETE, "data.tracking_number"),
        (("data", "tracking_history", 2, "status"), DELETE, "data.tracking_history[2].status"),
        (
            ("data", "tracking_history", 2, "status_date"),
            "2026-13-45",
            "data.tracking_history[2].status_date",
        ),
        (("data", "tracking_status", "status_date"), None, "data.tracking_status.status_date"),
        (("data", "tracking_history"), None, "data.tracking_history"),
    ],
)
def test_malformed_payloads_name_the_field(path: tuple, value: Any, field: str) -> None:
    assert dialect.refused(mutate(track_updated(), path, value)).field == field
