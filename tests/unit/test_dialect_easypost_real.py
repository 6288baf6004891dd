"""EasyPost's own payloads (its examples repository and client-library cassettes).

- ``examples_fedex_tracker_updated_event.json``: a production ``tracker.updated`` Event of a
  FedEx Ground parcel, verbatim. Each detail carries FedEx's own code (``carrier_code``, with
  ``source: "FedEx"``); the "Picked up" scan (``PU``) is relayed as
  ``in_transit/arrived_at_facility``, so only the carrier code says PICKED_UP.
- ``csharp_cassette_usps_delivered_tracker.json``: a delivered USPS Tracker signed for by
  "John Tester", no carrier codes (``carrier_code: null``).
- ``examples_docs_trackers_list.json``: the docs' ``GET /trackers`` response, a pre_transit
  Tracker whose details have an empty ``carrier_code`` and ``description``.

EasyPost posts a Tracker as the ``result`` of an Event (docs.easypost.com/docs/events); the bare
Trackers are wrapped here that way. Provenance: tests/fixtures/easypost/SOURCES.md.
"""

import json
import subprocess
import sys
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from dialect_support import Dialect, assert_oldest_first, mutate

from canonical.events import event_id_for, hashed_dedupe_key
from canonical.milestones import Milestone

PARTNER = "easypost"
dialect = Dialect(PARTNER)
BORDERFLOW = str(Path(sys.executable).parent / "borderflow")
FEDEX = "examples_fedex_tracker_updated_event.json"
USPS_DELIVERED = "csharp_cassette_usps_delivered_tracker.json"
DOCS_LIST = "examples_docs_trackers_list.json"
M = Milestone


def event_of(tracker: dict[str, Any], event_id: str = "evt_wrapped") -> dict[str, Any]:
    """A Tracker as EasyPost posts it: the ``result`` of a ``tracker.updated`` Event."""
    return {"object": "Event", "id": event_id, "description": "tracker.updated", "result": tracker}


def fedex() -> dict[str, Any]:
    return dialect.fixture(FEDEX)


def usps_delivered() -> dict[str, Any]:
    return event_of(dialect.fixture(USPS_DELIVERED))


def docs_tracker() -> dict[str, Any]:
    return event_of(dialect.fixture(DOCS_LIST)["trackers"][0])


def test_the_fedex_codes_decide_where_easypost_is_lossy() -> None:
    webhook = dialect.run(fedex())
    dialect.assert_common(webhook)
    assert webhook.dedupe_key == "evt_1"
    assert webhook.references.tracking_number == "1"
    assert [event.milestone for event in webhook.events] == [
        M.LABEL_CREATED,  # OC, pre_transit/label_created
        M.PICKED_UP,  # PU, although EasyPost says in_transit/arrived_at_facility
        M.ARRIVED,  # AR
        M.DEPARTED,  # DP
        M.IN_TRANSIT,  # IT, in_transit/unknown
        M.IN_TRANSIT,
        M.ARRIVED,  # AR, the Tracker's current in_transit/arrived_at_facility
    ]
    assert_oldest_first(webhook)


def test_the_carrier_code_that_decided_is_the_raw_code_and_easyposts_codes_are_kept() -> None:
    picked_up = dialect.run(fedex()).events[1]
    assert picked_up.reason == "Picked up"
    assert picked_up.source.raw_code == "FedEx:PU"
    assert (picked_up.source.raw_status, picked_up.source.raw_sub_status) == (
        "in_transit",
        "arrived_at_facility",
    )
    assert picked_up.location is not None
    assert (picked_up.location.city, picked_up.location.postal_code) == ("ORLANDO", "32809")
    agreeing = dialect.run(fedex()).events[2]  # AR: FedEx and EasyPost both say ARRIVED
    assert agreeing.source.raw_code == "in_transit/arrived_at_facility"


def test_without_the_carrier_code_easyposts_detail_is_all_there_is() -> None:
    """The lossy reading the carrier table corrects; the event ids do not depend on it."""
    stripped = fedex()
    for detail in stripped["result"]["tracking_details"]:
        detail["carrier_code"] = None
    coarse, native = dialect.run(stripped).events, dialect.run(fedex()).events
    assert coarse[1].milestone is M.ARRIVED
    assert coarse[1].source.raw_code == "in_transit/arrived_at_facility"
    assert [e.event_id for e in coarse] == [e.event_id for e in native]
    first = native[1]
    assert first.dedupe_key == hashed_dedupe_key(
        "1", first.occurred_at.astimezone(UTC), "in_transit/arrived_at_facility"
    )
    assert first.event_id == event_id_for(PARTNER, first.dedupe_key)


