"""DCSA's own published payloads (tests/fixtures/dcsa/SOURCES.md) give their documented meaning.

TNT 2.2, 3.0.0-Beta-1 and 3.0 (released January 2026), the version read from the shape; the
shipment's current state follows the classifier, then the time (``dcsa.current_event``).
"""

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from dialect_support import DELETE, RECEIVED_AT, Dialect, body, mutate

from canonical.dialects.dcsa import current_event, version
from canonical.dialects.wire import body_key
from canonical.events import EventClassifier, event_id_for
from canonical.milestones import Milestone

PARTNER = "dcsa"
dialect = Dialect(PARTNER)
M, C = Milestone, EventClassifier
V2_2 = "tnt_2.2_events_response.json"
BETA_TRANSPORT = "tnt_3.0.0-Beta-1_transport_events.json"
BETA_SHIPMENT = "tnt_3.0.0-Beta-1_shipment_event.json"
V3_RESPONSE = "tnt_3.0_events_response.json"
V3_LOADED = "tnt_3.0_equipment_loaded.json"
V3_DRAFT = "tnt_3.0_draft_transport_arrived.json"
BOOKING_PLACEHOLDER = "CARRIER_BOOKING_REFERENCE_PLACEHOLDER"
TD_PLACEHOLDER = "TRANSPORT_DOCUMENT_REFERENCE_PLACEHOLDER"


def fixture(name: str) -> Any:
    return dialect.fixture(name)


def v3_event(**changes: Any) -> dict[str, Any]:
    """The 3.0 transport event (DEPARTED, ACTUAL) of the conformance response, changed."""
    event = fixture(V3_RESPONSE)["events"][1]
    classification = {**event["eventClassification"], **changes.pop("classification", {})}
    return {**event, **changes, "eventClassification": classification}


@pytest.mark.parametrize(
    ("name", "expected"),
    [(V2_2, "TNT 2.2"), (BETA_TRANSPORT, "TNT 3.0.0-Beta"), (BETA_SHIPMENT, "TNT 3.0.0-Beta"),
     (V3_RESPONSE, "TNT 3.0"), (V3_LOADED, "TNT 3.0"), (V3_DRAFT, "TNT 3.0")],
)  # fmt: skip
def test_the_version_is_read_from_the_shape(name: str, expected: str) -> None:
    assert version(fixture(name)) == expected
    dialect.assert_common(dialect.assert_stable(fixture(name)))


def test_tnt_2_2_conformance_events() -> None:
    webhook = dialect.run(fixture(V2_2))
    assert webhook.dedupe_key == body_key(body(fixture(V2_2)))
    assert (webhook.references.booking_reference, webhook.references.transport_document) == (
        "ABC123123123",
        "reserved-HHL123",
    )
    by_id = {event.dedupe_key[-2:]: event for event in webhook.events}
    for arrival in (by_id["e2"], by_id["e5"]):  # ARRI, ACT, at FRPAR in bad weather
        assert (arrival.milestone, arrival.classifier) == (M.ARRIVED, C.ACTUAL)
        assert arrival.occurred_at == datetime(2021, 1, 9, 13, 12, 56, tzinfo=UTC)
        assert arrival.occurred_at.utcoffset() == timedelta(hours=1)
        assert arrival.location is not None and arrival.location.unlocode == "FRPAR"
        assert arrival.reason == "Bad weather"
    for load in (by_id["e4"], by_id["e7"]):  # LOAD of an EMPTY container, estimated
        assert (load.milestone, load.classifier) == (M.IN_TRANSIT, C.ESTIMATED)
        assert load.source.raw_code == "LOAD/EMPTY"
        assert load.occurred_at.utcoffset() == timedelta(hours=8, minutes=30)
    assert by_id["e4"].location is not None and by_id["e4"].location.name == "Eiffel Tower"
    for draft, document in (("e3", "SHI"), ("e6", "BKG"), ("e8", "TRD")):  # DRFT: drafted
        assert by_id[draft].milestone is M.UNKNOWN
        assert by_id[draft].source.raw_code == f"DRFT/{document}"
    # oldest first by eventCreatedDateTime: the shipment events were created on 1 January
    assert [e.dedupe_key[-2:] for e in webhook.events][:2] == ["e3", "e8"]


