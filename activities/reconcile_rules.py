"""Reconciliation's decisions, as pure functions (no I/O, no clock: ``now`` is a parameter).

The workflow calls them with ``workflow.now()``, so they must stay deterministic.

- **Stale**: a shipment whose newest sign of life (the current stage reached, or a partner
  event received) is at least its stage's threshold old. A stage without a threshold is never
  stale; a threshold of 0 makes every shipment in that stage stale.
- **Polls**: the carrier is polled when the shipment is stale or its carrier pushes no webhooks
  (``poll_always``, e.g. DHL), once a tracking number exists; the broker is polled when the
  shipment is stale in customs and no final customs status has arrived.
- **New events**: polled events the workflow has not recorded. Carrier polls go through the
  carrier's dialect normalizer, so a scan has the event id its webhook would have had. The
  broker's GET carries no event id, so a polled broker status gets a stable id of its own
  (``poll:<declaration>:<status>``) and is only sent when the workflow has no broker event
  with that milestone yet: a status never reaches a shipment twice, by webhook and by poll.
- **Drift**: Odoo compared with the workflow, and confirmed by reading the shipment's status
  again after Odoo (so a shipment that moved on meanwhile, e.g. posted its invoice, is not
  reported). A tracking ref missing while the shipment is still in ``book`` is no drift: the
  workflow is writing it. Only a missing tracking ref on the delivery is
  repairable: the workflow owns the tracking number and writing it is the book step's own
  idempotent write, which overwrites nothing. Everything else is reported only: a cancelled
  order or delivery, a ref someone changed, an invoice posted or cancelled outside the
  workflow are business decisions (cancel and compensate, keep the human's edit, reverse an
  accounting entry) that belong to ops and finance.
"""

import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from activities.reconcile_models import (
    Drift,
    DriftCode,
    OdooRecord,
    OdooRef,
    PollBrokerInput,
    PollCarrierInput,
    ReconciliationReport,
    SeenEvent,
    ShipmentFinding,
    ShipmentSnapshot,
)
from canonical.events import ShipmentEvent
from canonical.milestones import Milestone
from canonical.shipment import Stage
from workflows.models import ShipmentStatus

BROKER = "broker"
FINAL_CUSTOMS = frozenset({Milestone.CUSTOMS_RELEASED, Milestone.CUSTOMS_REJECTED})
STATUS_CHANGED = "declaration.status_changed"


def snapshot_of(status: ShipmentStatus) -> ShipmentSnapshot:
    """The part of a shipment's ``status`` that reconciliation compares."""
    stage_since = next((s.at for s in reversed(status.stages) if s.stage == status.stage), None)
    carrier = status.carrier or (status.shipment.carrier if status.shipment else None)
    return ShipmentSnapshot(
        shipment_id=status.shipment_id,
        order_ref=status.order_ref,
        stage=status.stage,
        stage_since=stage_since,
        last_event_at=max((e.recorded_at for e in status.events), default=None),
        carrier=carrier,
        references=status.references,
        seen=[
            SeenEvent(event_id=e.event_id, milestone=e.milestone, partner=e.source.partner)
            for e in status.events
        ],
    )


def last_sign_of_life(snapshot: ShipmentSnapshot) -> datetime | None:
    moments = [m for m in (snapshot.stage_since, snapshot.last_event_at) if m is not None]
    return max(moments, default=None)


def is_stale(
    snapshot: ShipmentSnapshot, now: datetime, stale_after_min: Mapping[Stage, float]
) -> bool:
    """True when the shipment has been quiet for at least its stage's threshold."""
    limit = stale_after_min.get(snapshot.stage)
    if limit is None:
        return False
    last = last_sign_of_life(snapshot)
    return last is None or now - last >= timedelta(minutes=limit)


def carrier_poll(
    snapshot: ShipmentSnapshot, stale: bool, poll_always: Iterable[str]
) -> PollCarrierInput | None:
    """The carrier poll this shipment needs, if any."""
    refs = snapshot.references
    if snapshot.carrier is None or refs.tracking_number is None:
        return None
    if not stale and snapshot.carrier not in set(poll_always):
        return None
    return PollCarrierInput(
        shipment_id=snapshot.shipment_id,
        carrier=snapshot.carrier,
        booking_reference=refs.carrier_shipment_id or refs.tracking_number,
        tracking_number=refs.tracking_number,
    )


def broker_poll(snapshot: ShipmentSnapshot, stale: bool) -> PollBrokerInput | None:
    """The broker poll this shipment needs, if any."""
    declaration_id = snapshot.references.declaration_id
    if snapshot.stage != Stage.CUSTOMS or not stale or declaration_id is None:
        return None
    if any(s.partner == BROKER and s.milestone in FINAL_CUSTOMS for s in snapshot.seen):
        return None
    return PollBrokerInput(shipment_id=snapshot.shipment_id, declaration_id=declaration_id)


def broker_status_body(declaration: Mapping[str, object], received_at: datetime) -> bytes:
    """A polled declaration as the ``declaration.status_changed`` webhook the broker would send,
    with an id stable across polls of the same status (for the ``broker`` normalizer)."""
    event = {
        "event_id": f"poll:{declaration['id']}:{declaration['status']}",
        "type": STATUS_CHANGED,
        "occurred_at": received_at.isoformat(),
        "declaration": dict(declaration),
    }
    return json.dumps(event).encode()


