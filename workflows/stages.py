"""The stages of the lifecycle (version 3): accept, book, customs, delivery, invoice, and the
SLA watch and compensation that run beside them. ``ShipmentWorkflow`` (``workflows.shipment``)
runs them and holds the handlers; this module holds what each stage does.
"""

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError, FailureError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.lifecycle import LifecycleActivities
    from activities.models import (
        AcceptedOrder,
        AcceptOrderInput,
        CancelBookingInput,
        CancelDeclarationInput,
        CancelTransportInput,
        CarrierBooking,
        EscalationInput,
        FinalChargesInput,
        LinkTrackingInput,
        NotifyFinanceInput,
        NotifyInput,
        PolicyInput,
        ReleaseInvoiceInput,
        ReverseOrderInput,
        StepInput,
        WriteTrackingRefInput,
    )
    from activities.shipment import ShipmentActivities
    from canonical.billing import Charge
    from canonical.customs import CustomsDirection, DeclarationStatus
    from canonical.events import ShipmentEvent
    from canonical.milestones import Milestone
    from canonical.shipment import Stage
    from workflows.customs import CustomsInput, CustomsWorkflow
    from workflows.lifecycle_v2 import ShipmentBase
    from workflows.models import (
        CARRIER,
        CUSTOMER,
        CUSTOMS_STATUS,
        LANE,
        SLA_BREACHED,
        CustomsState,
        TimelineEntry,
        TimelineKind,
    )
    from workflows.ops import CancelInput
    from workflows.partners import BROKER, LOCAL, NOTIFY, ODOO, TMS
    from workflows.partners import CARRIER as CARRIER_CALLS
    from workflows.policy import ShipmentPolicy
    from workflows.sla import Rung, SlaBook
    from workflows.sla_clock import SlaLevel

CHARGES_POLLS = 4
"""How many times the carrier is asked for its final charges within the charges window."""


class ContinueAsNewDue(Exception):
    """Raised at a safe point of a long wait when the server suggests continue-as-new."""


class CustomsRejected(Exception):
    """A declaration was rejected: the shipment is compensated and ends CANCELLED."""


