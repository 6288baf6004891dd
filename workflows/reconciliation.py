"""ReconciliationWorkflow: the batch beside the real-time path, run by a Temporal Schedule.

One run:
1. saves a report marked started (so a run in progress is visible);
2. lists the running shipments in the configured stages and reads each one's ``status``;
3. reads Odoo's side of them (orders, deliveries, invoices) in batches;
4. per shipment, a few at a time: compares Odoo with the workflow (a drift is confirmed by
   reading the status again) and repairs a missing tracking ref; polls the carrier when the
   shipment is stale or its carrier pushes no webhooks, polls the broker when it is stale in
   customs, and signals the events the workflow has not recorded (``events`` signal,
   deduplicated there by ``event_id``);
5. saves the finished report (counts and findings) and returns it.

Guarantees: deterministic (decisions are the pure functions of
:mod:`activities.reconcile_rules`, time is ``workflow.now()``); a partner that fails is retried
a few times, then noted as a problem of that shipment, never failing the run (the next run
tries again); every partner call runs on that partner's task queue; activities are idempotent,
so a run that is retried or overlaps a manual one does no harm.
"""

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.reconcile import ReconcileActivities
    from activities.reconcile_models import (
        ListShipmentsInput,
        OdooRecord,
        OdooViewInput,
        ReadShipmentInput,
        ReconcileInput,
        ReconciliationReport,
        RepairTrackingRefInput,
        ShipmentFinding,
        ShipmentSnapshot,
        SignalEventsInput,
    )
    from activities.reconcile_rules import (
        broker_poll,
        carrier_poll,
        compare_odoo,
        confirmed,
        is_stale,
        new_events,
        odoo_ref,
        summarize,
    )
    from workflows.partners import BROKER, LOCAL, ODOO, PartnerCalls, for_carrier

ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")

ODOO_BATCH = 100
"""Shipments per Odoo read."""


def _retry(partner: PartnerCalls) -> RetryPolicy:
    """The partner's policy, but bounded: the next scheduled run tries again anyway."""
    return RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=10),
        maximum_attempts=3,
        non_retryable_error_types=partner.retry.non_retryable_error_types,
    )


def _reason(err: ActivityError) -> str:
    """The activity's own error message (the last attempt's), not the wrapper's."""
    return err.cause.message if isinstance(err.cause, FailureError) else str(err)


