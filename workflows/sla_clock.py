"""One SLA clock and its escalation levels (the data; ``workflows.sla`` has the rules)."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel


class SlaLevel(StrEnum):
    """The escalation ladder of one SLA clock, in order."""

    OK = "ok"
    WARN = "warn"
    BREACH = "breach"
    ESCALATED = "escalated"
    CRITICAL = "critical"


class SlaClock(BaseModel):
    """One SLA deadline: what must happen by when, and how far it has escalated."""

    clock: str
    """The policy's name for it: ``book``, ``pickup``, ``customs``, ``delivery``, ``invoice``."""
    started_at: datetime
    deadline: datetime
    level: SlaLevel = SlaLevel.OK
    met_at: datetime | None = None
