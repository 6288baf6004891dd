from datetime import timedelta
from typing import Any

import pytest
from dialect_support import DELETE, Dialect, mutate

from canonical.events import event_id_for
from canonical.milestones import Milestone

PARTNER = "tms"
dialect = Dialect(PARTNER)
DOCUMENTED_STATUSES = {
    "CREATED",
    "DISPATCHED",
    "PICKED_UP",
    "IN_TRANSIT",
    "DELIVERED",
    "EXCEPTION",
    "CANCELLED",
}


def picked_up() -> dict[str, Any]:
    return dialect.fixture("picked_up.json")


def with_status(status: str) -> dict[str, Any]:
    return mutate(picked_up(), ("transport_order", "status"), status)


def test_a_status_event_routes_by_our_reference() -> None:
    webhook = dialect.assert_stable(picked_up())
    dialect.assert_common(webhook)
    assert webhook.dedupe_key == "tev_4d1a9c7e2b58"
    assert webhook.references.shipment_id == "shipment-S00042"
    assert webhook.references.tracking_number == "EZ9000000042"
    (event,) = webhook.events
    assert event.milestone is Milestone.PICKED_UP
    assert event.dedupe_key == "tev_4d1a9c7e2b58"
    assert event.event_id == event_id_for(PARTNER, "tev_4d1a9c7e2b58")
    assert event.source.partner_event_id == "tev_4d1a9c7e2b58"
    assert event.source.raw_code == "PICKED_UP"
    assert event.occurred_at.utcoffset() == timedelta(hours=1)


def test_the_table_maps_exactly_the_documented_statuses() -> None:
    assert set(dialect.table.codes) == DOCUMENTED_STATUSES


@pytest.mark.parametrize("key", dialect.table_keys())
def test_every_mapped_code(key: str) -> None:
    event = dialect.assert_mapped(with_status(key), key)
    assert event.source.raw_status == key


def test_unknown_statuses_become_unknown_with_raw_code_kept() -> None:
    event = dialect.assert_unknown(with_status("ON_HOLD_AT_DEPOT"))
    assert event.source.raw_code == "ON_HOLD_AT_DEPOT"


def test_no_tracking_number_yet() -> None:
    webhook = dialect.run(mutate(picked_up(), ("transport_order", "tracking_number"), None))
    assert webhook.references.tracking_number is None


def test_other_event_types_carry_no_event() -> None:
    webhook = dialect.run(mutate(picked_up(), ("type",), "transport_order.created"))
    assert webhook.events == []
    assert webhook.dedupe_key == "tev_4d1a9c7e2b58"


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("event_id",), DELETE, "event_id"),
        (("occurred_at",), "2026-11-17T16:45:12", "occurred_at"),
        (("transport_order",), DELETE, "transport_order"),
        (("transport_order", "reference"), DELETE, "transport_order.reference"),
        (("transport_order", "status"), "", "transport_order.status"),
    ],
)
def test_malformed_payloads_name_the_field(path: tuple, value: Any, field: str) -> None:
    assert dialect.refused(mutate(picked_up(), path, value)).field == field
