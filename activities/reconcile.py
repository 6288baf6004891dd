"""Reconciliation activities: read the running shipments, poll partners, signal, compare Odoo.

Every activity is idempotent:
- reads (visibility, ``status`` queries, carrier and broker polls, Odoo reads) change nothing;
- ``event`` signals are deduplicated by the shipment workflow on ``event_id``, and polled
  events carry the ids their webhooks would have (see :mod:`activities.reconcile_rules`);
- the one Odoo repair writes a tracking ref only where the delivery has none (re-read first);
- a report is saved under its run id: saving it again replaces it.

Each partner call runs on that partner's task queue (see ``by_partner``); reads of Temporal and
of our store run on the workflow's own queue.
"""

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.service import RPCError, RPCStatusCode

from activities.broker import BrokerClient
from activities.carriers.port import CarrierPort
from activities.errors import business_error
from activities.odoo import OdooClient
from activities.reconcile_models import (
    ListShipmentsInput,
    OdooInvoice,
    OdooRecord,
    OdooView,
    OdooViewInput,
    PollBrokerInput,
    PollCarrierInput,
    PolledEvents,
    ReadShipmentInput,
    ReadShipmentResult,
    ReconciliationReport,
    RepairResult,
    RepairTrackingRefInput,
    ShipmentList,
    SignalEventsInput,
    SignalResult,
    Unreachable,
)
from activities.reconcile_rules import broker_status_body, snapshot_of
from canonical.booking import CarrierBooking
from canonical.dialects import MalformedPayload, normalize
from canonical.dialects.normalized import MAX_EVENTS
from store.reconciliation import save_report
from workflows.models import SHIPMENT_STATUS, EventBatch, ShipmentStatus
from workflows.partners import BROKER, CARRIER_ACTIVITIES, LOCAL, ODOO
from workflows.shipment import ShipmentWorkflow

log = logging.getLogger("borderflow.reconcile")

SHIPMENT_WORKFLOW = ShipmentWorkflow.__name__
RPC_TIMEOUT = timedelta(seconds=10)
QUERIES_AT_ONCE = 8


def running_shipments_query(stages: list[str]) -> str:
    """The visibility query of running shipments in ``stages``."""
    quoted = ", ".join(f"'{stage}'" for stage in stages)
    return (
        f"WorkflowType='{SHIPMENT_WORKFLOW}' AND ExecutionStatus='Running' "
        f"AND {SHIPMENT_STATUS.name} IN ({quoted})"
    )


