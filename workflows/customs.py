"""Customs declarations: a pure fold of broker events and ops resolutions into a status.

A declaration goes file → SUBMITTED → ACCEPTED (MRN) → HELD (reason) ⇄ UNDER_REVIEW →
RELEASED | REJECTED, or CANCELLED when the shipment withdraws it. It lives inside the shipment's
state (``workflows.state``): the broker addresses the shipment, so its events reach the
declaration in the same workflow task, with no child workflow and no forwarding.

Rules: a status moves only along the canonical transitions (``canonical.customs``); an event
that would move it backwards (a late ACCEPTED after a HOLD) is kept but changes nothing; a
RELEASED or REJECTED without the ACCEPTED before it is accepted (the ACCEPTED webhook was lost);
a retraction folds the remaining steps again; a human resolution moves a HELD declaration to
UNDER_REVIEW. Every change of status bumps ``version``, so the shipment reacts once per change.

Bounded: at most ``KEEP_STEPS`` steps are kept; older ones are folded into the base state, so a
retraction of a step that old no longer refolds it (it is recorded and changes nothing).
"""

from datetime import datetime

from pydantic import BaseModel, Field

from canonical.customs import TRANSITIONS, CustomsDirection, DeclarationStatus
from canonical.events import EventClassifier, ShipmentEvent
from canonical.milestones import Milestone

S = DeclarationStatus
KEEP_STEPS = 200
"""Steps kept per declaration; a broker sends a handful per filing."""
STATUS_OF = {
    Milestone.CUSTOMS_SUBMITTED: S.SUBMITTED,
    Milestone.CUSTOMS_ACCEPTED: S.ACCEPTED,
    Milestone.CUSTOMS_HELD: S.HELD,
    Milestone.CUSTOMS_RELEASED: S.RELEASED,
    Milestone.CUSTOMS_REJECTED: S.REJECTED,
}


class CustomsState(BaseModel):
    """One declaration as the shipment shows it (``ShipmentStatus.customs``)."""

    direction: CustomsDirection
    country: str
    """Where it is filed: the origin country for an export, the destination for an import."""
    status: DeclarationStatus = DeclarationStatus.DRAFT
    declaration_id: str | None = None
    lrn: str | None = None
    mrn: str | None = None
    hold_reason: str | None = None
    resolution_note: str | None = None
    updated_at: datetime | None = None
    version: int = 0
    """Grows with every change of the fields above."""


class Step(BaseModel):
    """What moved the declaration: a broker event or a human resolution."""

    at: datetime
    event: ShipmentEvent | None = None
    resolution_note: str | None = None


class Declaration(BaseModel):
    """A declaration's base (as filed, plus steps folded away) and its recent steps."""

    base: CustomsState
    steps: list[Step] = Field(default_factory=list)
    withdrawn_at: datetime | None = None
    current: CustomsState

    @classmethod
    def draft(cls, direction: CustomsDirection, country: str) -> "Declaration":
        state = CustomsState(direction=direction, country=country)
        return cls(base=state, current=state)

    @property
    def filed(self) -> bool:
        return self.base.status is not S.DRAFT

    def file(self, declaration_id: str, lrn: str, at: datetime) -> bool:
        """The broker took the filing: SUBMITTED, then the steps that came meanwhile."""
        self.base = self.base.model_copy(
            update={
                "status": S.SUBMITTED,
                "declaration_id": declaration_id,
                "lrn": lrn,
                "updated_at": at,
            }
        )
        return self._refold()

    def add(self, step: Step) -> bool:
        """Apply a broker event or a resolution; ``True`` when the status changed."""
        if step.event is not None and any(
            s.event is not None and s.event.event_id == step.event.event_id for s in self.steps
        ):
            return False
        self.steps.append(step)
        if len(self.steps) > KEEP_STEPS:
            oldest, self.steps = self.steps[0], self.steps[1:]
            self.base = fold(self.base, [oldest])
        return self._refold()

    def withdraw(self, at: datetime) -> bool:
        """The shipment is cancelled: CANCELLED unless already final."""
        self.withdrawn_at = self.withdrawn_at or at
        return self._refold()

    def _refold(self) -> bool:
        if not self.filed:
            return False
        state = fold(self.base, self.steps)
        if self.withdrawn_at is not None and not state.status.is_final:
            state = state.model_copy(
                update={"status": S.CANCELLED, "updated_at": self.withdrawn_at}
            )
        if state.model_dump(exclude={"version"}) == self.current.model_dump(exclude={"version"}):
            return False
        self.current = state.model_copy(update={"version": self.current.version + 1})
        return True


def fold(state: CustomsState, steps: list[Step]) -> CustomsState:
    """The declaration after ``steps`` (in arrival order), from ``state``."""
    retracted = {s.event.retracts_event_id for s in steps if s.event and s.event.retracts_event_id}
    for step in steps:
        event = step.event
        if event is None:
            if state.status is S.HELD:
                state = state.model_copy(
                    update={
                        "status": S.UNDER_REVIEW,
                        "hold_reason": None,
                        "resolution_note": step.resolution_note,
                        "updated_at": step.at,
                    }
                )
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
    return state.model_copy(
        update={
            "status": target,
            "mrn": mrn or state.mrn,
            "hold_reason": (event.reason or "held") if target is S.HELD else None,
            "updated_at": event.occurred_at,
        }
    )
