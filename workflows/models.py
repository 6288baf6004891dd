"""The shipment workflow's contract: its input, its status query, its search attributes."""

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from temporalio.common import SearchAttributeKey

from activities.models import AcceptedOrder, CarrierBooking
from canonical.codes import CarrierName, OrderRef, Rfc3339
from canonical.customs import CustomsDirection, DeclarationStatus
from canonical.events import ShipmentEvent
from canonical.goods import Package
from canonical.milestones import Milestone
from canonical.shipment import References, ServiceLevel, Shipment, Stage
from workers.regions import REGION_PATTERN
from workflows.policy import ShipmentPolicy
from workflows.progress import EventLogState
from workflows.sla import SlaBook
from workflows.sla_clock import SlaClock as SlaClock
from workflows.sla_clock import SlaLevel as SlaLevel

TASK_QUEUE = "borderflow-shipments"
MAX_PACKAGES = 200
"""The most packages one shipment takes: more handling units than that is a freight consignment,
not a parcel shipment. Every package is in the workflow's history, so the input stays small."""

SHIPMENT_STATUS = SearchAttributeKey.for_keyword("ShipmentStatus")
"""The shipment's current stage, for filtering in the Temporal UI: ``ShipmentStatus="customs"``."""
ORDER_REF = SearchAttributeKey.for_keyword("OrderRef")
"""The Odoo sale order name: ``OrderRef="S00042"``."""
CARRIER = SearchAttributeKey.for_keyword("Carrier")
"""The carrier currently booked (or being booked): ``Carrier="dhl"``."""
LANE = SearchAttributeKey.for_keyword("Lane")
"""Origin and destination countries: ``Lane="DE-US"``."""
CUSTOMER = SearchAttributeKey.for_keyword("Customer")
"""The ordering customer's ERP id (``References.customer_id``, Odoo ``res.partner``):
``Customer="42"``. Never a name: search attributes are indexed in clear, even with payload
encryption, so none of them carries personal data."""
SLA_BREACHED = SearchAttributeKey.for_bool("SlaBreached")
"""True once any SLA deadline of the shipment has passed unmet."""
CUSTOMS_STATUS = SearchAttributeKey.for_keyword("CustomsStatus")
"""The status of the declaration in progress (or the last one): ``CustomsStatus="HELD"``."""

SEARCH_ATTRIBUTES = {
    SHIPMENT_STATUS.name: "Keyword",
    ORDER_REF.name: "Keyword",
    CARRIER.name: "Keyword",
    LANE.name: "Keyword",
    CUSTOMER.name: "Keyword",
    SLA_BREACHED.name: "Bool",
    CUSTOMS_STATUS.name: "Keyword",
}
"""Every custom search attribute the workflows upsert, with its type, for server registration."""


class ShipmentInput(BaseModel):
    """What ops give to start a shipment; everything else is read from Odoo."""

    order_ref: OrderRef
    carrier: CarrierName = "easypost"
    """The preferred carrier; the lane's other carriers are the fallbacks."""
    service_level: ServiceLevel = ServiceLevel.STANDARD
    packages: list[Package] = Field(min_length=1, max_length=MAX_PACKAGES)
    """At most 200 handling units: more is a freight consignment, booked another way."""
    promised_date: Rfc3339 | None = None
    """Delivery promised to the customer; by default acceptance + the service level's days."""
    region: str | None = Field(default=None, pattern=REGION_PATTERN, max_length=32)
    """Where its partner calls run: on ``borderflow-<partner>-<region>`` queues, polled by
    workers started with ``BORDERFLOW_REGION=<region>``; by default the global queues."""
    resume: SkipJsonSchema["ShipmentResume | None"] = None
    """Set only by the workflow itself when it continues as new: the state it carries over."""


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


class CustomsState(BaseModel):
    """One declaration as its child workflow (``CustomsWorkflow``) reports it."""

    direction: CustomsDirection
    country: str
    workflow_id: str
    status: DeclarationStatus = DeclarationStatus.DRAFT
    declaration_id: str | None = None
    lrn: str | None = None
    mrn: str | None = None
    hold_reason: str | None = None
    resolution_note: str | None = None
    updated_at: datetime | None = None
    version: int = 0
    """Grows with every change, so the shipment applies reports in order."""


class ShipmentStatus(BaseModel):
    """The answer of the ``status`` query and of every ops update: the shipment at a glance."""

    shipment_id: str
    order_ref: str
    stage: Stage
    stages: list[StageReached]
    references: References
    events: list[ShipmentEvent]
    """Every distinct partner event received, in arrival order."""
    shipment: Shipment | None = None
    rejection: str | None = None
    carrier: str | None = None
    transport_status: Milestone | None = None
    """The furthest milestone of the goods (by occurred_at; never moves backwards)."""
    eta: datetime | None = None
    promised_date: datetime | None = None
    customs: list[CustomsState] = Field(default_factory=list)
    sla: list[SlaClock] = Field(default_factory=list)
    sla_breached: bool = False
    exception: str | None = None
    """Why the shipment waits for ops (stage EXCEPTION), or an open customs hold."""
    invoice_provisional: bool = False
    """The invoice was released before the carrier's final charges arrived."""
    log: list[TimelineEntry] = Field(default_factory=list)
    """What the workflow did and decided: bookings, SLA escalations, ops actions, compensation."""
    earlier_events: int = 0
    """Events received in earlier runs (continue-as-new) that ``events`` no longer lists."""


class AcceptedShipment(BaseModel):
    """The answer of the ``accept`` update (update-with-start of ``POST /v1/shipments``)."""

    first: bool
    """True for the call that started the shipment; repeats (same order) get False."""
    status: ShipmentStatus


class ShipmentResume(BaseModel):
    """Everything a shipment carries across continue-as-new (nothing is recomputed)."""

    stage: Stage
    stages: list[StageReached]
    references: References
    accepted: AcceptedOrder | None
    shipment: Shipment | None
    policy: ShipmentPolicy | None
    booking: CarrierBooking | None
    booking_no: int
    log: EventLogState
    sla: SlaBook
    customs: list[CustomsState]
    customs_pending: list[ShipmentEvent]
    timeline: list[TimelineEntry]
    promised_date: datetime | None
    exception: str | None
    runs: int


ShipmentInput.model_rebuild()
