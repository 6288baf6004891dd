"""How partner events move a shipment: ordering, estimates, retractions, proof of delivery.

Pure and deterministic (the workflow calls it; tests call it directly). The rules:
- Every distinct event is recorded once (the timeline); repeats (same ``event_id``) are ignored.
- Only ACTUAL events that no later event retracted move the state. ESTIMATED and PLANNED ones
  of arrival or delivery only move the ETA.
- The goods' progress is ranked (picked up < departed < arrived < out for delivery < delivered
  < proof of delivery). An event never moves it backwards: a late, older scan is recorded but
  changes nothing. An EXCEPTION (or return to sender) re-opens a shipment that is not yet
  delivered; progress that happened after the exception closes it again.
- The vendor's own current status (``EventBatch.current_event_id``: EasyPost ``status``,
  AfterShip ``tag``, Shippo ``tracking_status``, DCSA by classifier and time) outranks the
  times, which vendors' scans can contradict: after the batch's events, a standing ACTUAL
  current event that is an EXCEPTION (or return to sender) opens the exception unless the goods
  are delivered, however old its time; a current progress event closes an open exception of the
  same partner, however old its time (an exception another partner or ops reported closes only
  by the rule above). Progress never moves backwards for it: a current IN_TRANSIT after
  DELIVERED changes nothing. The log remembers that event until another ACTUAL event arrives,
  and a retraction's fold follows it again; a current event the log does not hold (trimmed,
  retracted, never received) changes nothing.
- A retraction of an event the log still holds removes it, and the state is folded again: the
  fold of the events already trimmed (``base``), then the held events in ``occurred_at`` order.
  A retraction of an event no longer held (or not yet received) is recorded and changes
  nothing now; the retracted id is remembered (the newest ``KEEP_RETRACTED``), so the event is
  never applied if it arrives later.
- Customs milestones are not judged here: they belong to the declaration (``workflows.customs``).

Bounded by design (continue-as-new carries ``EventLogState``, whose size has a fixed maximum):
- ``events`` holds the newest ``KEEP_EVENTS`` by arrival; older ones are counted in ``trimmed``
  (they are in the workflow's history) and folded into ``base``. Trimming happens on each add.
- Deduplication keeps *windows*: per partner (``source.partner``) one for its ACTUAL events and
  one for its ESTIMATED/PLANNED ones (an estimate's ``occurred_at`` is in the future: it must
  not crowd real scans out, nor push their mark). A window holds the ids of its newest events by
  ``occurred_at`` (stable across redeliveries, unlike ``recorded_at``), at most ``KEEP_IDS`` ids
  in all windows together (beyond that, the fullest window evicts its oldest), and a
  *watermark*: the newest ``occurred_at`` it ever evicted. ``KEEP_PARTNERS`` partners get
  windows of their own; any further partner shares one more pair.
- An event is a repeat when its id is held in ``events`` or in its window, or when its
  ``occurred_at`` is at or below its window's watermark (older than everything the window still
  holds), unless it would move the goods forward (a higher rank, or the first proof of delivery)
  or is a retraction: those are recorded anyway, because a repeat of one changes nothing (every
  standing event already counts in the progress) and losing a real one could stall the shipment.
- The one lossy corner: a genuinely new event older than the whole window of its partner's
  newer events of its kind (so only after more than a window of them), and that would not move
  the goods forward, is taken for a repeat and dropped: an old IN_TRANSIT scan, a stale
  estimate, a stale customs milestone. A repeat is recorded twice only when it is a retraction
  (harmless) or an event retracted more than ``KEEP_RETRACTED`` retractions ago.
Each add costs O(log n) comparisons plus list moves of at most ``KEEP_IDS`` pointers; a state is
rebuilt in O(its size).
"""

from bisect import insort
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

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

KEEP_EVENTS = 500
"""Events held (and carried across continue-as-new); older ones are in the history."""
KEEP_IDS = 2_000
"""Event ids kept for deduplication, all partners together."""
KEEP_PARTNERS = 16
"""Partners with a window of their own; any further partner shares one more window."""
KEEP_RETRACTED = 500
"""Retracted event ids remembered (the newest)."""


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

    def would_advance(self, event: ShipmentEvent) -> bool:
        """Whether folding ``event`` would move the goods forward: a higher rank than the
        furthest, or the first proof of delivery."""
        rank = RANK.get(event.milestone)
        if event.classifier is not EventClassifier.ACTUAL or rank is None:
            return False
        if self.furthest is None or rank > RANK[self.furthest]:
            return True
        proof = event.proof_of_delivery is not None and self.proof_event_id is None
        return rank >= DELIVERED_RANK and proof

    def follow_current(self, event: ShipmentEvent) -> None:
        """Follow the vendor's own current status, ``event`` (standing, already folded by
        ``apply``), whatever the times: an exception opens unless the goods are delivered;
        progress closes an exception of the same partner. The rank is left as it is."""
        if event.classifier is not EventClassifier.ACTUAL:
            return
        if event.milestone in REOPENING:
            if self.delivered_at is None:
                self.exception = event
            return
        open_ = self.exception
        if event.milestone in RANK and open_ is not None:
            if open_.source.partner == event.source.partner:
                self.exception = None

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


