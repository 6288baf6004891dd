"""The shipment lifecycle as released before ``lifecycle-v3``, kept for the shipments that run it.

Shipments started before the ``lifecycle-v3`` patch replay and finish on this code, unchanged:
accept → book (one carrier) → customs (one export filing, waiting for the release event) →
delivery → invoice. ``ShipmentBase`` also holds what both versions share: how a partner is
called (``_call``), how a stage is reached and how references are kept.
"""

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.models import (
        AcceptedOrder,
        AcceptOrderInput,
        FileCustomsInput,
        LinkTrackingInput,
        NotifyFinanceInput,
        RecordTrackingInput,
        ReleaseInvoiceInput,
        StepInput,
        WriteTrackingRefInput,
    )
    from activities.shipment import ShipmentActivities
    from canonical.events import EventClassifier, ShipmentEvent
    from canonical.milestones import Milestone
    from canonical.shipment import References, Shipment, Stage
    from workflows.legacy import CANONICAL_V2, AcceptedOrderV1
    from workflows.models import ORDER_REF, SHIPMENT_STATUS, ShipmentInput, ShipmentStatus
    from workflows.models import StageReached as StageReached
    from workflows.partners import BROKER, CARRIER, LOCAL, NOTIFY, ODOO, TMS, PartnerCalls
    from workflows.progress import EventLog

ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")

PARTNER_QUEUES = "partner-queues"
"""Patch id of per-partner task queues, timeouts and retry policies (``workflows/partners.py``)."""

PARTNER_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
"""Version 1: one policy for every partner (shipments started before ``partner-queues``)."""

PARTNER_TIMEOUT = timedelta(seconds=60)
"""Upper bound of one attempt of one partner call (the clients time out well before)."""