def test_the_carrier_is_the_details_source_else_the_trackers_carrier() -> None:
    payload = fedex()
    for detail in payload["result"]["tracking_details"]:
        detail["source"] = None
    assert dialect.run(payload).events[1].milestone is M.PICKED_UP  # Tracker.carrier: FedEx
    payload["result"]["carrier"] = "Acme Parcel"
    assert dialect.run(payload).events[1].milestone is M.ARRIVED  # no table: EasyPost decides


def test_a_delivered_scan_stamped_early_is_still_the_current_state() -> None:
    """The Tracker's ``status`` is the current state, whatever the details' times say."""
    path = ("result", "tracking_details", 7, "datetime")
    payload = mutate(usps_delivered(), path, "2022-09-16T02:00:00Z")  # before three others
    events = dialect.run(payload).events
    assert events[-1].milestone is M.DELIVERED
    assert events[-1].occurred_at.isoformat() == "2022-09-16T02:00:00+00:00"  # kept as sent
    assert [e.milestone for e in events[:-1]].count(M.DELIVERED) == 0


def test_the_current_fedex_scan_is_last_even_when_stamped_before_the_others() -> None:
    path = ("result", "tracking_details", 6, "datetime")
    events = dialect.run(mutate(fedex(), path, "2024-08-01T00:00:00Z")).events
    assert (events[-1].milestone, events[-1].reason) == (M.ARRIVED, "Arrived at FedEx location")
    assert events[-1].location is not None and events[-1].location.city == "EDISON"


def test_the_real_delivered_usps_tracker() -> None:
    webhook = dialect.assert_stable(usps_delivered())
    dialect.assert_common(webhook)
    assert webhook.references.tracking_number == "9400100109361142952067"
    assert [event.milestone for event in webhook.events] == [
        M.LABEL_CREATED,  # pre_transit/status_update
        M.LABEL_CREATED,
        M.ARRIVED,  # in_transit/arrived_at_facility (no carrier code to say more)
        M.ARRIVED,
        M.ARRIVED,
        M.IN_TRANSIT,  # in_transit/status_update, "Sorting Complete"
        M.OUT_FOR_DELIVERY,
        M.DELIVERED,
    ]
    pods = [event.proof_of_delivery for event in webhook.events]
    assert pods[:-1] == [None] * 7
    assert pods[-1] is not None and pods[-1].signed_by == "John Tester"
    assert all(e.source.raw_code and "/" in e.source.raw_code for e in webhook.events)


def test_the_docs_tracker_with_empty_carrier_codes() -> None:
    webhook = dialect.assert_stable(docs_tracker())
    assert webhook.references.tracking_number == "EZ1000000001"
    assert [event.milestone for event in webhook.events] == [M.LABEL_CREATED, M.LABEL_CREATED]
    assert [e.source.raw_code for e in webhook.events] == ["pre_transit/status_update"] * 2
    second = webhook.events[1]
    assert second.location is not None
    assert (second.location.city, second.location.postal_code, second.location.country) == (
        "HOUSTON",
        "77063",
        None,
    )


@pytest.mark.parametrize("name", [USPS_DELIVERED, DOCS_LIST])
def test_every_real_tracker_keeps_easyposts_codes_verbatim(name: str) -> None:
    tracker = dialect.fixture(name)
    tracker = tracker["trackers"][0] if "trackers" in tracker else tracker
    events = dialect.run(event_of(tracker)).events
    details = sorted(tracker["tracking_details"], key=lambda d: d["datetime"])
    assert [(e.source.raw_status, e.source.raw_sub_status) for e in events] == [
        (d["status"], d["status_detail"]) for d in details
    ]


def test_borderflow_normalize_reads_the_real_fedex_event() -> None:
    path = Path(__file__).parent.parent / "fixtures" / PARTNER / FEDEX
    done = subprocess.run(
        [BORDERFLOW, "normalize", "--partner", PARTNER, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert [e["milestone"] for e in events].count("PICKED_UP") == 1
    assert events[1]["source"]["raw_code"] == "FedEx:PU"
    assert events[-1]["milestone"] == "ARRIVED"
