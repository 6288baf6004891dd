"""The shipment workflow's contract: its input, its status query, its search attributes."""

from datetime import datetime

from pydantic import BaseModel, Field
from pydantic.json_schema import SkipJsonSchema
from temporalio.common import SearchAttributeKey

from canonical.codes import CarrierName, OrderRef, Rfc3339
from canonical.dialects.normalized import MAX_EVENTS
from canonical.events import ShipmentEvent
from canonical.goods import Package
from canonical.milestones import Milestone
from canonical.shipment import References, ServiceLevel, Shipment, Stage
from workers.regions import REGION_PATTERN
from workflows.customs import CustomsState as CustomsState
from workflows.sla_clock import SlaClock as SlaClock
from workflows.sla_clock import SlaLevel as SlaLevel
from workflows.state import ShipmentState
from workflows.state import StageReached as StageReached
from workflows.state import TimelineEntry as TimelineEntry
from workflows.state import TimelineKind as TimelineKind

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
    resume: SkipJsonSchema[ShipmentState | None] = None
    """Set only by the workflow itself when it continues as new: the state it carries over."""


class EventBatch(BaseModel):
    """The ``events`` signal: the canonical events of one webhook (or one ops entry) that the
    shipment has not recorded yet, in the partner's order.

    The contract between the API and the workflow: one signal per webhook, never one per event;
    the sender leaves out the events it knows were delivered before (cumulative payloads repeat
    every earlier scan), and the workflow still records each ``event_id`` once, so a repeat
    that slips through changes nothing."""

    events: list[ShipmentEvent] = Field(min_length=1, max_length=MAX_EVENTS)
    partner: str = Field(min_length=1, max_length=64)
    """Who sent them (``easypost``, ``broker``, ``ops``…)."""
    inbox_message_id: int | None = None
    """The stored webhook they came from (``GET /v1/inbox/{id}``), for the timeline."""
    current_event_id: str | None = None
    """The webhook's event that is the vendor's own current status
    (``NormalizedWebhook.current_event_id``), even when it was signalled before and is not in
    ``events``: the shipment follows it whatever the times say (``workflows.progress``)."""


class ShipmentStatus(BaseModel):
    """The answer of the ``status`` query and of every ops update: the shipment at a glance."""

    shipment_id: str
    order_ref: str
    stage: Stage
    stages: list[StageReached]
    references: References
    events: list[ShipmentEvent]
    """The distinct partner events received, in arrival order (the newest 500)."""
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
    """Older events that ``events`` no longer lists (they are in the workflow's history)."""
    earlier_log: int = 0
    """Older timeline entries that ``log`` no longer lists."""


class AcceptedShipment(BaseModel):
    """The answer of the ``accept`` update (update-with-start of ``POST /v1/shipments``)."""

    first: bool
    """True for the call that started the shipment; repeats (same order) get False."""
    status: ShipmentStatus