class ShipmentBase:
    """State and helpers shared by every lifecycle version (see ``ShipmentWorkflow``)."""

    _input: ShipmentInput
    _shipment_id: str
    _stage: Stage
    _stages: list[StageReached]
    _references: References
    _shipment: Shipment | None
    _log: EventLog
    _rejection: str | None
    _routed: bool

    def status(self) -> ShipmentStatus:
        raise NotImplementedError

    def _details(self) -> str:
        raise NotImplementedError

    async def _call(
        self,
        partner: PartnerCalls,
        activity: Callable[[Any, ArgT], Awaitable[ResultT]],
        arg: ArgT,
        summary: str,
    ) -> ResultT:
        """Run one partner activity with that partner's queue, timeout and retry policy."""
        if not self._routed:
            return await workflow.execute_activity_method(
                activity, arg, summary=summary,
                start_to_close_timeout=PARTNER_TIMEOUT, retry_policy=PARTNER_RETRY,
            )  # fmt: skip
        return await workflow.execute_activity_method(
            activity, arg, **partner.activity_config(summary, self._input.region)
        )

    def _refer(self, **references: object) -> None:
        self._references = self._references.model_copy(update=references)

    def _reach(self, stage: Stage) -> None:
        self._stage = stage
        self._stages.append(StageReached(stage=stage, at=workflow.now()))
        workflow.upsert_search_attributes(
            [SHIPMENT_STATUS.value_set(stage.value), ORDER_REF.value_set(self._input.order_ref)]
        )
        workflow.set_current_details(self._details())

    # -- version 2 ------------------------------------------------------------------------

    async def _run_v2(self, input: ShipmentInput) -> ShipmentStatus:
        # Shipments started before partner task queues keep calling on the workflow's queue.
        self._routed = workflow.patched(PARTNER_QUEUES)
        self._reach(Stage.ACCEPT)
        try:
            accepted = await self._accept_v2(input)
        except ActivityError as err:
            if isinstance(err.cause, ApplicationError) and err.cause.non_retryable:
                self._rejection = err.cause.message
                self._reach(Stage.REJECTED)
                return self.status()
            raise
        shipment = self._shipment = accepted.shipment
        self._refer(sale_order_id=accepted.sale_order_id, picking_id=accepted.picking_id)

        self._reach(Stage.BOOK)
        step = StepInput(shipment_id=self._shipment_id, shipment=shipment)
        transport = await self._call(
            TMS, ShipmentActivities.create_transport_order, step, "create TMS transport order"
        )
        self._refer(transport_order_id=transport.transport_order_id)
        booking = await self._call(
            CARRIER, ShipmentActivities.book_carrier, step, f"book {shipment.carrier}"
        )
        self._refer(
            carrier_shipment_id=booking.carrier_shipment_id,
            tracking_number=booking.tracking_number,
            label_url=booking.label_url,
        )
        await self._record_tracking_v2(
            booking.carrier, booking.tracking_number, accepted.picking_id
        )

        self._reach(Stage.CUSTOMS)
        filing = FileCustomsInput(
            shipment_id=self._shipment_id, shipment=shipment,
            tracking_number=booking.tracking_number,
        )  # fmt: skip
        declaration = await self._call(
            BROKER, ShipmentActivities.file_customs, filing, "file export declaration"
        )
        self._refer(declaration_id=declaration.declaration_id)
        await workflow.wait_condition(
            lambda: self._has(Milestone.CUSTOMS_RELEASED) or self._has(Milestone.CUSTOMS_REJECTED)
        )
        if not self._has(Milestone.CUSTOMS_RELEASED):
            raise ApplicationError(
                "customs rejected the export declaration", type="CustomsRejected"
            )

        self._reach(Stage.DELIVERY)
        await workflow.wait_condition(self._delivered_with_proof)

        self._reach(Stage.INVOICE)
        release = ReleaseInvoiceInput(
            shipment_id=self._shipment_id, order_ref=input.order_ref,
            sale_order_id=accepted.sale_order_id,
        )  # fmt: skip
        invoice = await self._call(
            ODOO, ShipmentActivities.release_invoice, release, "create and post the Odoo invoice"
        )
        self._refer(invoice_id=invoice.invoice_id, invoice_name=invoice.invoice_name)
        notice = NotifyFinanceInput(
            shipment_id=self._shipment_id, order_ref=input.order_ref, invoice=invoice
        )
        await self._call(NOTIFY, ShipmentActivities.notify_finance, notice, "notify finance")
        self._reach(Stage.INVOICED)
        return self.status()

    async def _record_tracking_v2(
        self, carrier: str, tracking_number: str, picking_id: int | None
    ) -> None:
        """Link the tracking number for webhooks, and write it to the Odoo delivery."""
        if not self._routed:
            legacy = RecordTrackingInput(
                shipment_id=self._shipment_id, carrier=carrier,
                tracking_number=tracking_number, picking_id=picking_id,
            )  # fmt: skip
            await self._call(LOCAL, ShipmentActivities.record_tracking, legacy,
                             "write tracking number to Odoo")  # fmt: skip
            return
        link = LinkTrackingInput(
            shipment_id=self._shipment_id, carrier=carrier, tracking_number=tracking_number
        )
        await self._call(LOCAL, ShipmentActivities.link_tracking, link, "link tracking number")
        if picking_id is not None:
            write = WriteTrackingRefInput(picking_id=picking_id, tracking_number=tracking_number)
            await self._call(ODOO, ShipmentActivities.write_tracking_ref, write,
                             "write tracking number to Odoo")  # fmt: skip

    async def _accept_v2(self, input: ShipmentInput) -> AcceptedOrder:
        accept = AcceptOrderInput(
            order_ref=input.order_ref,
            carrier=input.carrier,
            service_level=input.service_level,
            packages=input.packages,
        )
        summary = f"read and confirm sale order {input.order_ref}"
        if workflow.patched(CANONICAL_V2):
            return await self._call(ODOO, ShipmentActivities.accept_order, accept, summary)
        legacy = await workflow.execute_activity(
            "accept_order", accept, result_type=AcceptedOrderV1, summary=summary,
            start_to_close_timeout=PARTNER_TIMEOUT, retry_policy=PARTNER_RETRY,
        )  # fmt: skip
        return legacy.upgrade()

    def _actual_events(self) -> list[ShipmentEvent]:
        """Events that happened and stand: ACTUAL, and not retracted by a later event."""
        events = self._log.events
        retracted = {e.retracts_event_id for e in events if e.retracts_event_id}
        return [
            e for e in events
            if e.classifier is EventClassifier.ACTUAL and e.event_id not in retracted
            and e.retracts_event_id is None
        ]  # fmt: skip

    def _has(self, milestone: Milestone) -> bool:
        return any(event.milestone == milestone for event in self._actual_events())

    def _delivered_with_proof(self) -> bool:
        return any(
            event.milestone in (Milestone.DELIVERED, Milestone.POD_RECEIVED)
            and event.proof_of_delivery is not None
            for event in self._actual_events()
        )