class ReconcileActivities:
    """Activities bound to one worker's Temporal client, partner clients and store."""

    def __init__(
        self,
        *,
        client: Client,
        odoo: OdooClient,
        carriers: dict[str, CarrierPort],
        broker: BrokerClient,
        store: Engine,
    ) -> None:
        self._client = client
        self._odoo = odoo
        self._carriers = carriers
        self._broker = broker
        self._store = store

    # -- Temporal ---------------------------------------------------------------------------

    @activity.defn(name="reconcile_list_shipments")
    async def list_shipments(self, input: ListShipmentsInput) -> ShipmentList:
        """Running shipments in the given stages, each as read from its ``status`` query."""
        query = running_shipments_query([stage.value for stage in input.stages])
        ids: list[str] = []
        truncated = False
        async for execution in self._client.list_workflows(query, rpc_timeout=RPC_TIMEOUT):
            if len(ids) == input.max_shipments:
                truncated = True
                break
            ids.append(execution.id)
        gate = asyncio.Semaphore(QUERIES_AT_ONCE)

        async def read(shipment_id: str) -> ShipmentStatus | Unreachable:
            async with gate:
                activity.heartbeat(shipment_id)
                handle = self._client.get_workflow_handle(shipment_id)
                try:
                    return await handle.query(ShipmentWorkflow.status, rpc_timeout=RPC_TIMEOUT)
                except (RPCError, WorkflowQueryFailedError) as err:
                    return Unreachable(shipment_id=shipment_id, reason=f"status query: {err}")

        results = await asyncio.gather(*(read(shipment_id) for shipment_id in ids))
        return ShipmentList(
            snapshots=[snapshot_of(r) for r in results if isinstance(r, ShipmentStatus)],
            unreachable=[r for r in results if isinstance(r, Unreachable)],
            truncated=truncated,
        )

    @activity.defn(name="reconcile_read_shipment")
    async def read_shipment(self, input: ReadShipmentInput) -> ReadShipmentResult:
        """One shipment's ``status``, read again (to confirm a drift)."""
        handle = self._client.get_workflow_handle(input.shipment_id)
        try:
            status = await handle.query(ShipmentWorkflow.status, rpc_timeout=RPC_TIMEOUT)
        except (RPCError, WorkflowQueryFailedError):
            return ReadShipmentResult(snapshot=None)
        return ReadShipmentResult(snapshot=snapshot_of(status))

    @activity.defn(name="reconcile_signal_events")
    async def signal_events(self, input: SignalEventsInput) -> SignalResult:
        """Signal the events into the shipment in their order, one ``events`` batch per run of
        one partner's events (the workflow records each ``event_id`` once)."""
        handle = self._client.get_workflow_handle(input.shipment_id)
        routed = [e.model_copy(update={"shipment_id": input.shipment_id}) for e in input.events]
        signalled = 0
        try:
            for partner, group in groupby(routed, key=lambda e: e.source.partner):
                events = list(group)
                for first in range(0, len(events), MAX_EVENTS):
                    batch = EventBatch(events=events[first : first + MAX_EVENTS], partner=partner)
                    await handle.signal(ShipmentWorkflow.events, batch, rpc_timeout=RPC_TIMEOUT)
                    signalled += len(batch.events)
        except RPCError as err:
            if err.status != RPCStatusCode.NOT_FOUND:
                raise
            return SignalResult(signalled=signalled, running=False)
        return SignalResult(signalled=signalled, running=True)

    # -- partners ---------------------------------------------------------------------------

    @activity.defn(name="reconcile_poll_carrier")
    async def poll_carrier(self, input: PollCarrierInput) -> PolledEvents:
        """Every scan the carrier has for the booking, through its dialect normalizer."""
        carrier = self._carriers.get(input.carrier)
        if carrier is None:
            known = ", ".join(sorted(self._carriers)) or "none"
            raise business_error(
                input.carrier,
                f"no such carrier is configured (configured: {known})",
                type="UnknownCarrier",
            )
        booking = CarrierBooking(
            carrier=input.carrier,
            booking_reference=input.booking_reference,
            tracking_numbers=[input.tracking_number],
        )
        return PolledEvents(events=await carrier.track(booking, received_at=datetime.now(UTC)))

    @activity.defn(name="reconcile_poll_broker")
    async def poll_broker(self, input: PollBrokerInput) -> PolledEvents:
        """The declaration's current status as a canonical event (``broker`` normalizer)."""
        declaration = await self._broker.declaration(input.declaration_id)
        if declaration.reference != input.shipment_id:
            raise business_error(
                BROKER.partner,
                f"declaration {declaration.id} belongs to "
                f"{declaration.reference}, not {input.shipment_id}",
                type="PartnerContract",
            )
        body = broker_status_body(declaration.model_dump(mode="json"), datetime.now(UTC))
        try:
            normalized = normalize(BROKER.partner, body, received_at=datetime.now(UTC))
        except MalformedPayload as err:
            raise business_error(BROKER.partner, str(err), type="PartnerContract") from None
        return PolledEvents(events=normalized.events)

    @activity.defn(name="reconcile_odoo_view")
    async def odoo_view(self, input: OdooViewInput) -> OdooView:
        """Odoo's side of each shipment: order state, delivery state and ref, invoices."""
        refs = input.shipments
        names = sorted({r.order_ref for r in refs})
        orders = await self._odoo.search_read(
            "sale.order", [["name", "in", names]], ["name", "state"]
        )
        picking_ids = sorted({r.picking_id for r in refs if r.picking_id is not None})
        pickings = (
            await self._odoo.search_read(
                "stock.picking", [["id", "in", picking_ids]], ["state", "carrier_tracking_ref"]
            )
            if picking_ids
            else []
        )
        invoice_fields = ["name", "state", "invoice_origin"]
        invoices = await self._odoo.search_read(
            "account.move",
            [["invoice_origin", "in", names], ["move_type", "=", "out_invoice"]],
            invoice_fields,
        )
        named = sorted({r.invoice_id for r in refs if r.invoice_id is not None})
        if named:
            invoices += await self._odoo.search_read(
                "account.move", [["id", "in", named]], invoice_fields
            )
        order_state = {o["name"]: o["state"] for o in orders}
        picking_by_id = {p["id"]: p for p in pickings}
        records = []
        for ref in refs:
            picking = picking_by_id.get(ref.picking_id) if ref.picking_id is not None else None
            mine = {
                i["id"]: OdooInvoice(id=i["id"], name=i["name"], state=i["state"])
                for i in invoices
                if i["invoice_origin"] == ref.order_ref or i["id"] == ref.invoice_id
            }
            records.append(
                OdooRecord(
                    shipment_id=ref.shipment_id,
                    order_state=order_state.get(ref.order_ref),
                    picking_found=picking is not None,
                    picking_state=picking["state"] if picking else None,
                    tracking_ref=picking["carrier_tracking_ref"] if picking else None,
                    invoices=sorted(mine.values(), key=lambda i: i.id),
                )
            )
        return OdooView(records=records)

    @activity.defn(name="reconcile_repair_tracking_ref")
    async def repair_tracking_ref(self, input: RepairTrackingRefInput) -> RepairResult:
        """Write the tracking number on the delivery, only if it still has no tracking ref."""
        found = await self._odoo.search_read(
            "stock.picking", [["id", "=", input.picking_id]], ["carrier_tracking_ref", "state"]
        )
        if not found:
            return RepairResult(repaired=False, detail=f"delivery {input.picking_id} is gone")
        current = found[0]["carrier_tracking_ref"]
        if current == input.tracking_number:
            return RepairResult(repaired=True, detail="tracking ref already in place")
        if current:
            return RepairResult(
                repaired=False, detail=f"not repaired: the delivery now has {current!r}"
            )
        await self._odoo.write(
            "stock.picking", [input.picking_id], {"carrier_tracking_ref": input.tracking_number}
        )
        log.info(
            "reconcile: wrote tracking ref %s on delivery %s (%s)",
            input.tracking_number,
            input.picking_id,
            input.shipment_id,
        )
        return RepairResult(repaired=True, detail=f"tracking ref {input.tracking_number} written")

    # -- store ------------------------------------------------------------------------------

    @activity.defn(name="reconcile_save_report")
    async def save_report(self, input: ReconciliationReport) -> None:
        """Save (or replace) the report of one run."""
        await asyncio.to_thread(save_report, self._store, input)

    def by_partner(self) -> dict[str, list[Callable[..., Any]]]:
        """The activities each task queue serves (``LOCAL``: the workflow's own queue)."""
        return {
            ODOO.partner: [self.odoo_view, self.repair_tracking_ref],
            CARRIER_ACTIVITIES: [self.poll_carrier],
            BROKER.partner: [self.poll_broker],
            LOCAL.partner: [
                self.list_shipments,
                self.read_shipment,
                self.signal_events,
                self.save_report,
            ],
        }