@workflow.defn
class ReconciliationWorkflow:
    @workflow.run
    async def run(self, input: ReconcileInput) -> ReconciliationReport:
        run_id = workflow.info().workflow_id
        started = workflow.now()
        await self._call(
            LOCAL,
            ReconcileActivities.save_report,
            ReconciliationReport(run_id=run_id, started_at=started),
            "save the report (started)",
        )
        listed = await workflow.execute_activity_method(
            ReconcileActivities.list_shipments,
            ListShipmentsInput(stages=input.stages, max_shipments=input.max_shipments),
            summary="list running shipments and read their status",
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=_retry(LOCAL),
        )
        findings = [
            ShipmentFinding(shipment_id=u.shipment_id, problems=[u.reason])
            for u in listed.unreachable
        ]
        odoo = await self._odoo_view(listed.snapshots)
        now = workflow.now()
        snapshots = listed.snapshots
        for start in range(0, len(snapshots), input.concurrency):
            batch = snapshots[start : start + input.concurrency]
            findings += await asyncio.gather(
                *(self._reconcile(snap, now, input, odoo.get(snap.shipment_id)) for snap in batch)
            )
        report = summarize(
            run_id, started, workflow.now(), len(snapshots), findings, listed.truncated
        )
        await self._call(LOCAL, ReconcileActivities.save_report, report, "save the report")
        workflow.set_current_details(
            f"checked {report.shipments_checked}, stale {report.stale}, events found "
            f"{report.events_found}, drifted {report.drifted}, problems {report.problems}"
        )
        return report

    async def _reconcile(
        self,
        snap: ShipmentSnapshot,
        now: datetime,
        input: ReconcileInput,
        odoo: OdooRecord | str | None,
    ) -> ShipmentFinding:
        stale = is_stale(snap, now, input.stale_after_min)
        finding = ShipmentFinding(shipment_id=snap.shipment_id, stage=snap.stage, stale=stale)
        # Odoo first: the drift check reads the status again, before our signals move it on.
        if isinstance(odoo, str):
            finding.problems.append(odoo)
        elif odoo is not None:
            await self._compare(snap, odoo, finding)
        polled = []
        carrier = carrier_poll(snap, stale, input.poll_always)
        if (
            carrier is not None
            and input.carriers is not None
            and carrier.carrier not in input.carriers
        ):
            finding.problems.append(
                f"{carrier.carrier} is not configured on any worker: not polled"
            )
            carrier = None
        if carrier is not None:
            try:
                found = await self._call(
                    for_carrier(carrier.carrier),
                    ReconcileActivities.poll_carrier,
                    carrier,
                    f"poll {carrier.carrier} for {snap.shipment_id}",
                )
                polled += found.events
            except ActivityError as err:
                finding.problems.append(f"{carrier.carrier} poll failed: {_reason(err)}")
        broker = broker_poll(snap, stale)
        if broker is not None:
            try:
                found = await self._call(
                    BROKER,
                    ReconcileActivities.poll_broker,
                    broker,
                    f"poll the broker for {snap.shipment_id}",
                )
                polled += found.events
            except ActivityError as err:
                finding.problems.append(f"broker poll failed: {_reason(err)}")
        fresh = new_events(snap, polled)
        if fresh:
            await self._signal(
                finding, SignalEventsInput(shipment_id=snap.shipment_id, events=fresh)
            )
        return finding

    async def _compare(
        self, snap: ShipmentSnapshot, odoo: OdooRecord, finding: ShipmentFinding
    ) -> None:
        """Drifts between Odoo and the workflow, confirmed by a second read of the status."""
        drifts = compare_odoo(snap, odoo)
        if not drifts:
            return
        try:
            again = await self._call(
                LOCAL,
                ReconcileActivities.read_shipment,
                ReadShipmentInput(shipment_id=snap.shipment_id),
                "read the status again to confirm a drift",
            )
        except ActivityError as err:
            again = None
            finding.problems.append(f"drift not confirmed: {_reason(err)}")
        if again is not None and again.snapshot is not None:
            snap = again.snapshot
            drifts = confirmed(drifts, compare_odoo(snap, odoo))
        finding.drifts = drifts
        await self._repair(snap, finding)

    async def _signal(self, finding: ShipmentFinding, signal: SignalEventsInput) -> None:
        try:
            result = await self._call(
                LOCAL,
                ReconcileActivities.signal_events,
                signal,
                f"signal {len(signal.events)} event(s)",
            )
        except ActivityError as err:
            finding.problems.append(f"signalling failed: {_reason(err)}")
            return
        finding.events_found = result.signalled
        finding.milestones = [e.milestone for e in signal.events[: result.signalled]]
        if not result.running:
            finding.problems.append("the shipment ended before its events could be signalled")

    async def _repair(self, snap: ShipmentSnapshot, finding: ShipmentFinding) -> None:
        refs = snap.references
        for index, drift in enumerate(finding.drifts):
            if not drift.repairable or refs.picking_id is None or refs.tracking_number is None:
                continue
            repair = RepairTrackingRefInput(
                shipment_id=snap.shipment_id,
                picking_id=refs.picking_id,
                tracking_number=refs.tracking_number,
            )
            try:
                result = await self._call(
                    ODOO,
                    ReconcileActivities.repair_tracking_ref,
                    repair,
                    "write the missing tracking ref",
                )
            except ActivityError as err:
                finding.problems.append(f"repair failed: {_reason(err)}")
                continue
            finding.drifts[index] = drift.model_copy(
                update={
                    "repaired": result.repaired,
                    "detail": f"{drift.detail}: {result.detail}",
                }
            )

    async def _odoo_view(self, snapshots: list[ShipmentSnapshot]) -> dict[str, OdooRecord | str]:
        """Odoo's record of each shipment, or why it could not be read."""
        view: dict[str, OdooRecord | str] = {}
        for start in range(0, len(snapshots), ODOO_BATCH):
            batch = snapshots[start : start + ODOO_BATCH]
            try:
                read = await self._call(
                    ODOO,
                    ReconcileActivities.odoo_view,
                    OdooViewInput(shipments=[odoo_ref(s) for s in batch]),
                    f"read {len(batch)} shipment(s) in Odoo",
                )
            except ActivityError as err:
                view.update({s.shipment_id: f"Odoo not checked: {_reason(err)}" for s in batch})
                continue
            view.update({record.shipment_id: record for record in read.records})
        return view

    async def _call(
        self,
        partner: PartnerCalls,
        activity: Callable[[Any, ArgT], Awaitable[ResultT]],
        arg: ArgT,
        summary: str,
    ) -> ResultT:
        """One activity on the partner's task queue, with a bounded retry policy."""
        return await workflow.execute_activity_method(
            activity, arg, **partner.activity_config(summary, retry=_retry(partner))
        )
