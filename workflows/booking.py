"""Booking: the TMS transport order, then the lane's carriers in order until one books.

Each booking attempt has its own idempotency key at the carrier (``booking_no``), so a retried
attempt books once and a fallback or a re-booking books anew. A carrier's business refusal
moves on to the next carrier; an outage is retried by the activity's policy. When every
carrier refused, the shipment waits in EXCEPTION until ops resolve it (naming a carrier, or
the lane's first). A re-booking books the new carrier first and cancels the old booking after
(make before break). Each carrier is called on its own task queue; a carrier the policy
says is not configured on the platform is never called (no worker polls its queue) and counts
as a refusal.
"""

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.lifecycle import LifecycleActivities
    from activities.models import (
        CancelBookingInput,
        CarrierBooking,
        StepInput,
        WriteTrackingRefInput,
    )
    from activities.shipment import ShipmentActivities
    from canonical.shipment import Stage
    from workflows.compensation import Compensation
    from workflows.context import ShipmentContext
    from workflows.escalation import Escalation
    from workflows.models import CARRIER
    from workflows.partners import ODOO, TMS, for_carrier
    from workflows.state import TimelineKind


class Booking:
    def __init__(self, context: ShipmentContext, escalation: Escalation) -> None:
        self._context = context
        self._state = context.state
        self._escalation = escalation
        self.busy = False
        """A carrier booking is under way (amend and re-book refuse until it settles)."""

    async def book(self) -> None:
        """TMS order, then the carriers of the lane until one books; EXCEPTION if none does."""
        context, state = self._context, self._state
        assert state.shipment is not None and state.policy is not None
        if state.references.transport_order_id is None:
            step = StepInput(shipment_id=context.shipment_id, shipment=state.shipment)
            transport = await context.call(
                TMS, ShipmentActivities.create_transport_order, step, "create TMS transport order"
            )
            context.refer(transport_order_id=transport.transport_order_id)
        candidates = list(state.policy.carriers)
        unconfigured = [f"{carrier}: not configured here" for carrier in state.policy.unconfigured]
        asked = state.shipment.carrier  # the one the order asked for, not booked yet
        if asked in state.policy.unconfigured:
            note = f"{asked} is not configured here: the lane's carriers are asked"
            context.note(TimelineKind.BOOKING, note)
        while True:
            refusals = [*unconfigured, *await self._try(candidates)]
            unconfigured = []
            if state.booking is not None:
                return
            state.exception = (
                "every carrier of the lane refused: " + "; ".join(refusals)
                if refusals else "no carrier of the lane is configured here"
            )  # fmt: skip
            context.reach(Stage.EXCEPTION)
            await self._escalation.tell(
                "ops", "shipment.exception", "Shipment needs ops", state.exception,
                f"exception-{len(state.stages)}",
            )  # fmt: skip
            state.resolved = False
            await context.wait(lambda: state.resolved, "ops to resolve the exception")
            chosen = state.resolution_carrier
            candidates = [chosen] if chosen is not None else state.policy.carriers[:1]
            state.exception = None
            context.reach(Stage.BOOK)

    async def _try(self, carriers: list[str]) -> list[str]:
        """Book the first carrier that accepts; the refusals of those that did not."""
        refusals: list[str] = []
        for carrier in carriers:
            try:
                await self.book_with(carrier)
                return refusals
            except ActivityError as err:
                if not (isinstance(err.cause, ApplicationError) and err.cause.non_retryable):
                    raise
                refusals.append(f"{carrier}: {err.cause.message}")
                self._context.note(
                    TimelineKind.BOOKING, f"{carrier} refused the booking", reason=err.cause.message
                )
        return refusals

    async def book_with(self, carrier: str) -> CarrierBooking:
        """Book ``carrier`` (the activity links its tracking number for webhooks), write the
        number to Odoo."""
        context, state = self._context, self._state
        assert state.shipment is not None
        self.busy = True
        try:
            state.booking_no += 1
            shipment = state.shipment.model_copy(update={"carrier": carrier})
            step = StepInput(
                shipment_id=context.shipment_id, shipment=shipment, booking_no=state.booking_no
            )
            context.attributes.set(CARRIER, carrier)
            booking = await context.call(
                for_carrier(carrier), ShipmentActivities.book_carrier, step, f"book {carrier}"
            )
            state.shipment, state.booking = shipment, booking
            tracking = booking.tracking_number
            context.refer(
                carrier_shipment_id=booking.carrier_shipment_id, tracking_number=tracking,
                label_url=booking.label_url,
            )  # fmt: skip
            context.note(TimelineKind.BOOKING, f"booked with {carrier}", tracking_number=tracking)
            if state.references.picking_id is not None:
                write = WriteTrackingRefInput(
                    picking_id=state.references.picking_id, tracking_number=tracking
                )
                await context.call(
                    ODOO, ShipmentActivities.write_tracking_ref, write,
                    "write tracking number to Odoo",
                )  # fmt: skip
            return booking
        finally:
            self.busy = False

    async def rebook(self, carrier: str | None) -> str:
        """Book ``carrier`` (default: the lane's next), then cancel the old booking; the old
        carrier's name."""
        context, state = self._context, self._state
        assert state.booking is not None and state.policy is not None
        old = state.booking
        others = [c for c in state.policy.carriers if c != old.carrier]
        carrier = carrier or (others[0] if others else old.carrier)
        state.booking = None
        try:
            await self.book_with(carrier)
        except BaseException:
            state.booking = old
            raise
        undo = CancelBookingInput(shipment_id=context.shipment_id, booking=old)
        await Compensation(context).undo(
            for_carrier(old.carrier), LifecycleActivities.cancel_carrier_booking, undo,
            f"cancel the {old.carrier} booking",
        )  # fmt: skip
        return old.carrier