def test_tnt_2_2_current_state_is_the_latest_actual_not_the_last_listed() -> None:
    webhook = dialect.run(fixture(V2_2))
    assert webhook.events[-1].classifier is C.ESTIMATED  # the list ends with an estimate
    current = current_event(webhook.events)
    assert current is not None and current.milestone is M.ARRIVED
    # e2 and e5 tie on eventDateTime and eventCreatedDateTime: the later listed wins
    assert current.dedupe_key.endswith("e5")


def test_tnt_3_0_beta_retraction_and_estimate() -> None:
    webhook = dialect.run(fixture(BETA_TRANSPORT))
    assert webhook.dedupe_key == body_key(body(fixture(BETA_TRANSPORT)))
    retraction, estimate = webhook.events
    assert retraction.retracts_event_id == event_id_for(
        PARTNER, "957e4966-dad0-4111-9f8f-fb7216c43907"
    )
    assert retraction.milestone is M.UNKNOWN
    assert retraction.occurred_at.utcoffset() == timedelta(hours=8, minutes=30)
    assert (estimate.milestone, estimate.classifier) == (M.ARRIVED, C.ESTIMATED)
    assert estimate.dedupe_key == "c0ea5971-bd21-4749-a7ce-8f8d1dc562e2"
    assert estimate.location is not None
    assert (estimate.location.unlocode, estimate.location.name) == ("NLRAM", "Port of Amsterdam")
    assert (webhook.references.booking_reference, webhook.references.transport_document) == (
        "ABC123059",
        "85943567",
    )
    assert current_event(webhook.events) is None  # an estimate is never the current state


def test_tnt_3_0_beta_shipment_event_issued_transport_document() -> None:
    webhook = dialect.run(fixture(BETA_SHIPMENT))
    assert webhook.dedupe_key == "84db923d-2a19-4eb0-beb5-446c1ec57d34"
    (issued,) = webhook.events
    assert issued.milestone is M.UNKNOWN  # ISSU/TRD: no canonical milestone, codes kept
    assert (issued.source.raw_status, issued.source.raw_sub_status) == ("ISSU", "TRD")
    assert issued.reason == "All good"
    assert webhook.references.booking_reference == "ABC123059"
    assert webhook.references.transport_document == "84db923d-2a19-4eb0-beb5-446c1ec57d34"


def test_tnt_3_0_conformance_response() -> None:
    webhook = dialect.run(fixture(V3_RESPONSE))
    assert webhook.dedupe_key == body_key(body(fixture(V3_RESPONSE)))
    assert [(e.milestone, e.classifier, e.source.raw_code) for e in webhook.events] == [
        (M.BOOKING_CONFIRMED, C.ACTUAL, "CONFIRMED/BOOKING"),
        (M.DEPARTED, C.ACTUAL, "DEPARTED"),
        (M.IN_TRANSIT, C.ACTUAL, "GATED_IN/EMPTY"),
        (M.UNKNOWN, C.ACTUAL, "GEOFENCE_ENTRY"),  # IOT: no milestone, counted as unmapped
        (M.UNKNOWN, C.ACTUAL, "MEASURED"),  # REEFER
    ]
    assert [e.dedupe_key for e in webhook.events] == [
        "evt-resp-ship-001", "evt-resp-trans-001", "evt-resp-equip-001", "evt-resp-iot-001",
        "evt-resp-reefer-001",
    ]  # fmt: skip
    departed, gated_in = webhook.events[1], webhook.events[2]
    assert departed.occurred_at == datetime(2025, 1, 25, 0, 45, tzinfo=UTC)
    assert departed.location is not None
    assert (departed.location.unlocode, departed.location.name) == (
        "GBSOU",
        "Example Terminal Alpha",
    )
    assert gated_in.location is not None
    assert (gated_in.location.city, gated_in.location.postal_code) == ("Example Town", "75001")
    assert webhook.references.booking_reference == BOOKING_PLACEHOLDER
    assert webhook.references.transport_document == TD_PLACEHOLDER
    assert not dialect.table.maps(webhook.events[3].source.raw_code)
    current = current_event(webhook.events)
    assert current is not None and current.dedupe_key == "evt-resp-equip-001"