class PartnerIds(BaseModel):
    """One deduplication window: the ids of a partner's newest events, and the mark below."""

    partner: str | None
    """``None``: the window shared by the partners beyond ``KEEP_PARTNERS``."""
    actual: bool = True
    """ACTUAL events, or ESTIMATED and PLANNED ones."""
    ids: list[tuple[AwareDatetime, str]] = Field(default_factory=list)
    """``(occurred_at, event_id)``, oldest first."""
    watermark: AwareDatetime | None = None
    """The newest ``occurred_at`` evicted from ``ids``: anything at or below it counts as seen."""


class EventLogState(BaseModel):
    """An ``EventLog`` as data: what a shipment carries across continue-as-new. Its size is
    bounded: ``KEEP_EVENTS`` events, ``KEEP_IDS`` ids, ``2 * (KEEP_PARTNERS + 1)`` windows,
    ``KEEP_RETRACTED`` retracted ids, two ``Progress``, one current event id."""

    events: list[ShipmentEvent] = Field(default_factory=list)
    progress: Progress = Field(default_factory=Progress)
    trimmed: int = 0
    """How many of the oldest events were dropped from ``events`` (they are in the history)."""
    base: Progress = Field(default_factory=Progress)
    """The fold of the trimmed events: where a retraction's fold starts."""
    partners: list[PartnerIds] = Field(default_factory=list)
    retracted: list[tuple[str, Milestone | None]] = Field(default_factory=list)
    """Retracted event ids, oldest first, with the milestone when it was known."""
    current: str | None = None
    """The vendor's current event followed last, while no ACTUAL event arrived after it."""
    seen: list[str] = Field(default_factory=list)
    """Only in states carried by an earlier version (every id ever seen): honoured for the run
    that reads it, never carried again."""


WindowKey = tuple[str | None, bool]
"""``(partner, actual)``; partner ``None`` is the shared window."""


class _Window:
    """A ``PartnerIds`` while the workflow runs: a sorted list plus a set."""

    __slots__ = ("entries", "ids", "watermark")

    def __init__(self, data: PartnerIds) -> None:
        self.entries = sorted(data.ids)
        self.ids = {event_id for _, event_id in self.entries}
        self.watermark = data.watermark

    def below(self, key: datetime) -> bool:
        """At or below the watermark: older than everything the window holds."""
        return self.watermark is not None and key <= self.watermark

    def add(self, key: datetime, event_id: str) -> None:
        insort(self.entries, (key, event_id))
        self.ids.add(event_id)

    def evict_oldest(self) -> None:
        key, event_id = self.entries.pop(0)
        self.ids.discard(event_id)
        self.watermark = key if self.watermark is None else max(self.watermark, key)


