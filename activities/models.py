"""Inputs and outputs of the shipment activities: one model per call, so signatures can grow."""

from decimal import Decimal

from pydantic import BaseModel

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


class TransportOrderRef(BaseModel):
    transport_order_id: str


class CarrierBooking(BaseModel):
    carrier: str
    carrier_shipment_id: str
    tracking_number: str
    label_url: str | None


class LinkTrackingInput(BaseModel):
    shipment_id: str
    carrier: str
    tracking_number: str


class WriteTrackingRefInput(BaseModel):
    picking_id: int
    tracking_number: str


class RecordTrackingInput(BaseModel):
    """Input of ``record_tracking``, the version-1 step doing both of the above."""

    shipment_id: str
    carrier: str
    tracking_number: str
    picking_id: int | None


class FileCustomsInput(BaseModel):
    shipment_id: str
    shipment: Shipment
    tracking_number: str


class FiledDeclaration(BaseModel):
    declaration_id: str
    lrn: str


class ReleaseInvoiceInput(BaseModel):
    shipment_id: str
    order_ref: str
    sale_order_id: int


class PostedInvoice(BaseModel):
    invoice_id: int
    invoice_name: str
    amount_total: Decimal
    currency: str


class NotifyFinanceInput(BaseModel):
    shipment_id: str
    order_ref: str
    invoice: PostedInvoice