def test_tnt_3_0_equipment_loaded_laden() -> None:
    webhook = dialect.run(fixture(V3_LOADED))
    (loaded,) = webhook.events
    assert (loaded.milestone, loaded.source.raw_code) == (M.IN_TRANSIT, "LOADED/LADEN")
    assert loaded.dedupe_key == "evt-equip-001-2026-01-20T14:15:00Z"
    assert loaded.location is not None
    assert (loaded.location.unlocode, loaded.location.city, loaded.location.country) == (
        "NLRTM",
        "Example City",
        "NL",
    )


def test_tnt_3_0_draft_spelling_of_codes() -> None:
    webhook = dialect.run(fixture(V3_DRAFT))
    (arrived,) = webhook.events
    assert (arrived.milestone, arrived.classifier) == (M.ARRIVED, C.ACTUAL)
    assert arrived.source.raw_code == "ARRI"
    assert arrived.location is not None and arrived.location.unlocode == "DEHAM"
    assert (webhook.references.booking_reference, webhook.references.transport_document) == (
        "ABC709951",
        "HHL71800000",
    )


@pytest.mark.parametrize(
    ("payload", "field", "tried"),
    [(mutate(fixture(V3_RESPONSE), ("events", 1, "eventID"), DELETE), "events[1].eventID",
      "TNT 3.0"),
     (mutate(fixture(V3_RESPONSE), ("events", 0, "eventClassification"), DELETE),
      "events[0].eventClassification", "TNT 3.0"),
     (mutate(fixture(V3_RESPONSE), ("events", 0, "eventClassification", "eventClassifier"),
             "SOON"), "events[0].eventClassification.eventClassifier", "TNT 3.0"),
     (mutate(fixture(V3_RESPONSE), ("events", 2, "eventDateTime"), "2025-01-27T00:30:00"),
      "events[2].eventDateTime", "TNT 3.0"),
     (mutate(fixture(V3_RESPONSE), ("events",), {}), "events", "TNT 3.0"),
     (mutate(fixture(BETA_SHIPMENT), ("payload", "eventDateTime"), DELETE),
      "payload.eventDateTime", "TNT 3.0.0-Beta"),
     (mutate(fixture(V2_2), (2, "eventCreatedDateTime"), DELETE), "[2].eventCreatedDateTime",
      "TNT 2.2")],
)  # fmt: skip
def test_a_refusal_names_the_version_it_tried_and_the_real_problem(
    payload: Any, field: str, tried: str
) -> None:
    refused = dialect.refused(payload)
    assert refused.field == field
    assert refused.problem.startswith(tried + " ") or refused.problem.startswith(tried + ":")


def test_a_3_0_envelope_is_not_read_as_a_2_2_event() -> None:
    webhook = dialect.run(fixture(V3_LOADED))  # was: "eventID: Field required"
    assert len(webhook.events) == 1
    assert dialect.run({"events": []}).events == []


def test_a_bare_3_0_event_is_keyed_by_its_event() -> None:
    webhook = dialect.run(v3_event())
    assert webhook.dedupe_key == "evt-resp-trans-001"
    assert [e.milestone for e in webhook.events] == [M.DEPARTED]


def test_a_3_0_estimate_updated_later_is_a_new_event_an_actual_is_not() -> None:
    first = v3_event(classification={"eventClassifier": "ESTIMATED"})
    later = {**first, "eventUpdatedDateTime": "2025-01-26T08:00:00+01:00"}
    later["eventDateTime"] = "2025-01-26T06:00:00Z"
    (old,), (new,) = dialect.run(first).events, dialect.run(later).events
    assert old.dedupe_key == "evt-resp-trans-001@2025-01-25T01:23:45+00:00"
    assert new.dedupe_key == "evt-resp-trans-001@2025-01-26T07:00:00+00:00"
    assert (new.classifier, new.occurred_at) == (C.ESTIMATED, datetime(2025, 1, 26, 6, tzinfo=UTC))
    actual, restated = v3_event(), v3_event(eventUpdatedDateTime="2025-01-26T08:00:00Z")
    assert dialect.only_event(actual).event_id == dialect.only_event(restated).event_id


