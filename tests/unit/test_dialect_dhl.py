import json
from datetime import UTC, timedelta
from typing import Any

import pytest
from dialect_support import DELETE, Dialect, assert_oldest_first, event_ids, mutate

from canonical.dialects.wire import body_key
from canonical.events import hashed_dedupe_key
from canonical.milestones import Milestone

PARTNER = "dhl"
dialect = Dialect(PARTNER)


def response() -> dict[str, Any]:
    return dialect.fixture("delivered.json")


def with_event(status_code: str | None, status: str = "SOME TEXT") -> dict[str, Any]:
    payload = response()
    shipment = payload["shipments"][0]
    event = shipment["events"][-1]
    event.update(statusCode=status_code, status=status)
    shipment.update(events=[event], status=event)
    return payload


def test_every_event_oldest_first_although_dhl_lists_newest_first() -> None:
    webhook = dialect.run(response())
    dialect.assert_common(webhook)
    assert webhook.references.tracking_number == "1234567890"
    assert [event.milestone for event in webhook.events] == [
        Milestone.LABEL_CREATED,
        *[Milestone.IN_TRANSIT] * 4,
        Milestone.DELIVERED,
    ]
    assert_oldest_first(webhook)
    assert [e.source.raw_status for e in webhook.events][:2] == [
        "SHIPMENT INFORMATION RECEIVED",
        "SHIPMENT PICKED UP",
    ]


def test_offsets_are_kept_and_a_naive_timestamp_is_utc() -> None:
    events = dialect.run(response()).events
    assert events[0].occurred_at.utcoffset() == timedelta(hours=1)
    assert events[4].occurred_at.utcoffset() == timedelta(hours=-5)
    assert events[-1].occurred_at.utcoffset() == timedelta(0)  # "2026-11-20T16:02:00"
    assert events[-1].occurred_at.astimezone(UTC).hour == 16


def test_the_payload_key_is_a_hash_of_the_body_and_event_keys_are_hashed() -> None:
    webhook = dialect.assert_stable(dialect.fixture_bytes("delivered.json"))
    assert webhook.dedupe_key == body_key(dialect.fixture_bytes("delivered.json"))
    first = webhook.events[0]
    assert first.dedupe_key == hashed_dedupe_key(
        "1234567890", first.occurred_at.astimezone(UTC), "pre-transit/SHIPMENT INFORMATION RECEIVED"
    )


def test_scans_of_one_code_at_one_time_stay_distinct() -> None:
    payload = response()
    for event in payload["shipments"][0]["events"]:
        event["timestamp"] = "2026-11-18T03:12:00+01:00"
    webhook = dialect.run(payload)
    assert [e.source.raw_status for e in webhook.events][1:5] == [
        "SHIPMENT PICKED UP",
        "DEPARTED FACILITY",
        "ARRIVED AT DELIVERY FACILITY",
        "WITH DELIVERY COURIER",
    ]
    assert len(set(event_ids(webhook))) == 6


def test_a_later_poll_with_one_more_event_keeps_the_known_ids() -> None:
    longer = response()
    shorter = mutate(longer, ("shipments", 0, "events"), longer["shipments"][0]["events"][1:])
    dialect.assert_redelivery_keeps_ids(shorter, longer)
    assert dialect.run(shorter).dedupe_key != dialect.run(longer).dedupe_key


def test_status_code_is_trusted_never_the_status_text() -> None:
    (event,) = dialect.run(with_event("transit", status="DELIVERED")).events
    assert event.milestone is Milestone.IN_TRANSIT
    assert event.source.raw_status == "DELIVERED"
    assert event.source.raw_code == "transit"
    (event,) = dialect.run(with_event(None, status="DELIVERED")).events
    assert event.milestone is Milestone.UNKNOWN


def test_proof_of_delivery_names_the_signer_and_the_document() -> None:
    events = dialect.run(response()).events
    assert all(event.proof_of_delivery is None for event in events[:-1])
    pod = events[-1].proof_of_delivery
    assert pod is not None
    assert pod.signed_by == "J SMITH"
    assert pod.document_uri == "https://proofofdelivery.example/pod/1234567890.pdf"


def test_no_signer_a_proof_document_alone_and_neither_no_proof() -> None:
    path = ("shipments", 0, "details", "proofOfDelivery", "signedBy")
    unsigned = dialect.run(mutate(response(), path, DELETE)).events[-1].proof_of_delivery
    assert unsigned is not None and unsigned.signed_by is None and unsigned.document_uri
    pod = ("shipments", 0, "details", "proofOfDelivery")
    assert dialect.run(mutate(response(), pod, DELETE)).events[-1].proof_of_delivery is None


def test_location_and_description() -> None:
    last = dialect.run(response()).events[-1]
    assert last.location is not None
    assert (last.location.city, last.location.postal_code, last.location.country) == (
        "BOSTON, MA - USA",
        "02110",
        "US",
    )
    assert last.reason == "Delivered - Signed for by: J SMITH"


def test_the_status_repeats_the_newest_event_and_adds_nothing() -> None:
    assert dialect.run(mutate(response(), ("shipments", 0, "events"), [])).events == []
    webhook = dialect.run(mutate(response(), ("shipments", 0, "status"), DELETE))
    assert len(webhook.events) == 6


def test_no_shipments_no_events() -> None:
    webhook = dialect.run({"shipments": []})
    assert webhook.events == []
    assert webhook.references.tracking_number is None


@pytest.mark.parametrize("key", dialect.table_keys())
def test_every_mapped_code(key: str) -> None:
    event = dialect.assert_mapped(with_event(key), key)
    assert event.source.raw_code == key


def test_unknown_codes_become_unknown_with_raw_codes_kept() -> None:
    event = dialect.assert_unknown(with_event("teleported", status="BEAMED UP"))
    assert (event.source.raw_code, event.source.raw_status) == ("teleported", "BEAMED UP")


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("shipments",), DELETE, "shipments"),
        (("shipments",), {}, "shipments"),
        (("shipments", 0, "id"), DELETE, "shipments[0].id"),
        (("shipments", 0, "events", 2, "timestamp"), DELETE, "shipments[0].events[2].timestamp"),
        (("shipments", 0, "events", 2, "timestamp"), "soon", "shipments[0].events[2].timestamp"),
        (("shipments", 0, "events", 2, "statusCode"), 3, "shipments[0].events[2].statusCode"),
    ],
)
def test_malformed_payloads_name_the_field(path: tuple, value: Any, field: str) -> None:
    assert dialect.refused(mutate(response(), path, value)).field == field


def test_one_response_tracks_one_number() -> None:
    payload = response()
    other = json.loads(json.dumps(payload["shipments"][0]))
    other["id"] = "9999999999"
    payload["shipments"].append(other)
    assert dialect.refused(payload).field == "shipments[1].id"
