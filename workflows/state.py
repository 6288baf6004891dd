"""The shipment's state: one model, carried whole through continue-as-new.

``ShipmentWorkflow`` (``workflows.shipment``) holds one ``ShipmentState`` and changes it only
through its own methods and the collaborators it composes (``EventLog``, ``SlaBook``,
``Declaration``); nothing is recomputed when a run continues as new, and the status query and
every ops update answer from it. Its size is bounded by design: the event log keeps a fixed
window (``workflows.progress``), declarations a fixed number of steps (``workflows.customs``),
and the timeline its newest ``KEEP_TIMELINE`` entries.
"""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from activities.models import CarrierBooking
from canonical.customs import CustomsDirection
from canonical.events import ShipmentEvent
from canonical.shipment import References, Shipment, Stage
from workflows.customs import Declaration
from workflows.ops import CancelInput
from workflows.policy import ShipmentPolicy
from workflows.progress import EventLogState
from workflows.sla import SlaBook

KEEP_TIMELINE = 500
"""Timeline entries kept (the oldest are in earlier runs' histories)."""
KEEP_PENDING_CUSTOMS = 200
"""Customs events kept while no declaration is filed yet."""


class StageReached(BaseModel):
    stage: Stage
    at: datetime


class TimelineKind(StrEnum):
    STAGE = "stage"
    EVENT = "event"
    SLA = "sla"
    OPS = "ops"
    CUSTOMS = "customs"
    COMPENSATION = "compensation"
    BOOKING = "booking"
    INVOICE = "invoice"


class TimelineEntry(BaseModel):
    """One line of the merged timeline (partner events are in ``events`` and merged by readers)."""

    at: datetime
    kind: TimelineKind
    title: str
    details: dict[str, str] = Field(default_factory=dict)


class ShipmentState(BaseModel):
    """Everything the shipment knows and has decided."""

    stage: Stage = Stage.ACCEPT
    stages: list[StageReached] = Field(default_factory=list)
    references: References = Field(default_factory=References)
    shipment: Shipment | None = None
    """The order as accepted, with the carrier currently booked (or being booked)."""
    policy: ShipmentPolicy | None = None
    booking: CarrierBooking | None = None
    booking_no: int = 0
    """Bookings asked for so far: each one has its own idempotency key at the carrier."""
    log: EventLogState = Field(default_factory=EventLogState)
    sla: SlaBook = Field(default_factory=SlaBook)
    declarations: list[Declaration] = Field(default_factory=list)
    customs_waiting: list[ShipmentEvent] = Field(default_factory=list)
    """Customs events that came before any declaration was filed (given to the first one)."""
    timeline: list[TimelineEntry] = Field(default_factory=list)
    timeline_trimmed: int = 0
    promised_date: datetime | None = None
    exception: str | None = None
    """Why the shipment waits for ops (stage EXCEPTION), or an open customs hold."""
    rejection: str | None = None
    """Why the order was rejected or the shipment cancelled."""
    cancel: CancelInput | None = None
    """Set by the ``cancel`` update: the lifecycle stops at its next wait and compensates."""
    resolution_carrier: str | None = None
    resolved: bool = False
    """Ops resolved an EXCEPTION (booking with ``resolution_carrier``, or the lane's first)."""
    invoice_provisional: bool = False
    runs: int = 1

    def declaration(self, direction: CustomsDirection) -> Declaration | None:
        return next((d for d in self.declarations if d.current.direction is direction), None)

    def note(self, entry: TimelineEntry) -> None:
        self.timeline.append(entry)
        if len(self.timeline) > KEEP_TIMELINE:
            self.timeline_trimmed += len(self.timeline) - KEEP_TIMELINE
            del self.timeline[: len(self.timeline) - KEEP_TIMELINE]
