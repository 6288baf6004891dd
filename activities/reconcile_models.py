"""Inputs and outputs of the reconciliation workflow and its activities (one model per call).

Everything here crosses the workflow's history, so it is kept compact: a shipment is seen as a
:class:`ShipmentSnapshot` (the few fields reconciliation compares), never as its full status.
"""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from canonical.events import ShipmentEvent
from canonical.milestones import Milestone
from canonical.partners import BUILT_IN
from canonical.shipment import References, Stage

DEFAULT_STALE_AFTER_MIN: dict[Stage, float] = {
    Stage.BOOK: 30.0,
    Stage.CUSTOMS: 120.0,
    Stage.DELIVERY: 360.0,
}
"""How long a shipment may go without a milestone in each stage before it is polled."""


class ReconcileInput(BaseModel):
    """What one reconciliation run checks; the schedule carries it (see the worker settings)."""

    stages: list[Stage] = Field(
        default_factory=lambda: [Stage.BOOK, Stage.CUSTOMS, Stage.DELIVERY], min_length=1
    )
    """Running shipments in these stages are checked."""
    stale_after_min: dict[Stage, float] = Field(
        default_factory=lambda: dict(DEFAULT_STALE_AFTER_MIN)
    )
    """Minutes without a milestone after which a shipment in that stage is stale (and polled);
    a stage not named here is never stale."""
    poll_always: list[str] = Field(default_factory=lambda: [p.name for p in BUILT_IN if p.polled])
    """Carriers that push no webhooks: their shipments are polled on every run, stale or not
    (default: the built-in ones; pure data, as this model is read in workflow code)."""
    carriers: list[str] | None = None
    """The carriers the workers serve (each on its own queue); a shipment of any other is
    reported, never polled (no worker would take the call). ``None``: every carrier."""
    max_shipments: int = Field(default=1000, ge=1)
    """At most this many shipments per run (the report says when more were running)."""
    concurrency: int = Field(default=8, ge=1, le=64)
    """Shipments worked on at the same time within a run."""


class SeenEvent(BaseModel):
    """One event the shipment's workflow has already recorded."""

    event_id: str
    milestone: Milestone
    partner: str


class ShipmentSnapshot(BaseModel):
    """What reconciliation needs of a shipment's ``status`` query."""

    shipment_id: str
    order_ref: str
    stage: Stage
    stage_since: datetime | None
    """When the current stage was reached."""
    last_event_at: datetime | None
    """When the newest partner event was recorded (received), if any."""
    carrier: str | None
    references: References
    seen: list[SeenEvent] = Field(default_factory=list)


class ListShipmentsInput(BaseModel):
    stages: list[Stage]
    max_shipments: int


class Unreachable(BaseModel):
    """A running shipment whose status could not be read (its worker down, a query failing)."""

    shipment_id: str
    reason: str


class ShipmentList(BaseModel):
    snapshots: list[ShipmentSnapshot]
    unreachable: list[Unreachable] = Field(default_factory=list)
    truncated: bool = False
    """More shipments were running than ``max_shipments``."""


class ReadShipmentInput(BaseModel):
    shipment_id: str


class ReadShipmentResult(BaseModel):
    snapshot: ShipmentSnapshot | None
    """``None``: the status could not be read."""


class PollCarrierInput(BaseModel):
    shipment_id: str
    carrier: str
    booking_reference: str
    """The carrier's id of the booking (EasyPost shipment id, DHL tracking number)."""
    tracking_number: str


class PollBrokerInput(BaseModel):
    shipment_id: str
    declaration_id: str


class PolledEvents(BaseModel):
    """Canonical events, oldest first, with the ids the partner's webhooks would give them."""

    events: list[ShipmentEvent]


class SignalEventsInput(BaseModel):
    shipment_id: str
    events: list[ShipmentEvent] = Field(min_length=1)


class SignalResult(BaseModel):
    signalled: int
    running: bool
    """False when the shipment's workflow had already ended (nothing was signalled)."""


class OdooRef(BaseModel):
    shipment_id: str
    order_ref: str
    picking_id: int | None = None
    invoice_id: int | None = None


class OdooViewInput(BaseModel):
    shipments: list[OdooRef] = Field(min_length=1)


class OdooInvoice(BaseModel):
    id: int
    name: str | None
    state: str


class OdooRecord(BaseModel):
    """Odoo's side of one shipment, as read now."""

    shipment_id: str
    order_state: str | None
    """``None``: no sale order of that name."""
    picking_found: bool = False
    picking_state: str | None = None
    tracking_ref: str | None = None
    invoices: list[OdooInvoice] = Field(default_factory=list)
    """Customer invoices of the order (by ``invoice_origin``) and the one the workflow names."""


class OdooView(BaseModel):
    records: list[OdooRecord]


class RepairTrackingRefInput(BaseModel):
    shipment_id: str
    picking_id: int
    tracking_number: str


class RepairResult(BaseModel):
    repaired: bool
    detail: str


class DriftCode(StrEnum):
    ORDER_MISSING = "order_missing"
    ORDER_CANCELLED = "order_cancelled"
    PICKING_MISSING = "picking_missing"
    PICKING_CANCELLED = "picking_cancelled"
    TRACKING_REF_MISSING = "tracking_ref_missing"
    TRACKING_REF_MISMATCH = "tracking_ref_mismatch"
    INVOICE_POSTED_EARLY = "invoice_posted_early"
    INVOICE_MISSING = "invoice_missing"
    INVOICE_NOT_POSTED = "invoice_not_posted"


class Drift(BaseModel):
    """One disagreement between Odoo and the workflow."""

    code: DriftCode
    detail: str
    repairable: bool = False
    """Safe to repair automatically (only ``tracking_ref_missing``)."""
    repaired: bool = False


class ShipmentFinding(BaseModel):
    """What one run found on one shipment (kept in the report when anything was found)."""

    shipment_id: str
    stage: Stage | None = None
    stale: bool = False
    events_found: int = 0
    """New events signalled into the workflow by this run."""
    milestones: list[Milestone] = Field(default_factory=list)
    """The milestones of those events, oldest first."""
    drifts: list[Drift] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)
    """What could not be checked (a poll failed, the status could not be read)."""


class ReconciliationReport(BaseModel):
    """One run: counts, and the shipments with something to say. Saved twice per run (started,
    then finished), under the same ``run_id``."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    shipments_checked: int = 0
    stale: int = 0
    events_found: int = 0
    drifted: int = 0
    repaired: int = 0
    problems: int = 0
    truncated: bool = False
    findings: list[ShipmentFinding] = Field(default_factory=list)
