"""ShipmentWorkflow: one durable workflow per shipment, from order acceptance to invoice.

Read top to bottom: ``run`` starts the SLA watch and the lifecycle; ``_flow`` is the
lifecycle: accept (read and confirm the Odoo order; the ``accept`` update answers the caller)
→ book (``workflows.booking``: TMS order, then the lane's carriers until one books; none →
EXCEPTION until ops resolve it) → customs (``workflows.clearance``: one declaration per
direction the Incoterm puts on the seller) → delivery (DELIVERED with proof of delivery) →
invoice (``workflows.invoicing``) → invoiced. Cancellation (ops, or a customs rejection)
compensates in reverse (``workflows.compensation``) and ends CANCELLED.

Guarantees:
- State is one model (``workflows.state.ShipmentState``), carried whole through
  continue-as-new at a safe wait, after every handler finished; its size is bounded.
- Partner events arrive as one ``events`` signal per webhook (``EventBatch``) and are
  recorded once per ``event_id`` (``workflows.progress``), then the vendor's current status
  (``EventBatch.current_event_id``) is followed whatever the times; customs events reach their
  declaration in the same workflow task.
- SLA deadlines (``workflows.sla``) are one durable timer on the next escalation, re-armed
  only when that moment changes (``workflows.escalation`` tells who must know).
- Ops actions are updates whose validators (``workflows.ops.check_*``) refuse, before
  anything reaches history, what the state does not allow or what cannot be right.
- A cancelled or rejected shipment's workflow completes, with ``ShipmentStatus`` set to
  ``cancelled``/``rejected``: the ``cancel`` update answers with the final status, which a
  failed or cancelled workflow could not return (docs/architecture.md says more).
- Deterministic: no I/O, clock or randomness here; time comes from ``workflow.now()``.
"""

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.lifecycle import LifecycleActivities
    from activities.models import AcceptOrderInput, PolicyInput
    from activities.shipment import ShipmentActivities
    from canonical.milestones import Milestone
    from canonical.shipment import Stage, shipment_id_for
    from workflows import invoicing, ops
    from workflows.attributes import SearchAttributes
    from workflows.booking import Booking
    from workflows.clearance import Clearance, CustomsRejected
    from workflows.compensation import Compensation
    from workflows.context import ContinueAsNewDue, ShipmentContext
    from workflows.escalation import Escalation
    from workflows.models import (
        CARRIER,
        CUSTOMER,
        LANE,
        AcceptedShipment,
        EventBatch,
        ShipmentInput,
        ShipmentStatus,
    )
    from workflows.ops import (
        ORDER_REJECTED,
        Actor,
        AmendInput,
        CancelInput,
        ManualMilestoneInput,
        RebookInput,
        ResolutionKind,
        ResolveInput,
        refuse,
    )
    from workflows.partners import ODOO, local
    from workflows.policy import ShipmentPolicy
    from workflows.progress import CUSTOMS, EventLog
    from workflows.sla_clock import Clock
    from workflows.state import ShipmentState, TimelineKind
    from workflows.status import status_of


