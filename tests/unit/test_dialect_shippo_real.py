"""Shippo's own tracks (its SDKs' recorded API responses), posted as ``track_updated`` webhooks.

Shippo documents the webhook body as ``{"event": "track_updated", "test": …, "data": <Track>}``;
the fixtures are the vendor's Track objects, wrapped here as Shippo wraps them. In each,
``tracking_status`` repeats the last ``tracking_history`` entry under another ``object_id``.
"""

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from dialect_support import Dialect, assert_oldest_first, mutate

from canonical.events import event_id_for
from canonical.milestones import Milestone

PARTNER = "shippo"
dialect = Dialect(PARTNER)
BORDERFLOW = str(Path(sys.executable).parent / "borderflow")
REAL = [
    "python_client_track_get.json",
    "python_client_track_create.json",
    "ruby_client_track_retrieve.json",
]


def webhook_of(name: str) -> dict[str, Any]:
    return {"event": "track_updated", "test": False, "data": dialect.fixture(name)}


@pytest.mark.parametrize("name", REAL)
def test_the_current_status_repeating_the_history_is_one_event(name: str) -> None:
    payload = webhook_of(name)
    track = payload["data"]
    history, current = track["tracking_history"], track["tracking_status"]
    assert current["object_id"] != history[-1]["object_id"]  # the vendor's quirk
    webhook = dialect.assert_stable(payload)
    dialect.assert_common(webhook)
    assert len(webhook.events) == len(history)
    delivered = [e for e in webhook.events if e.milestone is Milestone.DELIVERED]
    assert len(delivered) == 1
    assert webhook.events[-1] is delivered[0]
    assert delivered[0].dedupe_key == history[-1]["object_id"]
    assert delivered[0].proof_of_delivery is None
    assert [e.dedupe_key for e in webhook.events] == [entry["object_id"] for entry in history]
    assert webhook.dedupe_key == current["object_id"]
    assert webhook.references.tracking_number == track["tracking_number"]
    assert_oldest_first(webhook)


def test_usps_scans_keep_their_documented_meaning() -> None:
    events = dialect.run(webhook_of("python_client_track_get.json")).events
    assert [e.milestone for e in events] == [Milestone.UNKNOWN] * 2 + [Milestone.IN_TRANSIT] * 8 + [
        Milestone.DELIVERED
    ]
    first = events[0]
    assert first.location is None  # Shippo sends "location": null
    assert first.occurred_at == datetime(2016, 12, 7, tzinfo=UTC)  # a midnight, kept as sent
    assert first.source.raw_status == "UNKNOWN"
    assert first.reason is not None and first.reason.startswith("The USPS has received")
    last = events[-1]
    assert last.location is not None
    assert (last.location.city, last.location.postal_code, last.location.country) == (
        "Berkeley",
        "94705",
        "US",
    )
    assert last.reason == "Your shipment has been delivered at the destination mailbox."


def test_the_current_state_follows_tracking_status_when_times_contradict_the_order() -> None:
    payload = webhook_of("ruby_client_track_retrieve.json")
    earlier = "2016-07-23T01:00:00Z"  # before the two scans that precede delivery
    payload = mutate(payload, ("data", "tracking_status", "status_date"), earlier)
    payload = mutate(payload, ("data", "tracking_history", -1, "status_date"), earlier)
    events = dialect.run(payload).events
    assert len(events) == 7
    assert events[-1].milestone is Milestone.DELIVERED
    assert events[-1].occurred_at == datetime(2016, 7, 23, 1, tzinfo=UTC)
    assert events[-1].dedupe_key == payload["data"]["tracking_history"][-1]["object_id"]
    assert events[-2].occurred_at > events[-1].occurred_at


def test_a_current_status_the_history_lacks_is_its_own_event_and_last() -> None:
    payload = webhook_of("ruby_client_track_retrieve.json")
    current = payload["data"]["tracking_status"]
    payload["data"]["tracking_history"] = payload["data"]["tracking_history"][:-1]
    payload["data"]["tracking_status"]["status_date"] = "2016-07-22T00:00:00Z"
    events = dialect.run(payload).events
    assert len(events) == 7
    assert events[-1].milestone is Milestone.DELIVERED
    assert events[-1].event_id == event_id_for(PARTNER, current["object_id"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status_date", "2016-07-23T13:04:00Z"),
        ("location", {"city": "Fredericksburg", "state": "VA", "zip": "22401", "country": "US"}),
        ("status", "RETURNED"),
    ],
)
def test_a_current_status_that_says_something_else_is_not_a_repeat(field: str, value: Any) -> None:
    payload = mutate(
        webhook_of("ruby_client_track_retrieve.json"), ("data", "tracking_status", field), value
    )
    events = dialect.run(payload).events
    assert len(events) == 8
    assert events[-1].dedupe_key == payload["data"]["tracking_status"]["object_id"]


def test_the_same_instant_in_another_spelling_is_still_a_repeat() -> None:
    path = ("data", "tracking_status", "status_date")
    payload = mutate(
        webhook_of("ruby_client_track_retrieve.json"), path, "2016-07-23T09:03:00-04:00"
    )
    assert len(dialect.run(payload).events) == 7


def test_borderflow_normalize_prints_the_real_track_once_per_scan() -> None:
    body = json.dumps(webhook_of("python_client_track_get.json"))
    done = subprocess.run(
        [BORDERFLOW, "normalize", "--partner", PARTNER, "-"],
        input=body,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(events) == 11
    assert [e["milestone"] for e in events].count("DELIVERED") == 1
    assert events[-1]["milestone"] == "DELIVERED"
    assert events[-1]["dedupe_key"] == "a940dac11e084375add1216f2d8f98be"
