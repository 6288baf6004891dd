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


class Clock(StrEnum):
    """The SLA clocks a shipment runs, each named after the goal that stops it."""

    BOOK = "book"
    """Accepted → booked with a carrier."""
    PICKUP = "pickup"
    """Booked → picked up by the carrier."""
    CUSTOMS = "customs"
    """First filing → every declaration released."""
    DELIVERY = "delivery"
    """Accepted → delivered, by the promised date."""
    INVOICE = "invoice"
    """Proof of delivery → invoice posted."""


class SlaClock(BaseModel):
    """One SLA deadline: what must happen by when, and how far it has escalated."""

    clock: Clock
    started_at: datetime
    deadline: datetime
    level: SlaLevel = SlaLevel.OK
    met_at: datetime | None = None
