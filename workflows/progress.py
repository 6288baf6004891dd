"""How partner events move a shipment: ordering, estimates, retractions, proof of delivery.

Pure and deterministic (the workflow calls it; tests call it directly). The rules:
- Every distinct event is kept (the timeline); duplicates (same ``event_id``) are ignored.
- Only ACTUAL events that no later event retracted move the state. ESTIMATED and PLANNED ones
  of arrival or delivery only move the ETA.
- The goods' progress is ranked (picked up < departed < arrived < out for delivery < delivered
  < proof of delivery). An event never moves it backwards: a late, older scan is recorded but
  changes nothing. An EXCEPTION (or return to sender) re-opens a shipment that is not yet
  delivered; progress that happened after the exception closes it again.
- A retraction removes the retracted event and the state is folded again from the remaining
  events in ``occurred_at`` order.
- Customs milestones are not judged here: they belong to the declaration (``workflows.customs``).
"""

from datetime import datetime

from pydantic import BaseModel, Field

from canonical.events import EventClassifier, ShipmentEvent
from canonical.milestones import Milestone

M = Milestone
RANK: dict[Milestone, int] = {
    M.BOOKING_CONFIRMED: 1, M.LABEL_CREATED: 1, M.PICKED_UP: 2, M.DEPARTED: 3, M.IN_TRANSIT: 3,
    M.ARRIVED: 4, M.AVAILABLE_FOR_PICKUP: 5, M.OUT_FOR_DELIVERY: 5, M.DELIVERY_ATTEMPTED: 5,
    M.DELIVERED: 6, M.POD_RECEIVED: 7,
}  # fmt: skip
REOPENING = frozenset({M.EXCEPTION, M.RETURN_TO_SENDER})
ETA_MILESTONES = frozenset({M.ARRIVED, M.OUT_FOR_DELIVERY, M.DELIVERED})
CUSTOMS = frozenset(
    {M.CUSTOMS_SUBMITTED, M.CUSTOMS_ACCEPTED, M.CUSTOMS_HELD, M.CUSTOMS_RELEASED,
     M.CUSTOMS_REJECTED}
)  # fmt: skip
DELIVERED_RANK = RANK[M.DELIVERED]


class Progress(BaseModel):
    """The goods' state as the events tell it. Serializable: it is carried across
    continue-as-new."""

    furthest: Milestone | None = None
    furthest_at: datetime | None = None
    exception: ShipmentEvent | None = None
    """The open exception, if any (cleared by progress that happened after it)."""
    eta: datetime | None = None
    delivered_at: datetime | None = None
    proof_event_id: str | None = None
    """The DELIVERED / POD_RECEIVED event that carries a proof of delivery."""

    @property
    def status(self) -> Milestone | None:
        return M.EXCEPTION if self.exception is not None else self.furthest

    @property
    def delivered_with_proof(self) -> bool:
        return self.proof_event_id is not None

    def has_reached(self, milestone: Milestone) -> bool:
        return self.furthest is not None and RANK[self.furthest] >= RANK[milestone]

    def apply(self, event: ShipmentEvent) -> None:
        """Fold one standing event (not a retraction, not retracted) into the state."""
        if event.classifier is not EventClassifier.ACTUAL:
            if event.milestone in ETA_MILESTONES and self.delivered_at is None:
                self.eta = event.occurred_at
            return
        at = event.occurred_at
        if event.milestone in REOPENING:
            if self.delivered_at is None and (self.furthest_at is None or at >= self.furthest_at):
                self.exception = event
            return
        rank = RANK.get(event.milestone)
        if rank is None:
            return
        if self.exception is not None and at >= self.exception.occurred_at:
            self.exception = None
        if self.furthest is None or rank > RANK[self.furthest]:
            self.furthest, self.furthest_at = event.milestone, at
        if rank >= DELIVERED_RANK:
            self.delivered_at = self.delivered_at or at
            if event.proof_of_delivery is not None and self.proof_event_id is None:
                self.proof_event_id = event.event_id


class EventLogState(BaseModel):
    """An ``EventLog`` as data: what a shipment carries across continue-as-new."""

    events: list[ShipmentEvent] = Field(default_factory=list)
    seen: list[str] = Field(default_factory=list)
    """Ids of every event ever received, also of events dropped from ``events`` (see trim)."""
    progress: Progress = Field(default_factory=Progress)
    trimmed: int = 0
    """How many of the oldest events were left in earlier runs' histories (continue-as-new)."""


class EventLog:
    """Every distinct event of a shipment, and the progress they add up to.

    A plain class with indexes, so that each event costs O(1) even with thousands of them
    (a workflow activation must stay well under the SDK's two-second deadlock limit).
    """

    def __init__(self, state: EventLogState | None = None) -> None:
        state = state or EventLogState()
        self.events: list[ShipmentEvent] = list(state.events)
        self.seen: list[str] = list(state.seen)
        self.progress: Progress = state.progress
        self.trimmed = state.trimmed
        self._index()

    def _index(self) -> None:
        self._seen_set = set(self.seen)
        self._retracted_ids = {e.retracts_event_id for e in self.events if e.retracts_event_id}
        self._milestones = {e.event_id: e.milestone for e in self.events}

    def state(self) -> EventLogState:
        return EventLogState(
            events=self.events, seen=self.seen, progress=self.progress, trimmed=self.trimmed
        )

    def milestone_of(self, event_id: str | None) -> Milestone | None:
        """The milestone of a recorded event (among those still listed)."""
        return None if event_id is None else self._milestones.get(event_id)

    def add(self, event: ShipmentEvent) -> bool:
        """Record ``event``; ``False`` when it is a duplicate."""
        event_id = event.event_id
        if event_id in self._seen_set:
            return False
        self.seen.append(event_id)
        self._seen_set.add(event_id)
        self.events.append(event)
        self._milestones[event_id] = event.milestone
        retracts = event.retracts_event_id
        if retracts is not None:
            self._retracted_ids.add(retracts)
            self._refold()
        elif event.milestone not in CUSTOMS and event_id not in self._retracted_ids:
            self.progress.apply(event)
        return True

    def standing(self) -> list[ShipmentEvent]:
        """Events that are not retractions and were not retracted, in ``occurred_at`` order."""
        retracted = self._retracted_ids
        kept = [
            e for e in self.events
            if e.retracts_event_id is None and e.event_id not in retracted
        ]  # fmt: skip
        return sorted(kept, key=lambda e: e.occurred_at)

    def trim(self, keep: int) -> None:
        """Keep the newest ``keep`` events (their ids stay in ``seen`` for deduplication)."""
        if len(self.events) > keep:
            self.trimmed += len(self.events) - keep
            self.events = self.events[-keep:]
            self._index()

    def _refold(self) -> None:
        progress = Progress()
        for event in self.standing():
            if event.milestone not in CUSTOMS:
                progress.apply(event)
        self.progress = progress