def new_events(snapshot: ShipmentSnapshot, polled: Iterable[ShipmentEvent]) -> list[ShipmentEvent]:
    """Polled events the workflow has not recorded yet, each once, in the order given."""
    known = {seen.event_id for seen in snapshot.seen}
    broker_milestones = {seen.milestone for seen in snapshot.seen if seen.partner == BROKER}
    fresh = []
    for event in polled:
        if event.event_id in known:
            continue
        if event.source.partner == BROKER and event.milestone in broker_milestones:
            continue
        known.add(event.event_id)
        fresh.append(event)
    return fresh


def odoo_ref(snapshot: ShipmentSnapshot) -> OdooRef:
    refs = snapshot.references
    return OdooRef(
        shipment_id=snapshot.shipment_id,
        order_ref=snapshot.order_ref,
        picking_id=refs.picking_id,
        invoice_id=refs.invoice_id,
    )


def compare_odoo(snapshot: ShipmentSnapshot, odoo: OdooRecord) -> list[Drift]:
    """Every disagreement between Odoo and the workflow (see the module docstring)."""
    refs, drifts = snapshot.references, []
    order = snapshot.order_ref
    if odoo.order_state is None:
        drifts.append(Drift(code=DriftCode.ORDER_MISSING, detail=f"no sale order {order} in Odoo"))
    elif odoo.order_state == "cancel":
        drifts.append(
            Drift(
                code=DriftCode.ORDER_CANCELLED,
                detail=f"sale order {order} is cancelled in Odoo while the shipment "
                f"is at {snapshot.stage}",
            )
        )
    if refs.picking_id is not None:
        drifts += _picking_drift(snapshot, odoo, refs.picking_id)
    posted = [i for i in odoo.invoices if i.state == "posted"]
    if refs.invoice_id is None:
        if posted and snapshot.stage not in (Stage.INVOICE, Stage.INVOICED):
            names = ", ".join(i.name or str(i.id) for i in posted)
            drifts.append(
                Drift(
                    code=DriftCode.INVOICE_POSTED_EARLY,
                    detail=f"invoice {names} is posted in Odoo while the shipment "
                    f"is at {snapshot.stage}",
                )
            )
    else:
        ours = next((i for i in odoo.invoices if i.id == refs.invoice_id), None)
        if ours is None:
            drifts.append(
                Drift(
                    code=DriftCode.INVOICE_MISSING,
                    detail=f"invoice {refs.invoice_id} is not in Odoo",
                )
            )
        elif ours.state != "posted":
            drifts.append(
                Drift(
                    code=DriftCode.INVOICE_NOT_POSTED,
                    detail=f"invoice {ours.name or ours.id} is {ours.state} in Odoo; "
                    "the workflow posted it",
                )
            )
    return drifts


def _picking_drift(snapshot: ShipmentSnapshot, odoo: OdooRecord, picking_id: int) -> list[Drift]:
    tracking = snapshot.references.tracking_number
    if not odoo.picking_found:
        return [
            Drift(code=DriftCode.PICKING_MISSING, detail=f"delivery {picking_id} is not in Odoo")
        ]
    if odoo.picking_state == "cancel":
        return [
            Drift(
                code=DriftCode.PICKING_CANCELLED,
                detail=f"delivery {picking_id} is cancelled in Odoo while the shipment is "
                f"at {snapshot.stage}",
            )
        ]
    if tracking is None or (not odoo.tracking_ref and snapshot.stage == Stage.BOOK):
        return []  # nothing to compare yet; or the book step is still writing it
    if not odoo.tracking_ref:
        return [
            Drift(
                code=DriftCode.TRACKING_REF_MISSING,
                repairable=True,
                detail=f"delivery {picking_id} has no tracking ref; the workflow has {tracking}",
            )
        ]
    if odoo.tracking_ref != tracking:
        return [
            Drift(
                code=DriftCode.TRACKING_REF_MISMATCH,
                detail=f"delivery {picking_id} has tracking ref {odoo.tracking_ref!r}; the "
                f"workflow has {tracking!r} (kept: it may be a human's edit)",
            )
        ]
    return []


def confirmed(first: list[Drift], again: list[Drift]) -> list[Drift]:
    """The drifts of ``first`` that a second look (the shipment's status read again, after
    Odoo was read) still finds: a shipment that moved on meanwhile is no drift."""
    codes = {drift.code for drift in again}
    return [drift for drift in first if drift.code in codes]


def worth_reporting(finding: ShipmentFinding) -> bool:
    return bool(finding.stale or finding.events_found or finding.drifts or finding.problems)


def summarize(
    run_id: str,
    started_at: datetime,
    finished_at: datetime,
    shipments_checked: int,
    findings: Iterable[ShipmentFinding],
    truncated: bool,
) -> ReconciliationReport:
    """The report of a finished run: counts over every finding, and the findings worth keeping
    (by shipment id)."""
    kept = sorted((f for f in findings if worth_reporting(f)), key=lambda f: f.shipment_id)
    return ReconciliationReport(
        run_id=run_id,
        started_at=started_at,
        finished_at=finished_at,
        shipments_checked=shipments_checked,
        stale=sum(f.stale for f in kept),
        events_found=sum(f.events_found for f in kept),
        drifted=sum(bool(f.drifts) for f in kept),
        repaired=sum(d.repaired for f in kept for d in f.drifts),
        problems=sum(bool(f.problems) for f in kept),
        truncated=truncated,
        findings=kept,
    )
