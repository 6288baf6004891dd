"""ShipmentWorkflow: one durable workflow per shipment, from order acceptance to invoice.

Stages, in order: accept (read and confirm the Odoo sale order) → book (TMS transport order,
carrier label, tracking number back to Odoo) → customs (file with the broker, wait for the
release milestone) → delivery (wait for DELIVERED with proof of delivery) → invoice (create and
post the Odoo invoice, notify finance) → invoiced.

Guarantees:
- Partner events arrive as ``event`` signals (canonical ``ShipmentEvent``s) and are recorded
  once per ``event_id``, in arrival order, whatever stage the shipment is in; a wait is
  satisfied by an event that arrived before the wait began. Only ACTUAL events that no later
  event retracted satisfy a wait; ESTIMATED and PLANNED ones are kept on the timeline only.
- Histories recorded before the ``canonical-v2`` patch replay unchanged (see
  ``workflows/legacy.py``).
- An order that cannot ship (unknown, cancelled, incomplete in Odoo) ends the workflow in
  stage ``rejected`` with the reason, not as a failure.
- Deterministic: no I/O, clock or randomness here; time comes from ``workflow.now()``.
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
    from canonical.shipment import References, Shipment, Stage, shipment_id_for
    from workflows.legacy import CANONICAL_V2, AcceptedOrderV1, MilestoneEventV1
    from workflows.models import (
        ORDER_REF,
        SHIPMENT_STATUS,
        ShipmentInput,
        ShipmentStatus,
        StageReached,
    )
    from workflows.partners import (
        BROKER,
        CARRIER,
        LOCAL,
        NOTIFY,
        ODOO,
        TMS,
        PartnerCalls,
    )

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


@workflow.defn
class ShipmentWorkflow:
    @workflow.init
    def __init__(self, input: ShipmentInput) -> None:
        self._input = input
        self._shipment_id = shipment_id_for(input.order_ref)
        self._stage = Stage.ACCEPT
        self._stages: list[StageReached] = []
        self._references = References()
        self._shipment: Shipment | None = None
        self._events: list[ShipmentEvent] = []
        self._seen: set[str] = set()
        self._rejection: str | None = None
        self._routed = True

    @workflow.run
    async def run(self, input: ShipmentInput) -> ShipmentStatus:
        # Shipments started before partner task queues keep calling on the workflow's queue.
        self._routed = workflow.patched(PARTNER_QUEUES)
        self._reach(Stage.ACCEPT)
        try:
            accepted = await self._accept(input)
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
        await self._record_tracking(booking.carrier, booking.tracking_number, accepted.picking_id)

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
            activity, arg, summary=summary, task_queue=partner.task_queue,
            start_to_close_timeout=partner.start_to_close, retry_policy=partner.retry,
        )  # fmt: skip

    async def _record_tracking(
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

    async def _accept(self, input: ShipmentInput) -> AcceptedOrder:
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

    @workflow.signal
    def event(self, event: ShipmentEvent) -> None:
        """Record a partner event once; redeliveries (same ``event_id``) are ignored."""
        if event.event_id in self._seen:
            return
        self._seen.add(event.event_id)
        self._events.append(event)

    @workflow.signal
    def milestone(self, milestone: MilestoneEventV1) -> None:
        """Version 1 of ``event``, still accepted from old histories and old senders."""
        self.event(milestone.upgrade(recorded_at=workflow.now()))

    @workflow.query
    def status(self) -> ShipmentStatus:
        return ShipmentStatus(
            shipment_id=self._shipment_id,
            order_ref=self._input.order_ref,
            stage=self._stage,
            stages=list(self._stages),
            references=self._references,
            events=list(self._events),
            shipment=self._shipment,
            rejection=self._rejection,
        )

    # -- helpers --------------------------------------------------------------------------

    def _actual_events(self) -> list[ShipmentEvent]:
        """Events that happened and stand: ACTUAL, and not retracted by a later event."""
        retracted = {e.retracts_event_id for e in self._events if e.retracts_event_id}
        return [
            e for e in self._events
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

    def _refer(self, **references: object) -> None:
        self._references = self._references.model_copy(update=references)

    def _reach(self, stage: Stage) -> None:
        self._stage = stage
        self._stages.append(StageReached(stage=stage, at=workflow.now()))
        workflow.upsert_search_attributes(
            [SHIPMENT_STATUS.value_set(stage.value), ORDER_REF.value_set(self._input.order_ref)]
        )
        workflow.set_current_details(self._details())

    def _details(self) -> str:
        if self._stage == Stage.REJECTED:
            return f"Order {self._input.order_ref} was rejected: {self._rejection}"
        return f"Shipment of order {self._input.order_ref} is at stage **{self._stage.value}**."
