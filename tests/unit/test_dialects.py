import json
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from canonical.dialects import broker, easypost
from canonical.dialects.table import load_table
from canonical.milestones import Milestone

FIXTURES = Path(__file__).parent.parent / "fixtures"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())


def test_easypost_delivered_event_carries_proof_time_offset_and_tracking() -> None:
    normalized = easypost.normalize((FIXTURES / "easypost_delivered.json").read_bytes())
    assert normalized.tracking_number == "EZ4000000004"
    assert normalized.shipment_id is None
    (event,) = normalized.events
    assert event.milestone is Milestone.DELIVERED
    assert event.partner_event_id == "evt_5f1c0a2b9d8e4f7a"
    assert event.raw_code == "delivered/arrived_at_destination"
    assert event.occurred_at.utcoffset() == timedelta(hours=-5)  # the newest detail, as sent
    assert event.proof_of_delivery is not None
    assert event.proof_of_delivery.signed_by == "J. SMITH"
    assert event.location == "Boston, MA, US"


@pytest.mark.parametrize(
    ("status", "detail", "milestone"),
    [
        ("pre_transit", "label_created", Milestone.LABEL_CREATED),
        ("in_transit", "package_accepted", Milestone.PICKED_UP),
        ("in_transit", "departed_facility", Milestone.DEPARTED),
        ("in_transit", "arrived_at_destination", Milestone.ARRIVED),
        ("in_transit", "something_new", Milestone.IN_TRANSIT),
        ("out_for_delivery", "out_for_delivery", Milestone.OUT_FOR_DELIVERY),
        ("available_for_pickup", None, Milestone.AVAILABLE_FOR_PICKUP),
        ("return_to_sender", None, Milestone.RETURN_TO_SENDER),
        ("failure", None, Milestone.EXCEPTION),
        ("error", None, Milestone.EXCEPTION),
        ("cancelled", None, Milestone.CANCELLED),
        ("unknown", None, Milestone.UNKNOWN),
        ("teleported", None, Milestone.UNKNOWN),
    ],
)
def test_easypost_codes_map_to_milestones(
    status: str, detail: str | None, milestone: Milestone
) -> None:
    payload = fixture("easypost_delivered.json")
    payload["result"].update(status=status, status_detail=detail, signed_by=None)
    (event,) = easypost.normalize(json.dumps(payload).encode()).events
    assert event.milestone is milestone
    assert event.proof_of_delivery is None
    assert event.raw_code.startswith(status)  # type: ignore[union-attr]  # never dropped


def test_easypost_non_tracker_events_yield_nothing() -> None:
    payload = fixture("easypost_delivered.json")
    payload["description"] = "batch.updated"
    assert easypost.normalize(json.dumps(payload).encode()).events == []


def test_easypost_rejects_a_foreign_shape() -> None:
    with pytest.raises(ValidationError):
        easypost.normalize(b'{"hello": "world"}')


def test_broker_status_webhook_routes_by_our_reference() -> None:
    normalized = broker.normalize((FIXTURES / "broker_released.json").read_bytes())
    assert normalized.shipment_id == "shipment-S00017"
    (event,) = normalized.events
    assert event.milestone is Milestone.CUSTOMS_RELEASED
    assert event.partner_event_id == "bev_9b8a7c6d5e4f"
    assert "26DE4Z7Q2M9K1X3B5N" in (event.description or "")
    assert event.occurred_at.utcoffset() == timedelta(hours=1)


@pytest.mark.parametrize(
    ("status", "milestone"),
    [
        ("SUBMITTED", Milestone.CUSTOMS_SUBMITTED),
        ("ACCEPTED", Milestone.CUSTOMS_ACCEPTED),
        ("HELD", Milestone.CUSTOMS_HELD),
        ("RELEASED", Milestone.CUSTOMS_RELEASED),
        ("REJECTED", Milestone.CUSTOMS_REJECTED),
        ("CANCELLED", Milestone.CANCELLED),
        ("LOST_IN_SPACE", Milestone.UNKNOWN),
    ],
)
def test_broker_codes_map_to_milestones(status: str, milestone: Milestone) -> None:
    payload = fixture("broker_released.json")
    payload["declaration"]["status"] = status
    (event,) = broker.normalize(json.dumps(payload).encode()).events
    assert event.milestone is milestone
    assert event.raw_code == status


def test_dialect_tables_load_and_validate() -> None:
    for partner in ("easypost", "broker"):
        table = load_table(partner)
        assert table.partner == partner
        assert table.codes, partner
