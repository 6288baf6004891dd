from datetime import timedelta
from typing import Any

import pytest
from dialect_support import DELETE, Dialect, mutate

from canonical.events import event_id_for
from canonical.milestones import Milestone

PARTNER = "broker"
dialect = Dialect(PARTNER)
DOCUMENTED_STATUSES = {
    "SUBMITTED",
    "ACCEPTED",
    "UNDER_REVIEW",
    "HELD",
    "RELEASED",
    "REJECTED",
    "CANCELLED",
}


def released() -> dict[str, Any]:
    return dialect.fixture("released.json")


def with_status(status: str) -> dict[str, Any]:
    return mutate(released(), ("declaration", "status"), status)


def test_a_status_webhook_routes_by_our_reference() -> None:
    webhook = dialect.assert_stable(released())
    dialect.assert_common(webhook)
    assert webhook.dedupe_key == "bev_9b8a7c6d5e4f"
    assert webhook.references.shipment_id == "shipment-S00017"
    assert webhook.references.tracking_number is None
    (event,) = webhook.events
    assert event.milestone is Milestone.CUSTOMS_RELEASED
    assert event.dedupe_key == "bev_9b8a7c6d5e4f"
    assert event.event_id == event_id_for(PARTNER, "bev_9b8a7c6d5e4f")
    assert event.source.raw_code == "RELEASED"
    assert event.occurred_at.utcoffset() == timedelta(hours=1)
    assert event.reason == "MRN 26DE4Z7Q2M9K1X3B5N"


def test_a_hold_keeps_its_reason() -> None:
    (event,) = dialect.run(dialect.fixture("held.json")).events
    assert event.milestone is Milestone.CUSTOMS_HELD
    assert event.reason == "customs_documentation"
    assert event.source.raw_status == "HELD"


def test_no_mrn_no_reason() -> None:
    payload = mutate(with_status("SUBMITTED"), ("declaration", "mrn"), None)
    (event,) = dialect.run(payload).events
    assert event.reason is None


def test_the_table_maps_exactly_the_documented_statuses() -> None:
    assert set(dialect.table.codes) == DOCUMENTED_STATUSES


@pytest.mark.parametrize("key", dialect.table_keys())
def test_every_mapped_code(key: str) -> None:
    event = dialect.assert_mapped(with_status(key), key)
    assert event.source.raw_code == key


def test_unknown_statuses_become_unknown_with_raw_code_kept() -> None:
    event = dialect.assert_unknown(with_status("LOST_IN_SPACE"))
    assert event.source.raw_code == "LOST_IN_SPACE"


def test_other_webhook_types_carry_no_event() -> None:
    webhook = dialect.run(mutate(released(), ("type",), "declaration.created"))
    assert webhook.events == []


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("event_id",), DELETE, "event_id"),
        (("occurred_at",), "2026-11-19T09:15:00", "occurred_at"),
        (("declaration",), DELETE, "declaration"),
        (("declaration", "reference"), None, "declaration.reference"),
        (("declaration", "status"), DELETE, "declaration.status"),
    ],
)
def test_malformed_payloads_name_the_field(path: tuple, value: Any, field: str) -> None:
    assert dialect.refused(mutate(released(), path, value)).field == field