class ShipmentStages(ShipmentBase):
    _accepted: AcceptedOrder | None
    _policy: ShipmentPolicy | None
    _booking: CarrierBooking | None
    _booking_no: int
    _booking_busy: bool
    _sla: SlaBook
    _sla_version: int
    _customs: list[CustomsState]
    _customs_pending: list[ShipmentEvent]
    _timeline: list[TimelineEntry]
    _promised: datetime | None
    _exception: str | None
    _resolution_carrier: str | None
    _resolved: bool
    _runs: int
    _escalating: bool
    _invoice_provisional: bool
    _cancel: CancelInput | None
    """Set by the ``cancel`` update: the lifecycle stops at its next wait and compensates."""

    # -- shared ---------------------------------------------------------------------------

    def _note(self, kind: TimelineKind, title: str, **details: str) -> None:
        self._timeline.append(
            TimelineEntry(at=workflow.now(), kind=kind, title=title, details=details)
        )
        workflow.set_current_details(self._details())

    def _continue_due(self) -> bool:
        return workflow.info().is_continue_as_new_suggested()

    async def _wait(self, ready: Callable[[], bool]) -> None:
        """Wait for ``ready``; at a safe point, leave for continue-as-new when it is due, or
        for compensation when ops cancelled."""
        await workflow.wait_condition(
            lambda: ready() or self._continue_due() or self._cancel is not None
        )
        self._stop_if_cancelled()
        if not ready():
            raise ContinueAsNewDue()

    def _stop_if_cancelled(self) -> None:
        """Raise ``CancelledError`` once ops cancelled.

        ``cancel`` also cancels the lifecycle task, but the SDK may swallow that request: a
        signal to another workflow, for one, that is delivered anyway completes normally. Every
        wait and every stage boundary checks again, so a cancellation is never lost.
        """
        if self._cancel is not None:
            raise asyncio.CancelledError()

    async def _tell(self, channel: str, event: str, title: str, text: str, key: str) -> None:
        notice = NotifyInput(
            shipment_id=self._shipment_id, order_ref=self._input.order_ref, channel=channel,
            event=event, title=title, text=text, key=f"{self._shipment_id}:{key}",
        )  # fmt: skip
        await self._call(NOTIFY, LifecycleActivities.notify, notice, f"notify {channel}: {title}")

    # -- accept ---------------------------------------------------------------------------

    async def _accept(self) -> bool:
        """Read and confirm the order, load the policy, start the clocks; False if rejected."""
        input = self._input
        accept = AcceptOrderInput(
            order_ref=input.order_ref, carrier=input.carrier,
            service_level=input.service_level, packages=input.packages,
        )  # fmt: skip
        try:
            summary = f"read and confirm sale order {input.order_ref}"
            accepted = await self._call(ODOO, ShipmentActivities.accept_order, accept, summary)
        except ActivityError as err:
            if isinstance(err.cause, ApplicationError) and err.cause.non_retryable:
                self._rejection = err.cause.message
                self._reach(Stage.REJECTED)
                return False
            raise
        self._accepted = accepted
        shipment = self._shipment = accepted.shipment
        self._refer(sale_order_id=accepted.sale_order_id, picking_id=accepted.picking_id,
                    customer_id=shipment.references.customer_id)  # fmt: skip
        request = PolicyInput(
            shipment_id=self._shipment_id, service_level=shipment.service_level.value,
            lane=shipment.lane, carrier=shipment.carrier,
        )  # fmt: skip
        policy = self._policy = await self._call(
            LOCAL, LifecycleActivities.load_shipment_policy, request, "load the SLA policy"
        )
        now = workflow.now()
        promised = input.promised_date or now + timedelta(days=policy.sla.delivery_days)
        self._promised = promised
        self._sla.start("book", now, now + policy.sla.book)
        self._sla.start("delivery", now, promised)
        self._sla_version += 1
        customer = shipment.references.customer_id
        workflow.upsert_search_attributes([
            LANE.value_set(shipment.lane), CARRIER.value_set(shipment.carrier),
            *([CUSTOMER.value_set(str(customer))] if customer is not None else []),
        ])  # fmt: skip
        return True

    # -- book -----------------------------------------------------------------------------

    async def _book(self) -> None:
        """TMS order, then the carriers of the lane in order until one books; EXCEPTION if none."""
        assert self._shipment is not None and self._policy is not None
        if self._references.transport_order_id is None:
            step = StepInput(shipment_id=self._shipment_id, shipment=self._shipment)
            transport = await self._call(TMS, ShipmentActivities.create_transport_order, step,
                                         "create TMS transport order")  # fmt: skip
            self._refer(transport_order_id=transport.transport_order_id)
        candidates = list(self._policy.carriers)
        while self._booking is None:
            refusals = []
            for carrier in candidates:
                try:
                    await self._book_with(carrier)
                    break
                except ActivityError as err:
                    if not (isinstance(err.cause, ApplicationError) and err.cause.non_retryable):
                        raise
                    refusals.append(f"{carrier}: {err.cause.message}")
                    self._note(TimelineKind.BOOKING, f"{carrier} refused the booking",
                               reason=err.cause.message)  # fmt: skip
            if self._booking is not None:
                break
            self._exception = "every carrier of the lane refused: " + "; ".join(refusals)
            self._reach(Stage.EXCEPTION)
            await self._tell("ops", "shipment.exception", "Shipment needs ops",
                             self._exception, f"exception-{len(self._stages)}")  # fmt: skip
            self._resolved = False
            await self._wait(lambda: self._resolved)
            candidates = [self._resolution_carrier or self._policy.carriers[0]]
            self._exception = None
            self._reach(Stage.BOOK)
        assert self._booking is not None
        now = workflow.now()
        self._sla.meet("book", now)
        self._sla.start("pickup", now, now + self._policy.sla.pickup)
        if self._log.progress.has_reached(Milestone.PICKED_UP):  # the scan came first
            self._sla.meet("pickup", now)
        self._sla_version += 1

    async def _book_with(self, carrier: str) -> CarrierBooking:
        """Book ``carrier`` (its own idempotency key), link its tracking number, tell Odoo."""
        assert self._shipment is not None
        self._booking_busy = True
        try:
            self._booking_no += 1
            shipment = self._shipment.model_copy(update={"carrier": carrier})
            step = StepInput(shipment_id=self._shipment_id, shipment=shipment,
                             booking_no=self._booking_no)  # fmt: skip
            workflow.upsert_search_attributes([CARRIER.value_set(carrier)])
            booking = await self._call(CARRIER_CALLS, ShipmentActivities.book_carrier, step,
                                       f"book {carrier}")  # fmt: skip
            self._shipment = shipment
            self._booking = booking
            self._refer(
                carrier_shipment_id=booking.carrier_shipment_id,
                tracking_number=booking.tracking_number,
                label_url=booking.label_url,
            )
            self._note(TimelineKind.BOOKING, f"booked with {carrier}",
                       tracking_number=booking.tracking_number)  # fmt: skip
            link = LinkTrackingInput(shipment_id=self._shipment_id, carrier=carrier,
                                     tracking_number=booking.tracking_number)  # fmt: skip
            await self._call(LOCAL, ShipmentActivities.link_tracking, link, "link tracking number")
            if self._references.picking_id is not None:
                write = WriteTrackingRefInput(picking_id=self._references.picking_id,
                                              tracking_number=booking.tracking_number)  # fmt: skip
                await self._call(ODOO, ShipmentActivities.write_tracking_ref, write,
                                 "write tracking number to Odoo")  # fmt: skip
            return booking
        finally:
            self._booking_busy = False

    # -- customs --------------------------------------------------------------------------

    def _directions(self) -> list[tuple[CustomsDirection, str]]:
        """The declarations we file: the Incoterm decides (EXW: none; DDP: export + import)."""
        shipment = self._shipment
        assert shipment is not None and shipment.origin and shipment.destination
        wanted = []
        if not shipment.incoterm.buyer_clears_export:
            wanted.append((CustomsDirection.EXPORT, shipment.origin.country))
        if shipment.incoterm.seller_clears_import:
            wanted.append((CustomsDirection.IMPORT, shipment.destination.country))
        return wanted

    async def _clear_customs(self) -> None:
        assert self._shipment is not None and self._policy is not None
        directions = self._directions()
        if not directions:
            self._note(TimelineKind.CUSTOMS,
                       f"no declarations to file: under {self._shipment.incoterm} the buyer "
                       "clears customs")  # fmt: skip
            return
        now = workflow.now()
        self._sla.start("customs", now, now + self._policy.sla.customs)
        self._sla_version += 1
        for direction, country in directions:
            await self._declare(direction, country)
        self._sla.meet("customs", workflow.now())
        self._sla_version += 1

    def _declaration(self, direction: CustomsDirection) -> CustomsState | None:
        return next((d for d in self._customs if d.direction is direction), None)

    async def _declare(self, direction: CustomsDirection, country: str) -> None:
        """Run one declaration's child workflow to RELEASED (raise CustomsRejected if rejected)."""
        assert self._shipment is not None and self._references.tracking_number is not None
        if self._declaration(direction) is None:
            child_id = f"{workflow.info().workflow_id}-customs-{direction.value}"
            pending, self._customs_pending = self._customs_pending, []
            await workflow.start_child_workflow(
                CustomsWorkflow.run,
                CustomsInput(shipment_id=self._shipment_id, shipment=self._shipment,
                             tracking_number=self._references.tracking_number,
                             direction=direction, country=country, events=pending,
                             region=self._input.region),
                id=child_id, parent_close_policy=ParentClosePolicy.ABANDON,
                static_summary=f"{direction.value} declaration of {self._input.order_ref}",
            )  # fmt: skip
            self._customs.append(CustomsState(direction=direction, country=country,
                                              workflow_id=child_id))  # fmt: skip
            workflow.upsert_search_attributes([CUSTOMS_STATUS.value_set("SUBMITTED")])
        seen = -1
        while True:
            await self._wait(
                lambda: bool(self._customs_pending) or self._version_of(direction) != seen  # noqa: B023
            )
            state = self._declaration(direction)
            assert state is not None
            await self._forward_customs_events(state.workflow_id)
            if state.version != seen:
                seen = state.version
                await self._on_declaration(state)
            if state.status is DeclarationStatus.RELEASED:
                return
            if state.status in (DeclarationStatus.REJECTED, DeclarationStatus.CANCELLED):
                raise CustomsRejected(f"customs {state.status.value.lower()} the "
                                      f"{direction.value} declaration")  # fmt: skip

    def _version_of(self, direction: CustomsDirection) -> int:
        state = self._declaration(direction)
        return -1 if state is None else state.version

    async def _forward_customs_events(self, child_id: str) -> None:
        child = workflow.get_external_workflow_handle(child_id)
        while self._customs_pending:
            event = self._customs_pending.pop(0)
            await child.signal(CustomsWorkflow.broker_event, event)

    async def _on_declaration(self, state: CustomsState) -> None:
        """React to a declaration's new status: timeline, search attribute, ops on a hold."""
        if state.version == 0:
            return
        workflow.upsert_search_attributes([CUSTOMS_STATUS.value_set(state.status.value)])
        if state.direction is CustomsDirection.EXPORT or self._references.declaration_id is None:
            self._refer(declaration_id=state.declaration_id, mrn=state.mrn)
        details = {k: v for k, v in (("declaration_id", state.declaration_id),
                                     ("mrn", state.mrn), ("hold_reason", state.hold_reason),
                                     ("note", state.resolution_note)) if v}  # fmt: skip
        self._note(
            TimelineKind.CUSTOMS,
            f"{state.direction.value} declaration {state.status.value}",
            **details,
        )
        if state.status is DeclarationStatus.HELD:
            self._exception = f"customs hold on the {state.direction.value} declaration: " \
                              f"{state.hold_reason}"  # fmt: skip
            await self._tell("ops", "customs.held", "Customs hold", self._exception,
                             f"customs-{state.direction.value}-held-{state.version}")  # fmt: skip
        elif self._exception and self._exception.startswith("customs hold"):
            self._exception = None

    # -- delivery and invoice ---------------------------------------------------------------

    async def _deliver(self) -> None:
        await self._wait(lambda: self._log.progress.delivered_with_proof)
        now = workflow.now()
        self._sla.meet("delivery", now)
        assert self._policy is not None
        self._sla.start("invoice", now, now + self._policy.sla.invoice)
        self._sla_version += 1

    async def _invoice(self) -> None:
        """Wait (bounded) for final carrier charges, then invoice once and tell finance."""
        assert self._accepted is not None and self._policy is not None and self._booking
        charges = await self._settled_charges(self._booking, self._policy.charges_window)
        currency = self._shipment.currency if self._shipment else None
        lines = [c for c in charges if c.amount.currency == currency]
        for other in (c for c in charges if c.amount.currency != currency):
            self._note(TimelineKind.INVOICE, "charge not invoiced: its currency differs",
                       amount=f"{other.amount.amount} {other.amount.currency}")  # fmt: skip
        release = ReleaseInvoiceInput(
            shipment_id=self._shipment_id, order_ref=self._input.order_ref,
            sale_order_id=self._accepted.sale_order_id, charges=lines,
        )  # fmt: skip
        invoice = await self._call(ODOO, ShipmentActivities.release_invoice, release,
                                   "create and post the Odoo invoice")  # fmt: skip
        self._refer(invoice_id=invoice.invoice_id, invoice_name=invoice.invoice_name)
        provisional = self._invoice_provisional = any(c.provisional for c in lines)
        self._note(TimelineKind.INVOICE, f"invoice {invoice.invoice_name} posted",
                   amount=f"{invoice.amount_total} {invoice.currency}",
                   provisional=str(provisional).lower())  # fmt: skip
        notice = NotifyFinanceInput(
            shipment_id=self._shipment_id, order_ref=self._input.order_ref, invoice=invoice,
            delivered_at=self._log.progress.delivered_at,
        )  # fmt: skip
        await self._call(NOTIFY, ShipmentActivities.notify_finance, notice, "notify finance")
        self._sla.meet("invoice", workflow.now())
        self._sla_version += 1

    async def _settled_charges(self, booking: CarrierBooking, window: timedelta) -> list[Charge]:
        """The carrier's final charges if they come within ``window``, else its quote marked
        provisional."""
        deadline = workflow.now() + window
        request = FinalChargesInput(shipment_id=self._shipment_id, booking=booking)
        while True:
            found = await self._call(CARRIER_CALLS, LifecycleActivities.final_charges, request,
                                     "ask the carrier for its final charges")  # fmt: skip
            if found.final:
                return found.charges
            left = deadline - workflow.now()
            if left <= timedelta(0):
                return [c.model_copy(update={"provisional": True}) for c in booking.charges]
            await workflow.sleep(min(left, window / CHARGES_POLLS))

    # -- SLA ------------------------------------------------------------------------------

    def _eta_rung(self) -> Rung | None:
        delivery = self._sla.get("delivery")
        eta = self._log.progress.eta
        if delivery is None or delivery.met_at or delivery.level is not SlaLevel.OK or eta is None:
            return None
        if eta <= delivery.deadline:
            return None
        return Rung(clock="delivery", level=SlaLevel.WARN, at=workflow.now())

    async def _watch_sla(self) -> None:
        """Climb each open clock's escalation ladder on durable timers, until the end."""
        while not self._stage.is_final:
            version = self._sla_version
            rung = self._eta_rung() or (
                self._sla.next_rung(self._policy.escalation) if self._policy else None
            )
            if rung is not None and rung.at <= workflow.now():
                await self._escalate(rung)
                continue
            timeout = (rung.at - workflow.now()) if rung is not None else None
            try:
                await workflow.wait_condition(
                    lambda: self._sla_version != version or self._stage.is_final,  # noqa: B023
                    timeout=timeout,
                )
            except TimeoutError:
                pass

    async def _escalate(self, rung: Rung) -> None:
        """Take one rung: tell who must know, then record it (a retry re-sends nothing: the
        notifications are keyed by clock and level)."""
        self._escalating = True
        try:
            await self._tell_escalation(rung)
        finally:
            self._escalating = False
        clock = self._sla.climb(rung)
        title = f"SLA {clock.clock}: {rung.level.value}"
        self._note(TimelineKind.SLA, title, deadline=clock.deadline.isoformat())

    async def _tell_escalation(self, rung: Rung) -> None:
        clock = self._sla.get(rung.clock)
        assert clock is not None
        title = f"SLA {clock.clock}: {rung.level.value}"
        text = f"{self._input.order_ref}: {clock.clock} was due {clock.deadline.isoformat()}"
        key = f"sla-{clock.clock}-{rung.level.value}"
        if rung.level is SlaLevel.WARN:
            await self._tell("ops", f"sla.{clock.clock}.warn", title, text, key)
        elif rung.level is SlaLevel.BREACH:
            workflow.upsert_search_attributes([SLA_BREACHED.value_set(True)])
            await self._tell("ops", f"sla.{clock.clock}.breach", title, text, key)
        elif rung.level is SlaLevel.ESCALATED:
            await self._tell("account", f"sla.{clock.clock}.escalated", title, text, key)
            if self._accepted is not None:
                todo = EscalationInput(
                    sale_order_id=self._accepted.sale_order_id, key=f"{self._shipment_id}:{key}",
                    summary=title, note=text, deadline=workflow.now().date(),
                )  # fmt: skip
                await self._call(ODOO, LifecycleActivities.open_escalation, todo,
                                 "open an Odoo activity for the account team")  # fmt: skip
        else:
            await self._tell("ops", f"sla.{clock.clock}.critical", title, text, key)
            await self._tell("account", f"sla.{clock.clock}.critical", title, text, key)

    # -- compensation -----------------------------------------------------------------------

    async def _compensate(self, reason: str) -> None:
        """Undo what was done, in reverse; each step shielded, its outcome on the timeline."""
        self._note(TimelineKind.COMPENSATION, "compensation started", reason=reason)
        for state in list(self._customs):
            await self._withdraw(state, reason)
        if self._booking is not None:
            undo = CancelBookingInput(shipment_id=self._shipment_id, booking=self._booking)
            await self._undo(CARRIER_CALLS, LifecycleActivities.cancel_carrier_booking, undo,
                             f"cancel the {self._booking.carrier} booking")  # fmt: skip
        if self._references.transport_order_id is not None:
            tms = CancelTransportInput(
                shipment_id=self._shipment_id,
                transport_order_id=self._references.transport_order_id,
            )
            await self._undo(TMS, LifecycleActivities.cancel_transport_order, tms,
                             "cancel the TMS order")  # fmt: skip
        if self._references.picking_id is not None or self._references.invoice_id is not None:
            odoo = ReverseOrderInput(
                shipment_id=self._shipment_id,
                picking_id=self._references.picking_id,
                invoice_id=self._references.invoice_id,
                reason=reason,
            )
            await self._undo(ODOO, LifecycleActivities.reverse_odoo_order, odoo,
                             "cancel the Odoo delivery / credit the invoice")  # fmt: skip

    async def _withdraw(self, state: CustomsState, reason: str) -> None:
        if state.status.is_final:
            if state.status is DeclarationStatus.RELEASED:
                self._note(TimelineKind.COMPENSATION,
                           f"{state.direction.value} declaration already released: it needs an "
                           "invalidation request to customs (left to ops)")  # fmt: skip
            return
        try:
            await workflow.get_external_workflow_handle(state.workflow_id).signal(
                CustomsWorkflow.withdraw
            )
        except FailureError:
            pass  # it ended meanwhile: its final report is on its way (sent before it ended)
        await workflow.wait_condition(
            lambda: (d := self._declaration(state.direction)) is not None and d.status.is_final
        )
        final = self._declaration(state.direction)
        if final is not None and final.declaration_id and \
                final.status is DeclarationStatus.CANCELLED:  # fmt: skip
            undo = CancelDeclarationInput(shipment_id=self._shipment_id,
                                          declaration_id=final.declaration_id,
                                          direction=state.direction)  # fmt: skip
            await self._undo(BROKER, LifecycleActivities.cancel_customs_declaration, undo,
                             f"withdraw the {state.direction.value} declaration")  # fmt: skip

    async def _undo(self, partner, activity, arg, summary: str) -> None:  # type: ignore[no-untyped-def]
        try:
            done = await asyncio.shield(
                asyncio.ensure_future(self._call(partner, activity, arg, summary))
            )
            self._note(TimelineKind.COMPENSATION, done.outcome)
        except ActivityError as err:
            message = err.cause.message if isinstance(err.cause, ApplicationError) else str(err)
            self._note(TimelineKind.COMPENSATION, f"could not {summary}", reason=message)
