from datetime import UTC, timedelta
from typing import Any

import pytest
from dialect_support import DELETE, Dialect, assert_oldest_first, mutate, split

from canonical.events import event_id_for, hashed_dedupe_key
from canonical.milestones import Milestone

PARTNER = "aftership"
dialect = Dialect(PARTNER)


def update() -> dict[str, Any]:
    return dialect.fixture("tracking_update.json")


def with_checkpoint(tag: str, subtag: str | None) -> dict[str, Any]:
    payload = update()
    checkpoint = payload["msg"]["checkpoints"][1]
    checkpoint.update(tag=tag, subtag=subtag)
    payload["msg"].update(checkpoints=[checkpoint], signed_by=None)
    return payload


def test_every_checkpoint_is_an_event_oldest_first_with_offsets_kept() -> None:
    webhook = dialect.run(update())
    dialect.assert_common(webhook)
    assert webhook.dedupe_key == "6b3a4c2e-9f1d-4a7b-8e5c-0d2f1a3b4c5d"
    assert webhook.references.tracking_number == "1Z9F4A720398765432"
    assert [event.milestone for event in webhook.events] == [
        Milestone.LABEL_CREATED,
        Milestone.PICKED_UP,
        Milestone.DEPARTED,
        Milestone.ARRIVED,
        Milestone.CUSTOMS_HELD,
        Milestone.OUT_FOR_DELIVERY,
        Milestone.DELIVERED,
    ]
    assert_oldest_first(webhook)
    assert webhook.events[0].occurred_at.utcoffset() == timedelta(hours=-6)
    assert webhook.events[-1].occurred_at.utcoffset() == timedelta(hours=1)


def test_checkpoints_keep_raw_codes_and_alpha3_countries_become_alpha2() -> None:
    events = dialect.run(update()).events
    held = events[4]
    assert (held.source.raw_status, held.source.raw_sub_status) == ("Exception", "Exception_004")
    assert held.source.raw_code == "Exception/Exception_004"
    assert held.reason == "Your package is being held for a customs clearance review."
    assert held.location is not None
    assert (held.location.city, held.location.postal_code, held.location.country) == (
        "Koeln",
        "51147",
        "DE",
    )
    assert held.location.name == "Koeln, Germany"
    legacy = events[2].location  # country_iso3, as in tracking API versions before 2024
    assert legacy is not None
    assert legacy.country == "US"


def test_checkpoints_have_hashed_dedupe_keys_and_stable_ids() -> None:
    webhook = dialect.assert_stable(update())
    first = webhook.events[0]
    assert first.source.partner_event_id is None
    assert first.dedupe_key == hashed_dedupe_key(
        "1Z9F4A720398765432", first.occurred_at.astimezone(UTC), "InfoReceived/InfoReceived_001"
    )
    assert first.event_id == event_id_for(PARTNER, first.dedupe_key)


def test_a_longer_history_keeps_the_ids_of_known_checkpoints() -> None:
    longer = update()
    shorter = mutate(longer, ("msg", "checkpoints"), longer["msg"]["checkpoints"][:-1])
    shorter["event_id"] = "0f1e2d3c-4b5a-4697-8a8b-9c0d1e2f3a4b"
    dialect.assert_redelivery_keeps_ids(shorter, longer)


def test_signed_by_is_the_proof_of_the_delivered_event_only() -> None:
    events = dialect.run(update()).events
    assert all(event.proof_of_delivery is None for event in events[:-1])
    pod = events[-1].proof_of_delivery
    assert pod is not None
    assert pod.signed_by == "M. MUELLER"


@pytest.mark.parametrize("key", dialect.table_keys())
def test_every_mapped_code(key: str) -> None:
    event = dialect.assert_mapped(with_checkpoint(*split(key)), key)
    assert event.source.raw_code == key


@pytest.mark.parametrize(
    ("subtag", "milestone"),
    [("InTransit_001", Milestone.IN_TRANSIT), ("InTransit_008", Milestone.IN_TRANSIT)],
)
def test_an_unmapped_subtag_falls_back_to_its_tag(subtag: str, milestone: Milestone) -> None:
    (event,) = dialect.run(with_checkpoint("InTransit", subtag)).events
    assert event.milestone is milestone


@pytest.mark.parametrize(
    ("tag", "subtag"), [("Teleported", None), ("Teleported", "Teleported_001")]
)
def test_unknown_codes_become_unknown_with_raw_codes_kept(tag: str, subtag: str | None) -> None:
    event = dialect.assert_unknown(with_checkpoint(tag, subtag))
    assert (event.source.raw_status, event.source.raw_sub_status) == (tag, subtag)


def test_other_webhook_events_carry_no_event() -> None:
    webhook = dialect.run(mutate(update(), ("event",), "edd_revise"))
    assert webhook.events == []
    assert webhook.dedupe_key == "6b3a4c2e-9f1d-4a7b-8e5c-0d2f1a3b4c5d"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("event_id",), DELETE, "event_id"),
        (("event",), DELETE, "event"),
        (("msg",), DELETE, "msg"),
        (("msg",), "tracking", "msg"),
        (("msg", "tracking_number"), DELETE, "msg.tracking_number"),
        (("msg", "checkpoints", 3, "tag"), DELETE, "msg.checkpoints[3].tag"),
        # AfterShip documents "", YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS[+TZ]: nothing else
        (
            ("msg", "checkpoints", 3, "checkpoint_time"),
            "2026-11-19 08:21:00",
            "msg.checkpoints[3].checkpoint_time",
        ),
        (
            ("msg", "checkpoints", 3, "checkpoint_time"),
            "19/11/2026",
            "msg.checkpoints[3].checkpoint_time",
        ),
        (
            ("msg", "checkpoints", 3, "checkpoint_time"),
            1795252985,
            "msg.checkpoints[3].checkpoint_time",
        ),
    ],
)
def test_malformed_payloads_name_the_field(path: tuple, value: Any, field: str) -> None:
    error = dialect.refused(mutate(update(), path, value))
    assert error.field == field


def test_a_body_that_is_not_json_is_malformed() -> None:
    assert dialect.refused(b"{event: tracking_update}").field is None
