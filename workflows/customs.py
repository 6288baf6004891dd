"""CustomsWorkflow: one customs declaration, from filing to release, as a child of a shipment.

file → SUBMITTED → ACCEPTED (MRN) → HELD (reason) ⇄ UNDER_REVIEW → RELEASED | REJECTED, or
CANCELLED when the shipment withdraws it. Broker events reach it through its shipment (the
broker addresses the shipment); a hold ends with a broker update or a human resolution
(``resolve``). Every change is reported to the shipment by the ``customs_progress`` signal, in
order (each report carries a growing ``version``), so the shipment never needs to query it and
keeps working across its own continue-as-new (the child is started with ``ABANDON``).

Rules: a status moves only along the canonical transitions (``canonical.customs``); an event
that would move it backwards (a late ACCEPTED after a HOLD) is kept but changes nothing; a
RELEASED or REJECTED without the ACCEPTED before it is accepted (the ACCEPTED webhook was lost);
a retraction folds the remaining events again.
"""

from datetime import datetime

from pydantic import BaseModel, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.models import FileCustomsInput, FiledDeclaration
    from canonical.customs import TRANSITIONS, CustomsDirection, DeclarationStatus
    from canonical.events import EventClassifier, ShipmentEvent
    from canonical.milestones import Milestone
    from canonical.shipment import Shipment
    from workflows.models import CustomsState
    from workflows.partners import BROKER

S = DeclarationStatus
STATUS_OF = {
    Milestone.CUSTOMS_SUBMITTED: S.SUBMITTED,
    Milestone.CUSTOMS_ACCEPTED: S.ACCEPTED,
    Milestone.CUSTOMS_HELD: S.HELD,
    Milestone.CUSTOMS_RELEASED: S.RELEASED,
    Milestone.CUSTOMS_REJECTED: S.REJECTED,
}


class CustomsInput(BaseModel):
    shipment_id: str
    shipment: Shipment
    tracking_number: str
    direction: CustomsDirection
    country: str
    """Where it is filed: the origin country for an export, the destination for an import."""
    events: list[ShipmentEvent] = Field(default_factory=list)
    """Customs events the shipment received before this declaration started."""
    region: str | None = None
    """The shipment's region: the broker is called on that region's queue."""


class Step(BaseModel):
    """What moved the declaration: a broker event or a human resolution."""

    at: datetime
    event: ShipmentEvent | None = None
    resolution_note: str | None = None


def fold(state: CustomsState, steps: list[Step]) -> CustomsState:
    """The declaration after ``steps`` (in arrival order), from its filed state."""
    retracted = {s.event.retracts_event_id for s in steps if s.event and s.event.retracts_event_id}
    for step in steps:
        event = step.event
        if event is None:
            if state.status is S.HELD:
                state = state.model_copy(update={
                    "status": S.UNDER_REVIEW, "hold_reason": None,
                    "resolution_note": step.resolution_note, "updated_at": step.at,
                })  # fmt: skip
            continue
        if (
            event.retracts_event_id is not None
            or event.event_id in retracted
            or event.classifier is not EventClassifier.ACTUAL
            or event.milestone not in STATUS_OF
        ):
            continue
        state = _moved(state, STATUS_OF[event.milestone], event)
    return state


def _moved(state: CustomsState, target: DeclarationStatus, event: ShipmentEvent) -> CustomsState:
    current = state.status
    allowed = target in TRANSITIONS[current] or (
        current is S.SUBMITTED and target in TRANSITIONS[S.ACCEPTED]
    )
    if not allowed:
        return state
    reason = event.reason or ""
    mrn = reason.removeprefix("MRN ").strip() if reason.startswith("MRN ") else None
    return state.model_copy(update={
        "status": target,
        "mrn": mrn or state.mrn,
        "hold_reason": (event.reason or "held") if target is S.HELD else None,
        "updated_at": event.occurred_at,
    })  # fmt: skip


@workflow.defn
class CustomsWorkflow:
    @workflow.init
    def __init__(self, input: CustomsInput) -> None:
        self._input = input
        self._filed = CustomsState(
            direction=input.direction, country=input.country,
            workflow_id=workflow.info().workflow_id,
        )  # fmt: skip
        self._state = self._filed
        self._steps = [Step(at=e.recorded_at, event=e) for e in input.events]
        self._reported = -1
        self._withdrawn = False

    @workflow.run
    async def run(self, input: CustomsInput) -> CustomsState:
        lrn_key = "export" if input.direction is CustomsDirection.EXPORT else input.direction.value
        filing = FileCustomsInput(
            shipment_id=input.shipment_id, shipment=input.shipment,
            tracking_number=input.tracking_number, direction=input.direction,
        )  # fmt: skip
        filed: FiledDeclaration = await workflow.execute_activity(
            "file_customs", filing, result_type=FiledDeclaration,
            **BROKER.activity_config(f"file the {lrn_key} declaration", input.region),
        )  # fmt: skip
        self._filed = self._filed.model_copy(update={
            "status": S.SUBMITTED, "declaration_id": filed.declaration_id, "lrn": filed.lrn,
            "updated_at": workflow.now(),
        })  # fmt: skip
        self._refold()
        while True:
            await workflow.wait_condition(
                lambda: self._reported != self._state.version or self._state.status.is_final
            )
            if self._reported != self._state.version:
                await self._report()
            if self._state.status.is_final and self._reported == self._state.version:
                await workflow.wait_condition(workflow.all_handlers_finished)
                return self._state

    async def _report(self) -> None:
        parent = workflow.info().parent
        version = self._state.version
        if parent is not None:
            handle = workflow.get_external_workflow_handle(parent.workflow_id)
            await handle.signal("customs_progress", self._state)
        self._reported = version

    def _refold(self) -> None:
        state = fold(self._filed, self._steps)
        if self._withdrawn and not state.status.is_final:
            state = state.model_copy(update={"status": S.CANCELLED, "updated_at": workflow.now()})
        if state.model_dump(exclude={"version"}) != self._state.model_dump(exclude={"version"}):
            self._state = state.model_copy(update={"version": self._state.version + 1})

    @workflow.signal
    def broker_event(self, event: ShipmentEvent) -> None:
        """A customs event for this declaration (forwarded by the shipment, deduplicated)."""
        if any(s.event and s.event.event_id == event.event_id for s in self._steps):
            return
        self._steps.append(Step(at=workflow.now(), event=event))
        if self._filed.status is not S.DRAFT:
            self._refold()

    @workflow.signal
    def resolve(self, note: str) -> None:
        """Ops supplied what customs asked for: a HELD declaration goes back to review."""
        self._steps.append(Step(at=workflow.now(), resolution_note=note))
        if self._filed.status is not S.DRAFT:
            self._refold()

    @workflow.signal
    def withdraw(self) -> None:
        """The shipment is cancelled: the declaration ends CANCELLED unless already final."""
        self._withdrawn = True
        if self._filed.status is not S.DRAFT:
            self._refold()

    @workflow.query
    def state(self) -> CustomsState:
        return self._state
