"""The shipment workflow's contract: its input, its status query, its search attributes."""

from datetime import datetime

from pydantic import BaseModel, Field
from temporalio.common import SearchAttributeKey

from canonical.codes import OrderRef
from canonical.events import ShipmentEvent
from canonical.goods import Package
from canonical.shipment import References, ServiceLevel, Shipment, Stage

TASK_QUEUE = "borderflow-shipments"

SHIPMENT_STATUS = SearchAttributeKey.for_keyword("ShipmentStatus")
"""The shipment's current stage, for filtering in the Temporal UI: ``ShipmentStatus="customs"``."""
ORDER_REF = SearchAttributeKey.for_keyword("OrderRef")
"""The Odoo sale order name: ``OrderRef="S00042"``."""

SEARCH_ATTRIBUTES = {SHIPMENT_STATUS.name: "Keyword", ORDER_REF.name: "Keyword"}
"""Every custom search attribute the workflows upsert, with its type, for server registration."""


class ShipmentInput(BaseModel):
    """What ops give to start a shipment; everything else is read from Odoo."""

    order_ref: OrderRef
    carrier: str = "easypost"
    service_level: ServiceLevel = ServiceLevel.STANDARD
    packages: list[Package] = Field(min_length=1)


class StageReached(BaseModel):
    stage: Stage
    at: datetime


class ShipmentStatus(BaseModel):
    """The answer of the ``status`` query: everything support needs at a glance."""

    shipment_id: str
    order_ref: str
    stage: Stage
    stages: list[StageReached]
    references: References
    events: list[ShipmentEvent]
    """The timeline: every distinct event received, in arrival order."""
    shipment: Shipment | None = None
    rejection: str | None = None
