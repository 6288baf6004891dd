"""Compensation: what a cancelled shipment undoes, in reverse, each step on the timeline.

Order: customs declarations (withdrawn: CANCELLED; a filed one is cancelled at the broker; a
RELEASED one needs an invalidation request, left to ops), the carrier booking, the TMS order,
then the Odoo side (the delivery cancelled, a posted invoice credited). Each step is shielded
from the cancellation that started it and recorded as done or failed; a failed step does not
stop the next one. The activities are idempotent, so a retried step undoes nothing twice.
"""

import asyncio
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.lifecycle import LifecycleActivities
    from activities.models import (
        CancelBookingInput,
        CancelDeclarationInput,
        CancelTransportInput,
        ReverseOrderInput,
        Undone,
    )
    from canonical.customs import DeclarationStatus
    from workflows.context import ShipmentContext
    from workflows.customs import Declaration
    from workflows.models import CUSTOMS_STATUS
    from workflows.partners import BROKER, ODOO, TMS, Activity, PartnerCalls, for_carrier
    from workflows.state import TimelineKind


class Compensation:
    def __init__(self, context: ShipmentContext) -> None:
        self._context = context
        self._id = context.shipment_id
        self._note = context.note

    async def run(self, reason: str) -> None:
        state = self._context.state
        self._note(TimelineKind.COMPENSATION, "compensation started", reason=reason)
        for declaration in list(state.declarations):
            await self._withdraw(declaration)
        if state.booking is not None:
            undo = CancelBookingInput(shipment_id=self._id, booking=state.booking)
            await self.undo(
                for_carrier(state.booking.carrier),
                LifecycleActivities.cancel_carrier_booking,
                undo,
                f"cancel the {state.booking.carrier} booking",
            )
        refs = state.references
        if refs.transport_order_id is not None:
            tms = CancelTransportInput(
                shipment_id=self._id, transport_order_id=refs.transport_order_id
            )
            await self.undo(
                TMS, LifecycleActivities.cancel_transport_order, tms, "cancel the TMS order"
            )
        if refs.picking_id is not None or refs.invoice_id is not None:
            odoo = ReverseOrderInput(
                shipment_id=self._id,
                picking_id=refs.picking_id,
                invoice_id=refs.invoice_id,
                reason=reason,
            )
            await self.undo(
                ODOO,
                LifecycleActivities.reverse_odoo_order,
                odoo,
                "cancel the Odoo delivery / credit the invoice",
            )

    async def _withdraw(self, declaration: Declaration) -> None:
        current = declaration.current
        direction = current.direction.value
        if current.status is DeclarationStatus.RELEASED:
            self._note(
                TimelineKind.COMPENSATION,
                f"{direction} declaration already released: it needs an invalidation "
                "request to customs (left to ops)",
            )
            return
        if current.status.is_final or not declaration.withdraw(workflow.now()):
            return
        self._note(TimelineKind.CUSTOMS, f"{direction} declaration CANCELLED")
        self._context.attributes.set(CUSTOMS_STATUS, DeclarationStatus.CANCELLED.value)
        if current.declaration_id is not None:
            undo = CancelDeclarationInput(
                shipment_id=self._id,
                declaration_id=current.declaration_id,
                direction=current.direction,
            )
            await self.undo(
                BROKER,
                LifecycleActivities.cancel_customs_declaration,
                undo,
                f"withdraw the {direction} declaration",
            )

    async def undo(
        self, partner: PartnerCalls, activity: Activity[Any, Undone], arg: Any, summary: str
    ) -> None:
        """One step, shielded from cancellation; its outcome (or failure) on the timeline."""
        step = asyncio.ensure_future(self._context.call(partner, activity, arg, summary))
        try:
            done = await asyncio.shield(step)
            self._note(TimelineKind.COMPENSATION, done.outcome)
        except ActivityError as err:
            message = err.cause.message if isinstance(err.cause, ApplicationError) else str(err)
            self._note(TimelineKind.COMPENSATION, f"could not {summary}", reason=message)
