"""Inputs and outputs of the shipment activities: one model per call, so signatures can grow."""

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from canonical.billing import Charge
from canonical.customs import CustomsDirection
from canonical.goods import Package
from canonical.order import Order
from canonical.shipment import ServiceLevel, Shipment


class AcceptOrderInput(BaseModel):
    order_ref: str
    carrier: str
    service_level: ServiceLevel
    packages: list[Package]


class AcceptedOrder(BaseModel):
    shipment: Shipment
    sale_order_id: int
    picking_id: int | None
    order: Order | None = None
    """The ERP order as read (absent in payloads recorded before it was added)."""


class StepInput(BaseModel):
    """Input of every step that acts on a booked-or-to-be-booked shipment."""

    shipment_id: str
    shipment: Shipment
    booking_no: int = 1
    """1 for the first booking; a fallback or re-booking counts up (its own idempotency key)."""


class TransportOrderRef(BaseModel):
    transport_order_id: str


class CarrierBooking(BaseModel):
    carrier: str
    carrier_shipment_id: str
    tracking_number: str
    label_url: str | None
    charges: list[Charge] = Field(default_factory=list)
    """The carrier's quote at booking (provisional until its final charges)."""


class WriteTrackingRefInput(BaseModel):
    picking_id: int
    tracking_number: str


class FileCustomsInput(BaseModel):
    shipment_id: str
    shipment: Shipment
    tracking_number: str
    direction: CustomsDirection = CustomsDirection.EXPORT


class FiledDeclaration(BaseModel):
    declaration_id: str
    lrn: str


class ReleaseInvoiceInput(BaseModel):
    shipment_id: str
    order_ref: str
    sale_order_id: int
    charges: list[Charge] = Field(default_factory=list)
    """Freight, duties and taxes to invoice besides the order lines (``provisional`` flagged)."""


class PostedInvoice(BaseModel):
    invoice_id: int
    invoice_name: str
    amount_total: Decimal
    currency: str


class NotifyFinanceInput(BaseModel):
    shipment_id: str
    order_ref: str
    invoice: PostedInvoice
    delivered_at: datetime | None = None
    """Proof of delivery, for the invoice-lag metric (absent in version-2 shipments)."""


# -- lifecycle: policy, charges, escalation, compensation ------------------------------------


class PolicyInput(BaseModel):
    shipment_id: str
    service_level: str
    lane: str
    carrier: str


class FinalChargesInput(BaseModel):
    shipment_id: str
    booking: CarrierBooking


class FinalCharges(BaseModel):
    charges: list[Charge] = Field(default_factory=list)
    final: bool
    """False when the carrier has not settled its charges yet (or cannot say)."""


class NotifyInput(BaseModel):
    """One notification; ``key`` makes a retry send it once."""

    shipment_id: str
    order_ref: str
    channel: str
    """``ops``, ``finance`` or ``account``."""
    event: str
    title: str
    text: str
    key: str
    details: dict[str, str] = Field(default_factory=dict)


class EscalationInput(BaseModel):
    """A to-do for the account team on the sale order, once per ``key``."""

    sale_order_id: int
    key: str
    summary: str
    note: str
    deadline: date


class CancelBookingInput(BaseModel):
    shipment_id: str
    booking: CarrierBooking


class CancelTransportInput(BaseModel):
    shipment_id: str
    transport_order_id: str


class CancelDeclarationInput(BaseModel):
    shipment_id: str
    declaration_id: str
    direction: CustomsDirection


class ReverseOrderInput(BaseModel):
    """Undo the Odoo side: cancel the delivery, credit a posted invoice."""

    shipment_id: str
    picking_id: int | None
    invoice_id: int | None
    reason: str


class Undone(BaseModel):
    """What a compensation did (or why nothing was left to undo)."""

    outcome: str
