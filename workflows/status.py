"""What a shipment shows: the ``status`` query's answer and the Temporal UI's details line.

Both are read-only views of ``ShipmentState`` and its event log; neither changes anything, so
they may be computed at any time, in a query or after any step.
"""

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from canonical.shipment import Stage
    from workflows.models import ShipmentInput, ShipmentStatus
    from workflows.progress import EventLog
    from workflows.sla_clock import SlaLevel
    from workflows.state import ShipmentState


def status_of(
    shipment_id: str, input: ShipmentInput, state: ShipmentState, log: EventLog
) -> ShipmentStatus:
    progress = log.progress
    carrier = (
        state.booking.carrier
        if state.booking
        else state.shipment.carrier
        if state.shipment
        else input.carrier
    )
    return ShipmentStatus(
        shipment_id=shipment_id,
        order_ref=input.order_ref,
        stage=state.stage,
        stages=list(state.stages),
        references=state.references,
        events=list(log.events),
        shipment=state.shipment,
        rejection=state.rejection,
        carrier=carrier,
        transport_status=progress.status,
        eta=progress.eta,
        promised_date=state.promised_date,
        customs=[d.current for d in state.declarations],
        sla=list(state.sla.clocks),
        sla_breached=state.sla.breached,
        exception=state.exception,
        invoice_provisional=state.invoice_provisional,
        log=list(state.timeline),
        earlier_events=log.trimmed,
        earlier_log=state.timeline_trimmed,
    )


def details_line(order_ref: str, state: ShipmentState, log: EventLog) -> str:
    """The shipment in a few sentences (Markdown), for the Temporal UI's "current details"."""
    if state.stage in (Stage.REJECTED, Stage.CANCELLED):
        return f"Order {order_ref} was {state.stage.value}: {state.rejection}"
    parts = [f"Shipment of order {order_ref} is at stage **{state.stage.value}**."]
    if state.booking is not None:
        parts.append(f"Carrier {state.booking.carrier}, tracking {state.booking.tracking_number}.")
    progress = log.progress
    if progress.status is not None:
        parts.append(f"Goods: {progress.status.value.lower().replace('_', ' ')}.")
    if progress.eta is not None:
        parts.append(f"ETA {_day(progress.eta)}.")
    if state.promised_date is not None:
        parts.append(f"Promised {_day(state.promised_date)}.")
    if state.sla.breached:
        late = [c.clock for c in state.sla.clocks if c.level not in (SlaLevel.OK, SlaLevel.WARN)]
        parts.append(f"SLA breached: {', '.join(late)}.")
    if state.exception:
        parts.append(f"Waiting for ops: {state.exception}.")
    return " ".join(parts)


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")
