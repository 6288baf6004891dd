"""Every real payload names the vendor's own current-status event (issue 15 item 5).

EasyPost (``status``), AfterShip (``tag``) and Shippo (``tracking_status``) order that event
last, and ``current_event_id`` is its id. DCSA's is ``dcsa.current_event`` (classifier, then
time), which need not be last: events stay in update order. Payloads are the vendors' own
(provenance: ``tests/fixtures/<partner>/SOURCES.md``), wrapped as the vendor posts them.
"""

from typing import Any

import pytest
from dialect_support import Dialect

from canonical.dialects import dcsa
from canonical.dialects.normalized import NormalizedWebhook


def easypost(name: str) -> Any:
    data = Dialect("easypost").fixture(name)
    tracker = data["trackers"][0] if "trackers" in data else data
    if tracker.get("object") == "Event":
        return tracker
    return {"object": "Event", "id": "evt_wrapped", "description": "tracker.updated",
            "result": tracker}  # fmt: skip


def shippo(name: str) -> Any:
    return {"event": "track_updated", "test": False, "data": Dialect("shippo").fixture(name)}


def run(partner: str, payload: Any) -> NormalizedWebhook:
    return Dialect(partner).run(payload)


AGGREGATORS = [
    ("easypost", easypost("examples_fedex_tracker_updated_event.json")),
    ("easypost", easypost("csharp_cassette_usps_delivered_tracker.json")),
    ("easypost", easypost("examples_docs_trackers_list.json")),
    ("aftership", Dialect("aftership").fixture("real_fedex_cn_jp_delivered.json")),
    ("aftership", Dialect("aftership").fixture("real_fedex_us_exception_delivered.json")),
    ("aftership", Dialect("aftership").fixture("real_postnl_nl_es_in_transit.json")),
    ("aftership", Dialect("aftership").fixture("docs_usps_offsetless_time.json")),
    ("shippo", shippo("python_client_track_get.json")),
    ("shippo", shippo("python_client_track_create.json")),
    ("shippo", shippo("ruby_client_track_retrieve.json")),
]
DCSA = [
    "tnt_2.2_events_response.json",
    "tnt_3.0_events_response.json",
    "tnt_3.0_equipment_loaded.json",
    "tnt_3.0_draft_transport_arrived.json",
]


@pytest.mark.parametrize(("partner", "payload"), AGGREGATORS)
def test_an_aggregators_current_event_is_its_last_event(partner: str, payload: Any) -> None:
    webhook = run(partner, payload)
    assert webhook.events
    assert webhook.current_event_id == webhook.events[-1].event_id


@pytest.mark.parametrize("name", DCSA)
def test_dcsas_current_event_is_its_current_event_by_classifier_and_time(name: str) -> None:
    webhook = run("dcsa", Dialect("dcsa").fixture(name))
    current = dcsa.current_event(webhook.events)
    assert current is not None
    assert webhook.current_event_id == current.event_id


def test_a_dcsa_current_event_is_not_always_the_last_update() -> None:
    webhook = run("dcsa", Dialect("dcsa").fixture("tnt_2.2_events_response.json"))
    assert webhook.current_event_id != webhook.events[-1].event_id  # an estimate came later


def test_without_an_actual_dcsa_event_there_is_no_current_event() -> None:
    webhook = run("dcsa", Dialect("dcsa").fixture("tnt_3.0.0-Beta-1_transport_events.json"))
    assert webhook.events
    assert webhook.current_event_id is None


def test_a_dialect_without_a_current_status_field_names_none() -> None:
    webhook = Dialect("dhl").run(Dialect("dhl").fixture("delivered.json"))
    assert webhook.events
    assert webhook.current_event_id is None
