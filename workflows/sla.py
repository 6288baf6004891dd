"""SLA clocks and their escalation ladder (pure; the workflow runs the timers).

A clock starts when its stage starts (``book`` at acceptance, ``pickup`` at booking,
``customs`` at the first filing, ``delivery`` at acceptance with the promised date as its
deadline, ``invoice`` at proof of delivery) and stops when its goal is met. An open clock climbs
the ladder at fixed moments: WARN when ``warn_at`` of its budget is used, BREACH at the
deadline, ESCALATED at deadline + grace, CRITICAL at deadline + critical. Each rung is taken
once. Moving a deadline (an amended promised date, a new ETA) re-arms the rungs not yet taken.
"""

from datetime import datetime

from pydantic import BaseModel, Field

from workflows.policy import Escalation
from workflows.sla_clock import Clock, SlaClock, SlaLevel

LADDER = [SlaLevel.WARN, SlaLevel.BREACH, SlaLevel.ESCALATED, SlaLevel.CRITICAL]


class Rung(BaseModel):
    """The next escalation due: which clock, which level, when."""

    clock: Clock
    level: SlaLevel
    at: datetime


class SlaBook(BaseModel):
    """Every SLA clock of one shipment. Serializable: carried across continue-as-new."""

    clocks: list[SlaClock] = Field(default_factory=list)

    def get(self, name: Clock) -> SlaClock | None:
        return next((c for c in self.clocks if c.clock == name), None)

    def start(self, name: Clock, at: datetime, deadline: datetime) -> None:
        """Start ``name`` (once: starting a started clock changes nothing)."""
        if self.get(name) is None:
            self.clocks.append(SlaClock(clock=name, started_at=at, deadline=deadline))

    def meet(self, name: Clock, at: datetime) -> None:
        clock = self.get(name)
        if clock is not None and clock.met_at is None:
            clock.met_at = at

    def move(self, name: Clock, deadline: datetime) -> bool:
        """Move an open clock's deadline; ``True`` when it moved."""
        clock = self.get(name)
        if clock is None or clock.met_at is not None or clock.deadline == deadline:
            return False
        clock.deadline = deadline
        return True

    def next_rung(self, escalation: Escalation) -> Rung | None:
        """The earliest escalation still to take on any open clock."""
        due = [
            rung for clock in self.clocks if clock.met_at is None
            if (rung := _next_rung(clock, escalation)) is not None
        ]  # fmt: skip
        return min(due, key=lambda rung: rung.at, default=None)

    def climb(self, rung: Rung) -> SlaClock:
        clock = self.get(rung.clock)
        assert clock is not None
        clock.level = rung.level
        return clock

    def due(self, escalation: Escalation, eta: datetime | None, now: datetime) -> Rung | None:
        """The next escalation to take: a WARN on the delivery clock at once when the ETA is
        past its deadline, else the earliest rung of any open clock. The workflow keeps one
        timer on it and re-arms that timer only when this answer changes."""
        delivery = self.get(Clock.DELIVERY)
        if (
            delivery is not None and delivery.met_at is None and delivery.level is SlaLevel.OK
            and eta is not None and eta > delivery.deadline
        ):  # fmt: skip
            return Rung(clock=Clock.DELIVERY, level=SlaLevel.WARN, at=now)
        return self.next_rung(escalation)

    @property
    def breached(self) -> bool:
        return any(LADDER.index(c.level) >= 1 for c in self.clocks if c.level != SlaLevel.OK)


def _next_rung(clock: SlaClock, escalation: Escalation) -> Rung | None:
    taken = 0 if clock.level == SlaLevel.OK else LADDER.index(clock.level) + 1
    if taken >= len(LADDER):
        return None
    level = LADDER[taken]
    budget = clock.deadline - clock.started_at
    moments = {
        SlaLevel.WARN: clock.started_at + budget * escalation.warn_at,
        SlaLevel.BREACH: clock.deadline,
        SlaLevel.ESCALATED: clock.deadline + escalation.grace,
        SlaLevel.CRITICAL: clock.deadline + escalation.critical,
    }
    return Rung(clock=clock.clock, level=level, at=moments[level])
