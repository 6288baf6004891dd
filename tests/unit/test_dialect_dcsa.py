from datetime import timedelta
from typing import Any

import pytest
from dialect_support import DELETE, Dialect, body, mutate, split

from canonical.dialects.wire import body_key
from canonical.events import EventClassifier, event_id_for
from canonical.milestones import Milestone

PARTNER = "dcsa"
dialect = Dialect(PARTNER)
BOOKING, BILL_OF_LADING = "HLCUHAM2610AXY7", "HLCUHAM261000457"
TRANSPORT_CODES = {"ARRI", "DEPA"}
SHIPMENT_CODES = {"RECE", "CONF", "REJE", "CANC", "SUBM", "APPR", "HOLD", "RELS", "ISSU"}
EQUIPMENT_ID = "b2f7c3a4-1e5d-4f6a-9b8c-7d6e5f4a3b2c"


def events_v2() -> list[dict[str, Any]]:
    return dialect.fixture("events_v2.json")


def event_v3() -> dict[str, Any]:
    return dialect.fixture("event_v3.json")


def flat_event(code: str, sub_code: str | None, classifier: str = "ACT") -> dict[str, Any]:
    """A v2.2 event of type code ``code`` refined by ``sub_code``."""
    event: dict[str, Any] = {
        "eventID": "11111111-2222-4333-8444-555555555555",
        "eventClassifierCode": classifier,
        "eventCreatedDateTime": "2026-11-10T12:00:00+01:00",
        "eventDateTime": "2026-11-10T11:59:00+01:00",
        "transportCall": {"UNLocationCode": "NLRTM", "facilityTypeCode": "POTE"},
    }
    if code in TRANSPORT_CODES:
        event.update(eventType="TRANSPORT", transportEventTypeCode=code)
    elif code in SHIPMENT_CODES:
        event.update(eventType="SHIPMENT", shipmentEventTypeCode=code, documentID=BOOKING)
        event.update(documentTypeCode=sub_code or "SHI")
    else:
        event.update(eventType="EQUIPMENT", equipmentEventTypeCode=code)
        event.update(equipmentReference="HLXU1234565", emptyIndicatorCode=sub_code or "EMPTY")
    return event


def as_v3(event: dict[str, Any]) -> dict[str, Any]:
    metadata_fields = ("eventID", "eventCreatedDateTime", "eventType", "retractedEventID")
    metadata = {key: event[key] for key in metadata_fields if key in event}
    payload = {key: value for key, value in event.items() if key not in metadata_fields}
    return {"metadata": {**metadata, "publisherRole": "CA"}, "payload": payload}


def test_a_list_yields_every_event_oldest_first_by_creation() -> None:
    webhook = dialect.run(events_v2())
    dialect.assert_common(webhook)
    assert [(e.milestone, e.classifier) for e in webhook.events] == [
        (Milestone.BOOKING_CONFIRMED, EventClassifier.ACTUAL),
        (Milestone.DEPARTED, EventClassifier.PLANNED),
        (Milestone.IN_TRANSIT, EventClassifier.ACTUAL),  # GTIN
        (Milestone.IN_TRANSIT, EventClassifier.ACTUAL),  # LOAD, listed after DEPA
        (Milestone.DEPARTED, EventClassifier.ACTUAL),
        (Milestone.ARRIVED, EventClassifier.ESTIMATED),
        (Milestone.ARRIVED, EventClassifier.ACTUAL),
        (Milestone.CUSTOMS_HELD, EventClassifier.ACTUAL),
        (Milestone.CUSTOMS_RELEASED, EventClassifier.ACTUAL),
        (Milestone.IN_TRANSIT, EventClassifier.ACTUAL),  # GTOT
    ]
    assert webhook.events[3].source.raw_code == "LOAD/LADEN"


def test_event_ids_are_the_dcsa_event_ids_and_a_list_is_keyed_by_its_body() -> None:
    webhook = dialect.assert_stable(events_v2())
    assert webhook.dedupe_key == body_key(body(events_v2()))
    assert {e.dedupe_key for e in webhook.events} == {e["eventID"] for e in events_v2()}
    gate_in = next(e for e in webhook.events if e.dedupe_key == EQUIPMENT_ID)
    assert gate_in.event_id == event_id_for(PARTNER, EQUIPMENT_ID)
    assert gate_in.source.partner_event_id == EQUIPMENT_ID


def test_offsets_locations_and_references_are_kept() -> None:
    webhook = dialect.run(events_v2())
    assert webhook.references.booking_reference == BOOKING
    assert webhook.references.transport_document == BILL_OF_LADING
    assert webhook.references.tracking_number is None
    departed, arrived = webhook.events[4], webhook.events[6]
    assert departed.occurred_at.utcoffset() == timedelta(hours=1)
    assert arrived.occurred_at.utcoffset() == timedelta(hours=-5)
    assert departed.location is not None
    assert (departed.location.unlocode, departed.location.country) == ("DEHAM", "DE")
    assert departed.location.name == "Container Terminal Burchardkai"
    assert departed.reason == "Delayed by high winds on the Elbe"
    held = webhook.events[7]
    assert (held.source.raw_status, held.source.raw_sub_status) == ("HOLD", "CUS")
    assert held.reason == "CBP exam ordered"


def test_a_later_list_with_one_more_event_keeps_the_known_ids() -> None:
    longer = events_v2()
    dialect.assert_redelivery_keeps_ids(longer[:-1], longer)


