"""The shipment: the business object one workflow run carries from order to invoice."""

from enum import StrEnum

from pydantic import Field

from canonical.base import CanonicalModel
from canonical.codes import CurrencyCode, OrderRef
from canonical.goods import Commodity, Package
from canonical.parties import Party


class Incoterm(StrEnum):
    """Incoterms 2020: who pays for and clears what."""

    EXW = "EXW"
    FCA = "FCA"
    CPT = "CPT"
    CIP = "CIP"
    DAP = "DAP"
    DPU = "DPU"
    DDP = "DDP"
    FAS = "FAS"
    FOB = "FOB"
    CFR = "CFR"
    CIF = "CIF"


class ServiceLevel(StrEnum):
    EXPRESS = "express"
    STANDARD = "standard"


class Stage(StrEnum):
    """Where a shipment is in its lifecycle, in order. REJECTED ends it before booking."""

    ACCEPT = "accept"
    BOOK = "book"
    CUSTOMS = "customs"
    DELIVERY = "delivery"
    INVOICE = "invoice"
    INVOICED = "invoiced"
    REJECTED = "rejected"

    @property
    def is_final(self) -> bool:
        return self in (Stage.INVOICED, Stage.REJECTED)


class Shipment(CanonicalModel):
    """A cross-border shipment. ``order_ref`` (the Odoo sale order name) is the business key."""

    order_ref: OrderRef
    shipper: Party
    consignee: Party
    incoterm: Incoterm
    incoterm_place: str | None = None
    currency: CurrencyCode
    commodities: list[Commodity] = Field(min_length=1)
    packages: list[Package] = Field(min_length=1)
    carrier: str = Field(min_length=1)
    service_level: ServiceLevel = ServiceLevel.STANDARD


class References(CanonicalModel):
    """Every partner identifier a shipment has collected so far."""

    sale_order_id: int | None = None
    picking_id: int | None = None
    transport_order_id: str | None = None
    carrier_shipment_id: str | None = None
    tracking_number: str | None = None
    label_url: str | None = None
    declaration_id: str | None = None
    mrn: str | None = None
    invoice_id: int | None = None
    invoice_name: str | None = None


def shipment_id_for(order_ref: str) -> str:
    """The shipment id, which is also its Temporal workflow id: one shipment per order."""
    return f"shipment-{order_ref}"
