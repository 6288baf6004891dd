"""Invoicing: wait (bounded) for the carrier's final charges, invoice once, tell finance.

The carrier is asked for its final charges ``CHARGES_POLLS`` times within the policy's charges
window; if they do not come, the booking's quote is invoiced flagged provisional. A charge in
another currency than the order's is not invoiced (a timeline line says so). The invoice is
created and posted once (the activity is idempotent per shipment); finance is told once.
"""

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.lifecycle import LifecycleActivities
    from activities.models import (
        CarrierBooking,
        FinalChargesInput,
        NotifyFinanceInput,
        ReleaseInvoiceInput,
    )
    from activities.shipment import ShipmentActivities
    from canonical.billing import Charge
    from workflows.context import ShipmentContext
    from workflows.partners import NOTIFY, ODOO, for_carrier
    from workflows.sla_clock import Clock
    from workflows.state import TimelineKind

CHARGES_POLLS = 4
"""How many times the carrier is asked for its final charges within the charges window."""


async def invoice(context: ShipmentContext) -> None:
    state = context.state
    assert state.policy is not None and state.booking is not None and state.shipment
    assert state.references.sale_order_id is not None
    charges = await _settled_charges(context, state.booking, state.policy.charges_window)
    currency = state.shipment.currency
    lines = [c for c in charges if c.amount.currency == currency]
    for other in (c for c in charges if c.amount.currency != currency):
        context.note(
            TimelineKind.INVOICE, "charge not invoiced: its currency differs",
            amount=f"{other.amount.amount} {other.amount.currency}",
        )  # fmt: skip
    release = ReleaseInvoiceInput(
        shipment_id=context.shipment_id, order_ref=context.input.order_ref,
        sale_order_id=state.references.sale_order_id, charges=lines,
    )  # fmt: skip
    posted = await context.call(
        ODOO, ShipmentActivities.release_invoice, release, "create and post the Odoo invoice"
    )
    context.refer(invoice_id=posted.invoice_id, invoice_name=posted.invoice_name)
    state.invoice_provisional = any(c.provisional for c in lines)
    context.note(
        TimelineKind.INVOICE, f"invoice {posted.invoice_name} posted",
        amount=f"{posted.amount_total} {posted.currency}",
        provisional=str(state.invoice_provisional).lower(),
    )  # fmt: skip
    notice = NotifyFinanceInput(
        shipment_id=context.shipment_id, order_ref=context.input.order_ref, invoice=posted,
        delivered_at=context.log.progress.delivered_at,
    )  # fmt: skip
    await context.call(NOTIFY, ShipmentActivities.notify_finance, notice, "notify finance")
    state.sla.meet(Clock.INVOICE, workflow.now())


async def _settled_charges(
    context: ShipmentContext, booking: CarrierBooking, window: timedelta
) -> list[Charge]:
    """The carrier's final charges if they come within ``window``, else its quote marked
    provisional."""
    deadline = workflow.now() + window
    request = FinalChargesInput(shipment_id=context.shipment_id, booking=booking)
    while True:
        found = await context.call(
            for_carrier(booking.carrier), LifecycleActivities.final_charges, request,
            "ask the carrier for its final charges",
        )  # fmt: skip
        if found.final:
            return found.charges
        left = deadline - workflow.now()
        if left <= timedelta(0):
            return [c.model_copy(update={"provisional": True}) for c in booking.charges]
        pause = min(left, window / CHARGES_POLLS)
        await workflow.sleep(pause, summary=f"final charges: ask the carrier again in {pause}")
