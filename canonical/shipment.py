"""The shipment: the business object one workflow run carries from order to invoice."""

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from canonical.base import CanonicalModel
from canonical.codes import CurrencyCode, OrderRef
from canonical.goods import Commodity, Package
from canonical.incoterms import Incoterm
from canonical.parties import Address, Party

__all__ = ["Incoterm", "References", "ServiceLevel", "Shipment", "Stage", "TransportMode"]


class TransportMode(StrEnum):
    PARCEL = "parcel"
    ROAD = "road"
    AIR = "air"
    OCEAN = "ocean"
    RAIL = "rail"


class ServiceLevel(StrEnum):
    EXPRESS = "express"
    STANDARD = "standard"


class Stage(StrEnum):
    """Where a shipment is in its lifecycle, in order.

    REJECTED ends it before booking (the order cannot ship); EXCEPTION waits for ops (every
    carrier refused, customs held past what a broker can resolve); CANCELLED ends it after
    compensation (ops cancelled it, or customs rejected it).
    """

    ACCEPT = "accept"
    BOOK = "book"
    CUSTOMS = "customs"
    DELIVERY = "delivery"
    INVOICE = "invoice"
    INVOICED = "invoiced"
    REJECTED = "rejected"
    EXCEPTION = "exception"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in (Stage.INVOICED, Stage.REJECTED, Stage.CANCELLED)


class References(CanonicalModel):
    """Every partner identifier a shipment has collected so far."""

    sale_order_id: int | None = None
    customer_id: int | None = None
    """The ERP's id of the customer who ordered (Odoo ``res.partner``): an id, never a name,
    so it may be a search attribute (``Customer``)."""
    booking_reference: str | None = None
    transport_document: str | None = None
    """Air waybill or bill of lading number."""
    picking_id: int | None = None
    transport_order_id: str | None = None
    carrier_shipment_id: str | None = None
    tracking_number: str | None = None
    label_url: str | None = None
    declaration_id: str | None = None
    mrn: str | None = None
    invoice_id: int | None = None
    invoice_name: str | None = None


class Shipment(CanonicalModel):
    """A cross-border shipment. ``order_ref`` (the Odoo sale order name) is the business key."""

    order_ref: OrderRef
    tenant_id: str = "default"
    shipper: Party
    consignee: Party
    other_parties: list[Party] = Field(default_factory=list)
    """Bill-to, notify, broker…: each with its roles."""
    origin: Address | None = None
    """Where the goods leave from; defaults to the shipper's address."""
    destination: Address | None = None
    """Where they go; defaults to the consignee's address."""
    incoterm: Incoterm
    incoterm_place: str | None = None
    currency: CurrencyCode
    commodities: list[Commodity] = Field(min_length=1)
    packages: list[Package] = Field(min_length=1)
    """Handling units, in kg and cm."""
    mode: TransportMode = TransportMode.PARCEL
    carrier: str = Field(min_length=1)
    service_level: ServiceLevel = ServiceLevel.STANDARD
    references: References = Field(default_factory=References)

    @model_validator(mode="after")
    def _route_defaults_to_the_parties(self) -> Self:
        # Frozen model: set the defaults once, while validating.
        if self.origin is None:
            object.__setattr__(self, "origin", self.shipper.address)
        if self.destination is None:
            object.__setattr__(self, "destination", self.consignee.address)
        return self

    @property
    def lane(self) -> str:
        """Origin and destination countries, e.g. ``DE-US``."""
        assert self.origin is not None and self.destination is not None
        return f"{self.origin.country}-{self.destination.country}"


def shipment_id_for(order_ref: str) -> str:
    """The shipment id, which is also its Temporal workflow id: one shipment per order."""
    return f"shipment-{order_ref}"