def test_a_single_v3_event_is_keyed_by_its_event_id() -> None:
    webhook = dialect.assert_stable(event_v3())
    assert webhook.dedupe_key == "3cecb101-7a1a-43a4-9d62-e88a131651e2"
    (event,) = webhook.events
    assert event.milestone is Milestone.CUSTOMS_RELEASED
    assert event.dedupe_key == "3cecb101-7a1a-43a4-9d62-e88a131651e2"
    assert event.occurred_at.utcoffset() == timedelta(hours=-5)
    assert event.location is not None
    assert (event.location.unlocode, event.location.country) == ("USNYC", "US")
    assert webhook.references.booking_reference == BOOKING
    assert webhook.references.transport_document == BILL_OF_LADING


@pytest.mark.parametrize(
    ("code", "classifier"),
    [("EST", EventClassifier.ESTIMATED), ("PLN", EventClassifier.PLANNED)],
)
def test_estimated_and_planned_events_keep_their_classifier(
    code: str, classifier: EventClassifier
) -> None:
    (event,) = dialect.run(flat_event("ARRI", None, classifier=code)).events
    assert event.milestone is Milestone.ARRIVED
    assert event.classifier is classifier


def test_a_v3_retraction_without_payload_retracts_the_event() -> None:
    retraction = {
        "metadata": {
            "eventID": "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee",
            "eventCreatedDateTime": "2026-11-16T11:00:00-05:00",
            "eventType": "TRANSPORT",
            "retractedEventID": "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
            "publisherRole": "CA",
        }
    }
    (event,) = dialect.run(retraction).events
    retracted = dialect.run(events_v2()).events[6]
    assert retracted.dedupe_key == "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    assert event.retracts_event_id == retracted.event_id
    assert event.retracts_event_id == event_id_for(PARTNER, "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")
    assert event.milestone is Milestone.UNKNOWN
    assert event.occurred_at.utcoffset() == timedelta(hours=-5)


def test_a_correcting_event_retracts_and_replaces() -> None:
    correction = flat_event("ARRI", None)
    correction["retractedEventID"] = "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f"
    (event,) = dialect.run(as_v3(correction)).events
    assert event.milestone is Milestone.ARRIVED
    assert event.retracts_event_id == event_id_for(PARTNER, "0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")


@pytest.mark.parametrize("shape", ["v2", "v3"])
@pytest.mark.parametrize("key", dialect.table_keys())
def test_every_mapped_code(key: str, shape: str) -> None:
    code, sub_code = split(key)
    event = flat_event(code, sub_code)
    normalized = dialect.assert_mapped(event if shape == "v2" else as_v3(event), key)
    assert normalized.source.raw_status == code
    assert normalized.location is not None
    assert normalized.location.unlocode == "NLRTM"


@pytest.mark.parametrize(
    ("event", "raw_code"),
    [
        (flat_event("ZZZZ", None), "ZZZZ/EMPTY"),
        (flat_event("ISSU", "TRD"), "ISSU/TRD"),
        (mutate(flat_event("ARRI", None), ("transportEventTypeCode",), DELETE), "TRANSPORT"),
        (
            {**flat_event("ZZZZ", None), "eventType": "REEFER", "equipmentEventTypeCode": None},
            "REEFER",
        ),
    ],
)
def test_unknown_codes_become_unknown_with_raw_codes_kept(event: dict, raw_code: str) -> None:
    normalized = dialect.assert_unknown(event)
    assert normalized.source.raw_code == raw_code


def test_a_shipment_event_names_its_booking() -> None:
    webhook = dialect.run(flat_event("CONF", "BKG"))
    assert webhook.references.booking_reference == BOOKING
    assert webhook.references.transport_document is None


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (mutate(flat_event("ARRI", None), ("eventID",), DELETE), "eventID"),
        (mutate(flat_event("ARRI", None), ("eventClassifierCode",), "REQ"), "eventClassifierCode"),
        (mutate(flat_event("ARRI", None), ("eventClassifierCode",), DELETE), "eventClassifierCode"),
        (mutate(flat_event("ARRI", None), ("eventDateTime",), DELETE), "eventDateTime"),
        (
            mutate(flat_event("ARRI", None), ("eventDateTime",), "2026-11-10T11:59:00"),
            "eventDateTime",
        ),
        (
            mutate(as_v3(flat_event("ARRI", None)), ("metadata", "eventCreatedDateTime"), DELETE),
            "metadata.eventCreatedDateTime",
        ),
        (
            mutate(as_v3(flat_event("ARRI", None)), ("payload", "eventDateTime"), "noon"),
            "payload.eventDateTime",
        ),
        (
            mutate(as_v3(flat_event("ARRI", None)), ("payload", "eventDateTime"), DELETE),
            "payload.eventDateTime",
        ),
        (mutate(as_v3(flat_event("ARRI", None)), ("metadata",), []), "metadata"),
        (mutate(events_v2(), (3,), "event"), "[3]"),
        (mutate(events_v2(), (4, "eventType"), DELETE), "[4].eventType"),
        (mutate(events_v2(), (4, "eventDateTime"), DELETE), "[4].eventDateTime"),
        ("just a string", "(body)"),
    ],
)
def test_malformed_payloads_name_the_field(payload: Any, field: str) -> None:
    assert dialect.refused(payload).field == field


def test_an_empty_list_has_no_event() -> None:
    webhook = dialect.run([])
    assert webhook.events == []
    assert webhook.dedupe_key == body_key(b"[]")