def test_a_3_0_retraction_retracts_the_event_id() -> None:
    departed = dialect.only_event(v3_event())
    for retraction in (
        {"eventID": "evt-resp-trans-001", "isRetracted": True},  # the schema: nothing else
        v3_event(isRetracted=True, eventUpdatedDateTime="2025-01-25T09:00:00Z"),
    ):
        event = dialect.only_event({"events": [retraction]})
        assert event.retracts_event_id == departed.event_id
        assert event.event_id != departed.event_id
    bare = dialect.only_event({"events": [{"eventID": "evt-resp-trans-001", "isRetracted": True}]})
    assert bare.occurred_at == RECEIVED_AT


def test_current_state_follows_the_classifier_then_the_time() -> None:
    loaded = fixture(V3_LOADED)["events"][0]  # LOADED at 2026-01-20T14:15Z, ACTUAL
    stale = {**v3_event(), "eventDateTime": "2026-01-19T09:00:00Z"}  # DEPARTED, listed last
    stale["eventUpdatedDateTime"] = "2026-01-21T00:00:00Z"
    estimate = v3_event(classification={"eventClassifier": "ESTIMATED"}, eventID="eta")
    estimate.update(eventDateTime="2026-02-10T00:00:00Z", eventUpdatedDateTime="2026-01-22T00:00Z")
    webhook = dialect.run({"events": [loaded, stale, estimate]})
    assert [e.dedupe_key for e in webhook.events][-1].startswith("eta")
    current = current_event(webhook.events)
    assert current is not None and current.source.raw_code == "LOADED/LADEN"
    retract = {"eventID": loaded["eventID"], "isRetracted": True}
    retract["eventUpdatedDateTime"] = "2026-01-23T00:00:00Z"
    retracted = dialect.run({"events": [loaded, stale, estimate, retract]})
    current = current_event(retracted.events)
    assert current is not None and current.milestone is M.DEPARTED
    tie = {**stale, "eventDateTime": loaded["eventDateTime"]}  # same time, updated later
    current = current_event(dialect.run({"events": [tie, loaded]}).events)
    assert current is not None and current.milestone is M.DEPARTED


V3_TRANSPORT = {"APPROACHING", "ARRIVED", "DEPARTED"}
V3_SHIPMENT_ONLY = {"ON_HOLD"}
"""A 3.0 shipment subtype the table also maps without a document type."""


@pytest.mark.parametrize("key", [k for k in dialect.table_keys() if len(k.split("/")[0]) > 4])
def test_every_3_0_name_in_the_table(key: str) -> None:
    code, _, sub_code = key.partition("/")
    event = v3_event()
    del event["equipmentDetails"]
    if code in V3_TRANSPORT:
        kind = {"eventType": "TRANSPORT", "transportEventType": code}
    elif code in V3_SHIPMENT_ONLY or sub_code not in {"", "LADEN"}:
        kind = {"eventType": "SHIPMENT", "shipmentEventType": code}
        event["shipmentDetails"] = {"documentReference": {"type": sub_code or "INVOICE"}}
    else:
        kind = {"eventType": "EQUIPMENT", "equipmentEventType": code}
        event["equipmentDetails"] = {"emptyIndicator": sub_code or "EMPTY"}
    event["eventClassification"] = {**kind, "eventClassifier": "ACTUAL"}
    normalized = dialect.assert_mapped({"events": [event]}, key)
    assert normalized.source.raw_status == code


def test_borderflow_normalize_reads_a_3_0_payload() -> None:
    path = Path(__file__).parent.parent / "fixtures" / PARTNER / V3_RESPONSE
    borderflow = str(Path(sys.executable).parent / "borderflow")
    command = [borderflow, "normalize", "--partner", PARTNER, str(path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["milestone"] for e in events] == [
        "BOOKING_CONFIRMED", "DEPARTED", "IN_TRANSIT", "UNKNOWN", "UNKNOWN",
    ]  # fmt: skip