@workflow.defn
class ShipmentWorkflow:
    @workflow.init
    def __init__(self, input: ShipmentInput) -> None:
        self._input = input
        self._state = state = input.resume or ShipmentState()
        self._log = EventLog(state.log)
        self._context = context = ShipmentContext(
            shipment_id_for(input.order_ref), input, state, self._log, SearchAttributes()
        )
        self._escalation = Escalation(context)
        self._booking = Booking(context, self._escalation)
        self._clearance = Clearance(context, self._escalation)
        self._accepted = input.resume is not None
        self._accept_calls = 0
        self._lifecycle: asyncio.Task[None] | None = None

    @workflow.run
    async def run(self, input: ShipmentInput) -> ShipmentStatus:
        context, state = self._context, self._state
        if input.resume is None:
            context.reach(Stage.ACCEPT)
        helpers = [
            asyncio.create_task(context.attributes.flush()),
            asyncio.create_task(self._watch_sla()),
        ]
        self._lifecycle = asyncio.create_task(self._flow())
        try:
            await self._lifecycle
        except asyncio.CancelledError:
            await self._end_cancelled(state.cancel.reason if state.cancel else "cancelled")
        except ActivityError:
            if state.cancel is None:
                raise
            # Cancelled while an activity ran: the activity reports its own cancellation.
            await self._end_cancelled(state.cancel.reason)
        except CustomsRejected as err:
            await self._end_cancelled(str(err))
        except ContinueAsNewDue:
            await self._settle()
            carried = state.model_copy(update={"log": self._log.state(), "runs": state.runs + 1})
            workflow.continue_as_new(self._input.model_copy(update={"resume": carried}))
        self._accepted = True
        await self._settle()
        for helper in helpers:
            helper.cancel()
        return self.status()

    async def _flow(self) -> None:
        context, state = self._context, self._state
        context.stop_if_cancelled()
        if state.stage is Stage.ACCEPT:
            accepted = await self._accept()
            self._accepted = True
            if not accepted:
                return
            context.stop_if_cancelled()
            context.reach(Stage.BOOK)
        if state.stage in (Stage.BOOK, Stage.EXCEPTION):
            await self._booking.book()
            self._start_clock(Clock.PICKUP, met=Clock.BOOK)
            if self._log.progress.has_reached(Milestone.PICKED_UP):  # the scan came first
                state.sla.meet(Clock.PICKUP, workflow.now())
            context.stop_if_cancelled()
            context.reach(Stage.CUSTOMS)
        if state.stage is Stage.CUSTOMS:
            wanted = self._clearance.wanted()
            if wanted:
                self._start_clock(Clock.CUSTOMS)
                await self._clearance.clear(wanted)
                state.sla.meet(Clock.CUSTOMS, workflow.now())
            else:
                context.note(TimelineKind.CUSTOMS, "no declarations to file: under "
                             f"{state.shipment and state.shipment.incoterm} the buyer clears "
                             "customs")  # fmt: skip
            context.stop_if_cancelled()
            context.reach(Stage.DELIVERY)
        if state.stage is Stage.DELIVERY:
            await context.wait(lambda: self._log.progress.delivered_with_proof, "delivery")
            self._start_clock(Clock.INVOICE, met=Clock.DELIVERY)
            context.reach(Stage.INVOICE)
        if state.stage is Stage.INVOICE:
            await invoicing.invoice(context)
            context.reach(Stage.INVOICED)

    async def _accept(self) -> bool:
        """Read and confirm the order, load the policy, start the clocks; False if rejected."""
        context, input, state = self._context, self._input, self._state
        accept = AcceptOrderInput(
            order_ref=input.order_ref, carrier=input.carrier,
            service_level=input.service_level, packages=input.packages,
        )  # fmt: skip
        try:
            accepted = await context.call(
                ODOO, ShipmentActivities.accept_order, accept,
                f"read and confirm sale order {input.order_ref}",
            )  # fmt: skip
        except ActivityError as err:
            if isinstance(err.cause, ApplicationError) and err.cause.non_retryable:
                state.rejection = err.cause.message
                context.reach(Stage.REJECTED)
                return False
            raise
        shipment = state.shipment = accepted.shipment
        customer = shipment.references.customer_id
        context.refer(
            sale_order_id=accepted.sale_order_id, picking_id=accepted.picking_id,
            customer_id=customer,
        )  # fmt: skip
        policy = await self._load_policy()
        now = workflow.now()
        state.promised_date = input.promised_date or now + timedelta(days=policy.sla.delivery_days)
        state.sla.start(Clock.BOOK, now, now + policy.sla.book)
        state.sla.start(Clock.DELIVERY, now, state.promised_date)
        context.attributes.set_all([(LANE, shipment.lane), (CARRIER, shipment.carrier)])
        if customer is not None:
            context.attributes.set(CUSTOMER, str(customer))
        return True

    async def _load_policy(self) -> ShipmentPolicy:
        shipment = self._state.shipment
        assert shipment is not None
        request = PolicyInput(
            shipment_id=self._context.shipment_id, service_level=shipment.service_level.value,
            lane=shipment.lane, carrier=shipment.carrier,
        )  # fmt: skip
        policy = await local(LifecycleActivities.load_shipment_policy, request, "load SLA policy")
        self._state.policy = policy
        return policy

    async def _end_cancelled(self, reason: str) -> None:
        await Compensation(self._context).run(reason)
        self._state.rejection = reason
        self._context.reach(Stage.CANCELLED)

    async def _settle(self) -> None:
        """Before the run ends: every handler done, no escalation mid-way, attributes sent."""
        await workflow.wait_condition(
            lambda: (
                workflow.all_handlers_finished()
                and not self._escalation.busy
                and self._context.attributes.settled
            )
        )

    # -- SLA --------------------------------------------------------------------------------

    def _start_clock(self, name: Clock, met: Clock | None = None) -> None:
        """Start clock ``name`` now (and stop ``met``, whose goal was just reached)."""
        state, now = self._state, workflow.now()
        assert state.policy is not None
        if met is not None:
            state.sla.meet(met, now)
        targets = state.policy.sla
        budget = {Clock.PICKUP: targets.pickup, Clock.CUSTOMS: targets.customs,
                  Clock.INVOICE: targets.invoice}  # fmt: skip
        state.sla.start(name, now, now + budget[name])

    async def _watch_sla(self) -> None:
        """One durable timer on the next escalation, re-armed only when that moment changes."""
        state, escalation = self._state, self._escalation
        while not state.stage.is_final:
            rung = escalation.due(self._log.progress.eta)
            if rung is not None and rung.at <= workflow.now():
                await escalation.climb(rung)
                continue
            timeout = None if rung is None else rung.at - workflow.now()
            summary = None
            if rung is not None:
                summary = f"SLA {rung.clock}: {rung.level.value} at {rung.at:%Y-%m-%d %H:%M} UTC"
            try:
                await workflow.wait_condition(
                    lambda r=rung: (  # type: ignore[misc]
                        state.stage.is_final or escalation.due(self._log.progress.eta) != r
                    ),
                    timeout=timeout,
                    timeout_summary=summary,
                )
            except TimeoutError:
                pass

    # -- partner events ---------------------------------------------------------------------

    @workflow.signal
    def events(self, batch: EventBatch) -> None:
        """The new events of one webhook, recorded once each (repeats change nothing), then
        the vendor's current status followed (``batch.current_event_id``)."""
        for event in self._log.add_all(batch.events):
            retracted = self._log.milestone_of(event.retracts_event_id)
            if event.milestone in CUSTOMS or retracted in CUSTOMS:
                self._clearance.receive(event)
        if batch.current_event_id is not None:
            self._log.follow(batch.current_event_id)
        if self._log.progress.has_reached(Milestone.PICKED_UP):
            self._state.sla.meet(Clock.PICKUP, workflow.now())

    @workflow.query
    def status(self) -> ShipmentStatus:
        return status_of(self._context.shipment_id, self._input, self._state, self._log)

    # -- ops actions (updates) --------------------------------------------------------------

    @workflow.update
    async def accept(self) -> AcceptedShipment:
        """Wait until the order is accepted (update-with-start): the status, or the refusal."""
        self._accept_calls += 1
        first = self._accept_calls == 1 and self._state.runs == 1
        await workflow.wait_condition(lambda: self._accepted)
        if self._state.stage is Stage.REJECTED:
            raise refuse(self._state.rejection or "the order cannot ship", ORDER_REJECTED)
        return AcceptedShipment(first=first, status=self.status())

    @workflow.update
    async def amend(self, input: AmendInput) -> ShipmentStatus:
        """Change the promised date (moves the delivery deadline), or before booking the
        consignee or the service level (reloads the SLA policy)."""
        state, changed = self._state, []
        if input.promised_date is not None:
            state.promised_date = input.promised_date
            state.sla.move(Clock.DELIVERY, input.promised_date)
            changed.append(f"promised date {input.promised_date.isoformat()}")
        if input.consignee is not None and state.shipment is not None:
            state.shipment = state.shipment.model_copy(
                update={"consignee": input.consignee, "destination": input.consignee.address}
            )
            changed.append("consignee")  # never the name: the timeline is no place for it
        if input.service_level is not None and state.shipment is not None:
            state.shipment = state.shipment.model_copy(
                update={"service_level": input.service_level}
            )
            policy = await self._load_policy()
            if (book := state.sla.get(Clock.BOOK)) is not None:
                state.sla.move(Clock.BOOK, book.started_at + policy.sla.book)
            changed.append(f"service level {input.service_level.value}")
        self._ops_note("amended: " + ", ".join(changed), input.actor, reason=input.reason)
        return self.status()

    @amend.validator
    def _amend_allowed(self, input: AmendInput) -> None:
        busy = self._booking.busy
        ops.check_amend(self._state, self._log.progress, input, workflow.now(), busy)

    @workflow.update
    async def cancel(self, input: CancelInput) -> ShipmentStatus:
        """Cancel and compensate; answers once the shipment is CANCELLED."""
        self._state.cancel = input
        self._ops_note("cancellation requested", input.actor, reason=input.reason)
        if self._lifecycle is not None and not self._lifecycle.done():
            self._lifecycle.cancel()
        await workflow.wait_condition(lambda: self._state.stage.is_final)
        return self.status()

    @cancel.validator
    def _cancel_allowed(self, input: CancelInput) -> None:
        ops.check_cancel(self._state, self._log.progress)

    @workflow.update
    async def rebook(self, input: RebookInput) -> ShipmentStatus:
        """Book another carrier first, then cancel the old booking (make before break)."""
        old = await self._booking.rebook(input.carrier)
        new = self._state.booking.carrier if self._state.booking else "?"
        self._ops_note(f"re-booked from {old} to {new}", input.actor, reason=input.reason)
        return self.status()

    @rebook.validator
    def _rebook_allowed(self, input: RebookInput) -> None:
        ops.check_rebook(self._state, self._log.progress, input, self._booking.busy)

    @workflow.update
    async def resolve(self, input: ResolveInput) -> ShipmentStatus:
        """Resolve an EXCEPTION (book ``carrier``) or a customs hold (back to review)."""
        state = self._state
        self._ops_note(f"resolved {input.kind.value}", input.actor, note=input.note)
        if input.kind is ResolutionKind.EXCEPTION:
            state.resolution_carrier, state.resolved = input.carrier, True
            # Answer once booked, or once back in EXCEPTION because this carrier refused too.
            await workflow.wait_condition(
                lambda: (
                    state.booking is not None
                    or (state.stage is Stage.EXCEPTION and not state.resolved)
                )
            )
            return self.status()
        held = ops.held(state)
        assert held is not None
        self._clearance.resolve_hold(held, input.note)
        return self.status()

    @resolve.validator
    def _resolve_allowed(self, input: ResolveInput) -> None:
        ops.check_resolve(self._state, input)

    @workflow.update
    def record_milestone(self, input: ManualMilestoneInput) -> ShipmentStatus:
        """A milestone recorded by ops (deduplicated like any partner event)."""
        self.events(EventBatch(events=[input.event], partner="ops"))
        self._ops_note(
            f"milestone {input.event.milestone.value} recorded", input.actor,
            reason=input.event.reason,
        )  # fmt: skip
        return self.status()

    @record_milestone.validator
    def _milestone_allowed(self, input: ManualMilestoneInput) -> None:
        ops.check_milestone(self._state, input)

    def _ops_note(self, title: str, actor: Actor, **details: str | None) -> None:
        self._context.note(
            TimelineKind.OPS, title, role=actor.role, token=actor.token_id or "-", **details
        )
