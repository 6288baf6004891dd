"""Reconciliation's pure decisions: staleness, polls, new events, Odoo drift, the report."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import stand_ins

from activities.reconcile_models import (
    DEFAULT_STALE_AFTER_MIN,
    Drift,
    DriftCode,
    OdooInvoice,
    OdooRecord,
    ShipmentFinding,
    ShipmentSnapshot,
)
from activities.reconcile_rules import (
    broker_poll,
    broker_status_body,
    carrier_poll,
    compare_odoo,
    confirmed,
    is_stale,
    new_events,
    snapshot_of,
    summarize,
)
from canonical.dialects import normalize
from canonical.milestones import Milestone
from canonical.shipment import References, Stage
from workflows.models import ShipmentStatus, StageReached

FIXTURES = Path(__file__).parent.parent / "fixtures"
T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
REFS = References(
    sale_order_id=7,
    picking_id=11,
    carrier_shipment_id="shp_1",
    tracking_number="EZ1",
    declaration_id="DEC-000001",
)


def easypost_events() -> list:
    body = (FIXTURES / "easypost" / "delivered.json").read_bytes()
    return normalize("easypost", body, received_at=T0).events


def status(
    stage: Stage = Stage.DELIVERY, events: list | None = None, **changes: object
) -> ShipmentStatus:
    fields = {
        "shipment_id": "shipment-S00001",
        "order_ref": "S00001",
        "stage": stage,
        "stages": [
            StageReached(stage=Stage.BOOK, at=T0 - timedelta(hours=3)),
            StageReached(stage=stage, at=T0 - timedelta(hours=2)),
        ],
        "references": REFS,
        "events": events or [],
        "carrier": "easypost",
        **changes,
    }
    return ShipmentStatus.model_validate(fields)


SHIPMENT = stand_ins.SHIPMENT.model_copy(update={"carrier": "dhl"})


def snap(stage: Stage = Stage.DELIVERY, **changes: object) -> ShipmentSnapshot:
    return snapshot_of(status(stage)).model_copy(update=changes)


def test_a_snapshot_keeps_what_reconciliation_compares() -> None:
    events = easypost_events()
    taken = snapshot_of(status(events=events))
    assert taken.stage_since == T0 - timedelta(hours=2)
    assert taken.last_event_at == T0
    assert taken.carrier == "easypost"
    assert [s.event_id for s in taken.seen] == [e.event_id for e in events]
    assert {s.partner for s in taken.seen} == {"easypost"}


def test_the_carrier_comes_from_the_shipment_when_the_status_does_not_name_it() -> None:
    # ShipmentWorkflow on main leaves ``carrier`` empty; the accepted shipment names it.
    assert snapshot_of(status(carrier=None, shipment=SHIPMENT)).carrier == "dhl"
    assert snapshot_of(status(carrier="easypost", shipment=SHIPMENT)).carrier == "easypost"
    unknown = snapshot_of(status(carrier=None))
    assert unknown.carrier is None
    assert carrier_poll(unknown, stale=True, poll_always=[]) is None


def test_staleness_counts_from_the_newest_sign_of_life_with_a_threshold_per_stage() -> None:
    quiet = snap(stage_since=T0 - timedelta(minutes=359), last_event_at=None)
    limits = DEFAULT_STALE_AFTER_MIN  # delivery: 360 min
    assert not is_stale(quiet, T0, limits)
    assert is_stale(quiet, T0 + timedelta(minutes=1), limits)
    # a recent event resets the clock
    heard = quiet.model_copy(update={"last_event_at": T0})
    assert not is_stale(heard, T0 + timedelta(minutes=300), limits)
    # a stage without a threshold is never stale; a zero threshold always is
    assert not is_stale(snap(Stage.INVOICE), T0 + timedelta(days=30), limits)
    assert is_stale(snap(stage_since=T0), T0, {Stage.DELIVERY: 0})


def test_the_carrier_is_polled_when_stale_or_when_it_pushes_no_webhooks() -> None:
    shipment = snap()
    assert carrier_poll(shipment, stale=False, poll_always=["dhl"]) is None
    poll = carrier_poll(shipment, stale=True, poll_always=[])
    assert poll is not None
    assert (poll.carrier, poll.booking_reference, poll.tracking_number) == (
        "easypost",
        "shp_1",
        "EZ1",
    )
    dhl = snap(carrier="dhl", references=REFS.model_copy(update={"carrier_shipment_id": None}))
    poll = carrier_poll(dhl, stale=False, poll_always=["dhl"])
    assert poll is not None and poll.booking_reference == "EZ1"  # DHL: the tracking number
    unbooked = snap(references=References(sale_order_id=7))
    assert carrier_poll(unbooked, stale=True, poll_always=["easypost"]) is None


def test_the_broker_is_polled_only_for_a_stale_shipment_in_customs_without_a_final_status() -> None:
    assert broker_poll(snap(Stage.CUSTOMS), stale=False) is None
    assert broker_poll(snap(Stage.DELIVERY), stale=True) is None
    poll = broker_poll(snap(Stage.CUSTOMS), stale=True)
    assert poll is not None and poll.declaration_id == "DEC-000001"
    released = snapshot_of(status(Stage.CUSTOMS, events=broker_events("RELEASED")))
    assert broker_poll(released, stale=True) is None


def broker_events(state: str, at: datetime = T0) -> list:
    declaration = {
        "id": "DEC-000001",
        "reference": "shipment-S00001",
        "lrn": "LRN1",
        "mrn": "26DE0000000000000A",
        "status": state,
        "hold_reason": None,
    }
    return normalize("broker", broker_status_body(declaration, at), received_at=at).events


def test_a_polled_broker_status_keeps_one_id_across_polls_and_maps_through_the_dialect() -> None:
    first = broker_events("RELEASED", T0)
    later = broker_events("RELEASED", T0 + timedelta(hours=1))
    assert [e.milestone for e in first] == [Milestone.CUSTOMS_RELEASED]
    assert first[0].event_id == later[0].event_id
    assert first[0].reason == "MRN 26DE0000000000000A"
    assert broker_events("HELD")[0].event_id != first[0].event_id


def test_only_events_the_workflow_has_not_recorded_are_new() -> None:
    events = easypost_events()
    seen_half = snapshot_of(status(events=events[:2]))
    fresh = new_events(seen_half, events + events)  # a poll repeating itself
    assert [e.event_id for e in fresh] == [e.event_id for e in events[2:]]
    assert new_events(snapshot_of(status(events=events)), events) == []


def test_a_broker_status_already_received_by_webhook_is_not_sent_again_by_poll() -> None:
    webhook = normalize(
        "broker", (FIXTURES / "broker" / "released.json").read_bytes(), received_at=T0
    ).events
    assert webhook[0].milestone == Milestone.CUSTOMS_RELEASED
    shipment = snapshot_of(status(Stage.CUSTOMS, events=webhook))
    polled = broker_events("RELEASED")
    assert polled[0].event_id != webhook[0].event_id  # the broker's GET has no event id
    assert new_events(shipment, polled) == []
    assert new_events(snap(Stage.CUSTOMS), polled) == polled


def odoo(**changes: object) -> OdooRecord:
    record = OdooRecord(
        shipment_id="shipment-S00001",
        order_state="sale",
        picking_found=True,
        picking_state="assigned",
        tracking_ref="EZ1",
    )
    return record.model_copy(update=changes)


def codes(drifts: list[Drift]) -> list[DriftCode]:
    return [d.code for d in drifts]


def test_odoo_in_line_with_the_workflow_is_no_drift() -> None:
    assert compare_odoo(snap(), odoo()) == []
    invoiced = snap(Stage.INVOICE, references=REFS.model_copy(update={"invoice_id": 5}))
    assert (
        compare_odoo(invoiced, odoo(invoices=[OdooInvoice(id=5, name="INV/1", state="posted")]))
        == []
    )


def test_a_missing_tracking_ref_is_the_one_repairable_drift() -> None:
    (drift,) = compare_odoo(snap(), odoo(tracking_ref=None))
    assert drift.code == DriftCode.TRACKING_REF_MISSING and drift.repairable
    # while booking, the workflow is still writing it
    assert compare_odoo(snap(Stage.BOOK), odoo(tracking_ref=None)) == []
    (other,) = compare_odoo(snap(), odoo(tracking_ref="1Z999"))
    assert other.code == DriftCode.TRACKING_REF_MISMATCH and not other.repairable
    assert "1Z999" in other.detail


def test_cancellations_and_invoices_outside_the_workflow_are_reported_only() -> None:
    drifts = compare_odoo(snap(), odoo(order_state="cancel", picking_state="cancel"))
    assert codes(drifts) == [DriftCode.ORDER_CANCELLED, DriftCode.PICKING_CANCELLED]
    assert codes(compare_odoo(snap(), odoo(order_state=None, picking_found=False))) == [
        DriftCode.ORDER_MISSING,
        DriftCode.PICKING_MISSING,
    ]
    early = compare_odoo(snap(), odoo(invoices=[OdooInvoice(id=5, name="INV/1", state="posted")]))
    assert codes(early) == [DriftCode.INVOICE_POSTED_EARLY] and "INV/1" in early[0].detail
    assert compare_odoo(snap(), odoo(invoices=[OdooInvoice(id=5, name="/", state="draft")])) == []
    ours = snap(Stage.INVOICE, references=REFS.model_copy(update={"invoice_id": 5}))
    assert codes(compare_odoo(ours, odoo())) == [DriftCode.INVOICE_MISSING]
    cancelled = odoo(invoices=[OdooInvoice(id=5, name="INV/1", state="cancel")])
    assert codes(compare_odoo(ours, cancelled)) == [DriftCode.INVOICE_NOT_POSTED]
    assert not any(d.repairable for d in drifts + early)


def test_a_drift_the_second_look_no_longer_sees_is_dropped() -> None:
    posted = odoo(invoices=[OdooInvoice(id=5, name="INV/1", state="posted")])
    first = compare_odoo(snap(), posted)
    moved_on = snap(Stage.INVOICE)  # the workflow posted it meanwhile
    assert confirmed(first, compare_odoo(moved_on, posted)) == []
    assert confirmed(first, compare_odoo(snap(), posted)) == first


def test_the_report_counts_every_finding_and_keeps_only_those_worth_reading() -> None:
    findings = [
        ShipmentFinding(shipment_id="a", stage=Stage.DELIVERY, stale=True, events_found=3),
        ShipmentFinding(
            shipment_id="b",
            stage=Stage.DELIVERY,
            drifts=[
                Drift(
                    code=DriftCode.TRACKING_REF_MISSING, detail="x", repairable=True, repaired=True
                ),
                Drift(code=DriftCode.INVOICE_POSTED_EARLY, detail="y"),
            ],
        ),
        ShipmentFinding(shipment_id="c", stage=Stage.CUSTOMS),
        ShipmentFinding(shipment_id="d", problems=["status query: timeout"]),
    ]
    report = summarize("run-1", T0, T0 + timedelta(seconds=3), 3, findings, truncated=False)
    assert (report.shipments_checked, report.stale, report.events_found) == (3, 1, 3)
    assert (report.drifted, report.repaired, report.problems) == (1, 1, 1)
    assert [f.shipment_id for f in report.findings] == ["a", "b", "d"]
    assert json.loads(report.model_dump_json())["findings"][1]["drifts"][0]["repaired"] is True