class EventLog:
    """The distinct events of a shipment (the newest ``KEEP_EVENTS``), the progress they add up
    to, and what deduplication needs; see the module docstring for the rules and bounds.

    A plain class with indexes, so that each event costs O(log n) and a rebuild O(state size):
    a workflow activation must stay well under the SDK's two-second deadlock limit.
    """

    def __init__(self, state: EventLogState | None = None) -> None:
        state = state or EventLogState()
        self.events: list[ShipmentEvent] = list(state.events)
        self.progress: Progress = state.progress.model_copy(deep=True)
        self.trimmed = state.trimmed
        self._base = state.base.model_copy(deep=True)
        self._held = {e.event_id: e.milestone for e in self.events}
        self._retracted: dict[str, Milestone | None] = dict(state.retracted)
        self._windows: dict[WindowKey, _Window] = {
            (w.partner, w.actual): _Window(w) for w in state.partners
        }
        self._partners = {w.partner for w in state.partners if w.partner is not None}
        self._ids = sum(len(w.entries) for w in self._windows.values())
        self._earlier = frozenset(state.seen)
        self._current = state.current
        if state.seen and not state.partners:  # carried by an earlier version
            for event in self.events:
                self._remember(event)

    def state(self) -> EventLogState:
        return EventLogState(
            events=list(self.events), progress=self.progress.model_copy(deep=True),
            trimmed=self.trimmed, base=self._base.model_copy(deep=True),
            retracted=list(self._retracted.items()), current=self._current,
            partners=[PartnerIds(partner=partner, actual=actual, ids=list(w.entries),
                                 watermark=w.watermark)
                      for (partner, actual), w in self._windows.items()],
        )  # fmt: skip

    def milestone_of(self, event_id: str | None) -> Milestone | None:
        """The milestone of a held event, or of a retracted one that was held."""
        if event_id is None:
            return None
        return self._held.get(event_id) or self._retracted.get(event_id)

    def add_all(self, events: list[ShipmentEvent]) -> list[ShipmentEvent]:
        """Record each event in order; the ones that were new, in order."""
        return [event for event in events if self.add(event)]

    def add(self, event: ShipmentEvent) -> bool:
        """Record ``event``; ``False`` when it is a repeat (see the module docstring)."""
        if self._is_repeat(event):
            return False
        event_id = event.event_id
        self._remember(event)
        self.events.append(event)
        self._held[event_id] = event.milestone
        retracts = event.retracts_event_id
        if retracts is not None:
            self._retract(retracts)
        elif event.milestone not in CUSTOMS and event_id not in self._retracted:
            self.progress.apply(event)
            if event.classifier is EventClassifier.ACTUAL:
                self._current = None  # a later word than the vendor's current status
        if len(self.events) > KEEP_EVENTS:
            self.trim(KEEP_EVENTS)
        return True

    def follow(self, event_id: str | None) -> None:
        """After a batch: follow the vendor's current event ``event_id`` (see the rules) when
        the log holds it standing, ACTUAL and not customs; otherwise nothing changes."""
        event = self._standing_actual(event_id)
        self._current = event.event_id if event is not None else None
        if event is not None:
            self.progress.follow_current(event)

    def standing(self) -> list[ShipmentEvent]:
        """Held events that are not retractions and were not retracted, by ``occurred_at``."""
        retracted = self._retracted
        kept = [
            e for e in self.events
            if e.retracts_event_id is None and e.event_id not in retracted
        ]  # fmt: skip
        return sorted(kept, key=lambda e: e.occurred_at)

    def trim(self, keep: int) -> None:
        """Keep the newest ``keep`` events; the others are folded into ``base``."""
        cut = len(self.events) - keep
        if cut <= 0:
            return
        for event in self.events[:cut]:
            del self._held[event.event_id]
            if self._counts(event):
                self._base.apply(event)
        del self.events[:cut]
        self.trimmed += cut

    def _is_repeat(self, event: ShipmentEvent) -> bool:
        event_id = event.event_id
        if event_id in self._held or event_id in self._earlier:
            return True
        window = self._window(event, create=False)
        if window is None:
            return False
        if event_id in window.ids:
            return True
        if not window.below(event.occurred_at):
            return False
        # Older than the window: a repeat, unless recording it matters (see the rules).
        if event.retracts_event_id is not None:
            return False
        return not (self._counts(event) and self.progress.would_advance(event))

    def _counts(self, event: ShipmentEvent) -> bool:
        """Whether ``event`` moves the goods: not a retraction, not retracted, not customs."""
        return (
            event.retracts_event_id is None and event.event_id not in self._retracted
            and event.milestone not in CUSTOMS
        )  # fmt: skip

    def _standing_actual(self, event_id: str | None) -> ShipmentEvent | None:
        """The held event ``event_id`` if it counts and is ACTUAL (newest arrival first)."""
        if event_id is None or event_id not in self._held:
            return None
        event = next(e for e in reversed(self.events) if e.event_id == event_id)
        actual = event.classifier is EventClassifier.ACTUAL
        return event if actual and self._counts(event) else None

    def _window(self, event: ShipmentEvent, *, create: bool) -> _Window | None:
        partner = event.source.partner
        known = partner in self._partners or len(self._partners) < KEEP_PARTNERS
        owner = partner if known else None
        key = (owner, event.classifier is EventClassifier.ACTUAL)
        window = self._windows.get(key)
        if window is None and create:
            if owner is not None:
                self._partners.add(owner)
            window = self._windows[key] = _Window(PartnerIds(partner=owner, actual=key[1]))
        return window

    def _remember(self, event: ShipmentEvent) -> None:
        window = self._window(event, create=True)
        assert window is not None
        window.add(event.occurred_at, event.event_id)
        self._ids += 1
        if self._ids > KEEP_IDS:
            fullest = max(self._windows.values(), key=lambda w: len(w.entries))
            fullest.evict_oldest()
            self._ids -= 1

    def _retract(self, event_id: str) -> None:
        held = event_id in self._held and event_id not in self._retracted
        self._retracted[event_id] = self._held.get(event_id) or self._retracted.get(event_id)
        while len(self._retracted) > KEEP_RETRACTED:
            del self._retracted[next(iter(self._retracted))]
        if held:
            self._refold()

    def _refold(self) -> None:
        progress = self._base.model_copy(deep=True)
        for event in self.standing():
            if event.milestone not in CUSTOMS:
                progress.apply(event)
        current = self._standing_actual(self._current)
        if current is not None:
            progress.follow_current(current)
        self.progress = progress
