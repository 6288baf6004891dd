"""ShipmentWorkflow: one durable workflow per shipment, from order acceptance to invoice.

Lifecycle (``lifecycle-v3``): accept (read and confirm the Odoo order; the ``accept`` update
answers the caller) → book (TMS order, then the lane's carriers in order until one books; none
→ EXCEPTION until ops resolve it) → customs (a ``CustomsWorkflow`` child per declaration the
Incoterm puts on the seller) → delivery (DELIVERED with proof of delivery) → invoice (final
carrier charges or, after the policy's window, the quote flagged provisional; one invoice) →
invoiced. Cancellation (ops, or a customs rejection) compensates in reverse and ends CANCELLED.

Guarantees:
- Partner events arrive as ``event`` signals and are recorded once per ``event_id``; the rules
  of order, estimates and retractions are in ``workflows.progress`` (goods) and
  ``workflows.customs`` (declarations).
- SLA deadlines (``workflows.sla``, policy read once via an activity) are durable timers that
  move when the promised date moves; a breach sets ``SlaBreached`` and climbs the ladder.
- Ops actions are updates whose validators refuse, before anything reaches history, what the
  state does not allow (``NotAllowedNow``) or what cannot be right (``InvalidUpdate``).
- Long lives continue as new at a safe wait, after every handler finished, carrying all state.
- Histories recorded before ``lifecycle-v3`` replay on ``workflows.lifecycle_v2``; before
  ``canonical-v2`` on ``workflows.legacy``.
- Deterministic: no I/O, clock or randomness here; time comes from ``workflow.now()``.
"""

import asyncio
from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.lifecycle import LifecycleActivities
    from activities.models import CancelBookingInput, PolicyInput
    from canonical.customs import DeclarationStatus
    from canonical.events import ShipmentEvent
    from canonical.milestones import Milestone
    from canonical.shipment import References, Stage, shipment_id_for
    from workflows.legacy import MilestoneEventV1
    from workflows.models import (
        AcceptedShipment,
        CustomsState,
        ShipmentInput,
        ShipmentResume,
        ShipmentStatus,
        TimelineKind,
    )
    from workflows.ops import (
        INVALID_UPDATE,
        NOT_ALLOWED_NOW,
        ORDER_REJECTED,
        Actor,
        AmendInput,
        CancelInput,
        ManualMilestoneInput,
        RebookInput,
        ResolutionKind,
        ResolveInput,
    )
    from workflows.partners import CARRIER as CARRIER_CALLS
    from workflows.partners import LOCAL
    from workflows.progress import CUSTOMS, EventLog
    from workflows.sla import SlaBook
    from workflows.sla_clock import SlaLevel
    from workflows.stages import ContinueAsNewDue, CustomsRejected, ShipmentStages

LIFECYCLE_V3 = "lifecycle-v3"
"""Patch id of this lifecycle (fallback carriers, customs children, SLA, updates, saga)."""
KEEP_EVENTS = 500
"""Events carried across continue-as-new (all ids are carried, for deduplication)."""


def refuse(message: str, type: str = NOT_ALLOWED_NOW) -> ApplicationError:
    return ApplicationError(message, type=type, non_retryable=True)


@workflow.defn
class ShipmentWorkflow(ShipmentStages):
    @workflow.init
    def __init__(self, input: ShipmentInput) -> None:
        self._input = input
        self._shipment_id = shipment_id_for(input.order_ref)
        self._routed = True
        self._v3 = True
        self._rejection = None
        self._cancel: CancelInput | None = None
        self._accept_done = False
        self._accept_calls = 0
        self._resolved = False
        self._resolution_carrier = None
        self._booking_busy = False
        self._escalating = False
        self._invoice_provisional = False
        self._sla_version = 0
        self._lifecycle_task: asyncio.Task[None] | None = None
        r = input.resume
        self._stage = r.stage if r else Stage.ACCEPT
        self._stages = r.stages if r else []
        self._references = r.references if r else References()
        self._accepted = r.accepted if r else None
        self._shipment = r.shipment if r else None
        self._policy = r.policy if r else None
        self._booking = r.booking if r else None
        self._booking_no = r.booking_no if r else 0
        self._log = EventLog(r.log if r else None)
        self._sla = r.sla if r else SlaBook()
        self._customs = r.customs if r else []
        self._customs_pending = r.customs_pending if r else []
        self._timeline = r.timeline if r else []
        self._promised = r.promised_date if r else None
        self._exception = r.exception if r else None
        self._runs = r.runs if r else 1
        if r is not None:
            self._accept_done = True

    @workflow.run
    async def run(self, input: ShipmentInput) -> ShipmentStatus:
        if not workflow.patched(LIFECYCLE_V3):
            self._v3 = False
            return await self._run_v2(input)
        if input.resume is None:
            self._reach(Stage.ACCEPT)
        sla = asyncio.create_task(self._watch_sla())
        self._lifecycle_task = asyncio.create_task(self._lifecycle())
        try:
            await self._lifecycle_task
        except asyncio.CancelledError:
            reason = self._cancel.reason if self._cancel else "the workflow was cancelled"
            await self._end_cancelled(reason)
        except ActivityError:
            if self._cancel is None:
                raise
            # Cancelled while an activity ran: the activity reports its own cancellation.
            await self._end_cancelled(self._cancel.reason)
        except CustomsRejected as err:
            await self._end_cancelled(str(err))
        except ContinueAsNewDue:
            await workflow.wait_condition(
                lambda: workflow.all_handlers_finished() and not self._escalating
            )
            sla.cancel()
            workflow.continue_as_new(self._input.model_copy(update={"resume": self._carry()}))
        self._accept_done = True
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    async def _lifecycle(self) -> None:
        self._stop_if_cancelled()
        if self._stage is Stage.ACCEPT:
            accepted = await self._accept()
            self._accept_done = True
            if not accepted:
                return
            self._stop_if_cancelled()
            self._reach(Stage.BOOK)
        if self._stage in (Stage.BOOK, Stage.EXCEPTION):
            await self._book()
            self._stop_if_cancelled()
            self._reach(Stage.CUSTOMS)
        if self._stage is Stage.CUSTOMS:
            await self._clear_customs()
            self._stop_if_cancelled()
            self._reach(Stage.DELIVERY)
        if self._stage is Stage.DELIVERY:
            await self._deliver()
            self._reach(Stage.INVOICE)
        if self._stage is Stage.INVOICE:
            await self._invoice()
            self._reach(Stage.INVOICED)

    async def _end_cancelled(self, reason: str) -> None:
        await self._compensate(reason)
        self._rejection = reason
        self._reach(Stage.CANCELLED)

    def _carry(self) -> ShipmentResume:
        self._log.trim(KEEP_EVENTS)
        return ShipmentResume(
            stage=self._stage, stages=self._stages, references=self._references,
            accepted=self._accepted, shipment=self._shipment, policy=self._policy,
            booking=self._booking, booking_no=self._booking_no, log=self._log.state(),
            sla=self._sla,
            customs=self._customs, customs_pending=self._customs_pending,
            timeline=self._timeline, promised_date=self._promised, exception=self._exception,
            runs=self._runs + 1,
        )  # fmt: skip

    # -- partner events -----------------------------------------------------------------

    @workflow.signal
    def event(self, event: ShipmentEvent) -> None:
        """Record a partner event once; redeliveries (same ``event_id``) are ignored."""
        retracted = self._log.milestone_of(event.retracts_event_id)
        if not self._log.add(event):
            return
        if self._v3 and (event.milestone in CUSTOMS or retracted in CUSTOMS):
            self._customs_pending.append(event)
        progress = self._log.progress
        pickup = self._sla.get("pickup")
        if pickup and pickup.met_at is None and progress.has_reached(Milestone.PICKED_UP):
            self._sla.meet("pickup", workflow.now())
        self._sla_version += 1

    @workflow.signal
    def milestone(self, milestone: MilestoneEventV1) -> None:
        """Version 1 of ``event``, still accepted from old histories and old senders."""
        self.event(milestone.upgrade(recorded_at=workflow.now()))

    @workflow.signal
    def customs_progress(self, state: CustomsState) -> None:
        """A declaration's child reports its state (applied in version order)."""
        for i, known in enumerate(self._customs):
            if known.workflow_id == state.workflow_id:
                if state.version > known.version:
                    self._customs[i] = state
                return
        self._customs.append(state)

    @workflow.query
    def status(self) -> ShipmentStatus:
        progress = self._log.progress
        carrier = self._booking.carrier if self._booking else (
            self._shipment.carrier if self._shipment else self._input.carrier)  # fmt: skip
        return ShipmentStatus(
            shipment_id=self._shipment_id, order_ref=self._input.order_ref, stage=self._stage,
            stages=list(self._stages), references=self._references,
            events=list(self._log.events), shipment=self._shipment, rejection=self._rejection,
            carrier=carrier, transport_status=progress.status, eta=progress.eta,
            promised_date=self._promised, customs=list(self._customs),
            sla=list(self._sla.clocks), sla_breached=self._sla.breached,
            exception=self._exception, invoice_provisional=self._invoice_provisional,
            log=list(self._timeline), earlier_events=self._log.trimmed,
        )  # fmt: skip

    # -- ops actions (updates) -------------------------------------------------------------

    @workflow.update
    async def accept(self) -> AcceptedShipment:
        """Wait until the order is accepted (update-with-start): the status, or the refusal."""
        self._accept_calls += 1
        first = self._accept_calls == 1 and self._runs == 1
        await workflow.wait_condition(lambda: self._accept_done)
        if self._stage is Stage.REJECTED:
            raise refuse(self._rejection or "the order cannot ship", ORDER_REJECTED)
        return AcceptedShipment(first=first, status=self.status())

    @workflow.update
    async def amend(self, input: AmendInput) -> ShipmentStatus:
        changed = []
        if input.promised_date is not None:
            self._promised = input.promised_date
            self._sla.move("delivery", input.promised_date)
            changed.append(f"promised date {input.promised_date.isoformat()}")
        if input.consignee is not None and self._shipment is not None:
            self._shipment = self._shipment.model_copy(
                update={"consignee": input.consignee, "destination": input.consignee.address}
            )
            changed.append(f"consignee {input.consignee.name}")
        if input.service_level is not None and self._shipment is not None:
            self._shipment = self._shipment.model_copy(
                update={"service_level": input.service_level}
            )
            await self._reload_policy()
            changed.append(f"service level {input.service_level.value}")
        self._sla_version += 1
        self._ops_note("amended: " + ", ".join(changed), input.actor, reason=input.reason)
        return self.status()

    @amend.validator
    def _amend_allowed(self, input: AmendInput) -> None:
        self._refuse_when_final()
        if input.promised_date is None and input.consignee is None and input.service_level is None:
            raise refuse("nothing to amend: give a promised date, consignee or service level",
                         INVALID_UPDATE)  # fmt: skip
        if input.promised_date is not None:
            if input.promised_date.tzinfo is None:
                raise refuse("the promised date needs a time zone", INVALID_UPDATE)
            if input.promised_date <= workflow.now():
                raise refuse("the promised date is in the past", INVALID_UPDATE)
            if self._log.progress.delivered_at is not None:
                raise refuse("the shipment is delivered: its promised date is history")
        if input.consignee is not None or input.service_level is not None:
            if self._shipment is None:
                raise refuse("the order is still being accepted: amend it once accepted")
            if self._booking is not None or self._booking_busy:
                raise refuse("the carrier is booked: consignee and service level are fixed "
                             "(re-book or cancel instead)")  # fmt: skip

    async def _reload_policy(self) -> None:
        assert self._shipment is not None and self._policy is not None
        request = PolicyInput(
            shipment_id=self._shipment_id, service_level=self._shipment.service_level.value,
            lane=self._shipment.lane, carrier=self._shipment.carrier,
        )  # fmt: skip
        self._policy = await self._call(
            LOCAL, LifecycleActivities.load_shipment_policy, request, "reload the SLA policy"
        )
        book = self._sla.get("book")
        if book is not None:
            self._sla.move("book", book.started_at + self._policy.sla.book)

    @workflow.update
    async def cancel(self, input: CancelInput) -> ShipmentStatus:
        """Cancel and compensate; answers once the shipment is CANCELLED."""
        self._cancel = input
        self._ops_note("cancellation requested", input.actor, reason=input.reason)
        if self._lifecycle_task is not None and not self._lifecycle_task.done():
            self._lifecycle_task.cancel()
        await workflow.wait_condition(lambda: self._stage.is_final)
        return self.status()

    @cancel.validator
    def _cancel_allowed(self, input: CancelInput) -> None:
        self._refuse_when_final()
        if self._cancel is not None:
            raise refuse("a cancellation is already under way")
        if self._log.progress.delivered_at is not None or self._stage in (
            Stage.INVOICE, Stage.INVOICED):  # fmt: skip
            raise refuse("the shipment is delivered: it can no longer be cancelled")

    @workflow.update
    async def rebook(self, input: RebookInput) -> ShipmentStatus:
        """Book another carrier first, then cancel the old booking (make before break)."""
        assert self._booking is not None and self._policy is not None
        old = self._booking
        carrier = input.carrier or self._next_carrier(old.carrier)
        self._booking = None
        try:
            await self._book_with(carrier)
        except BaseException:
            self._booking = old
            raise
        self._ops_note(f"re-booked from {old.carrier} to {carrier}", input.actor,
                       reason=input.reason)  # fmt: skip
        undo = CancelBookingInput(shipment_id=self._shipment_id, booking=old)
        await self._undo(CARRIER_CALLS, LifecycleActivities.cancel_carrier_booking, undo,
                         f"cancel the {old.carrier} booking")  # fmt: skip
        return self.status()

    @rebook.validator
    def _rebook_allowed(self, input: RebookInput) -> None:
        self._refuse_when_final()
        if self._booking is None or self._booking_busy or self._cancel is not None:
            raise refuse("there is no settled booking to replace right now")
        if self._log.progress.has_reached(Milestone.PICKED_UP):
            raise refuse("the carrier has picked the goods up: too late to re-book")
        self._check_carrier(input.carrier)

    def _next_carrier(self, current: str) -> str:
        assert self._policy is not None
        others = [c for c in self._policy.carriers if c != current]
        return others[0] if others else current

    def _check_carrier(self, carrier: str | None) -> None:
        if carrier is not None and self._policy is not None and \
                carrier not in self._policy.carriers:  # fmt: skip
            known = ", ".join(self._policy.carriers)
            raise refuse(f"{carrier} does not serve this lane (carriers: {known})",
                         INVALID_UPDATE)  # fmt: skip

    @workflow.update
    async def resolve(self, input: ResolveInput) -> ShipmentStatus:
        self._ops_note(f"resolved {input.kind.value}", input.actor, note=input.note)
        if input.kind is ResolutionKind.EXCEPTION:
            self._resolution_carrier = input.carrier
            self._resolved = True
            # Answer once booked, or once back in EXCEPTION because this carrier refused too.
            await workflow.wait_condition(
                lambda: (
                    self._booking is not None
                    or (self._stage is Stage.EXCEPTION and not self._resolved)
                )
            )
            return self.status()
        held = self._held()
        assert held is not None
        await workflow.get_external_workflow_handle(held.workflow_id).signal("resolve", input.note)
        await workflow.wait_condition(
            lambda: (
                (d := self._declaration(held.direction)) is not None
                and d.status is not DeclarationStatus.HELD
            )
        )
        return self.status()

    @resolve.validator
    def _resolve_allowed(self, input: ResolveInput) -> None:
        self._refuse_when_final()
        if input.kind is ResolutionKind.EXCEPTION:
            if self._stage is not Stage.EXCEPTION:
                raise refuse(f"the shipment is not in exception (stage {self._stage.value})")
            self._check_carrier(input.carrier)
        elif self._held() is None:
            raise refuse("no customs declaration is on hold")

    def _held(self) -> CustomsState | None:
        return next((d for d in self._customs if d.status is DeclarationStatus.HELD), None)

    @workflow.update
    def record_milestone(self, input: ManualMilestoneInput) -> ShipmentStatus:
        """A milestone recorded by ops (deduplicated like any partner event)."""
        self.event(input.event)
        self._ops_note(f"milestone {input.event.milestone.value} recorded", input.actor,
                       reason=input.event.reason or "")  # fmt: skip
        return self.status()

    @record_milestone.validator
    def _milestone_allowed(self, input: ManualMilestoneInput) -> None:
        self._refuse_when_final()
        if input.event.source.partner != "ops":
            raise refuse("a manual milestone comes from partner 'ops'", INVALID_UPDATE)
        if input.event.milestone is Milestone.UNKNOWN:
            raise refuse("UNKNOWN is not a milestone ops can record", INVALID_UPDATE)

    def _refuse_when_final(self) -> None:
        if not self._v3:
            raise refuse("this shipment runs an earlier lifecycle without ops actions")
        if self._stage.is_final:
            raise refuse(f"the shipment is {self._stage.value}: nothing can change it now")

    def _ops_note(self, title: str, actor: Actor, **details: str) -> None:
        self._note(TimelineKind.OPS, title, role=actor.role, token=actor.token_id or "-",
                   **{k: v for k, v in details.items() if v})  # fmt: skip

    def _details(self) -> str:
        order = self._input.order_ref
        if self._stage in (Stage.REJECTED, Stage.CANCELLED):
            return f"Order {order} was {self._stage.value}: {self._rejection}"
        parts = [f"Shipment of order {order} is at stage **{self._stage.value}**."]
        if self._booking is not None:
            parts.append(f"Carrier {self._booking.carrier}, tracking "
                         f"{self._booking.tracking_number}.")  # fmt: skip
        status = self._log.progress.status
        if status is not None:
            parts.append(f"Goods: {status.value.lower().replace('_', ' ')}.")
        if self._log.progress.eta is not None:
            parts.append(f"ETA {_day(self._log.progress.eta)}.")
        if self._promised is not None:
            parts.append(f"Promised {_day(self._promised)}.")
        if self._sla.breached:
            late = [
                c.clock for c in self._sla.clocks if c.level not in (SlaLevel.OK, SlaLevel.WARN)
            ]
            parts.append(f"SLA breached: {', '.join(late)}.")
        if self._exception:
            parts.append(f"Waiting for ops: {self._exception}.")
        return " ".join(parts)


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
