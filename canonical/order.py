"""The sales order a shipment fulfils, as the ERP holds it."""

from decimal import Decimal

from pydantic import Field

from canonical.base import CanonicalModel
from canonical.codes import UnitCode
from canonical.incoterms import IncotermPlace
from canonical.money import UnitPrice


class OrderLine(CanonicalModel):
    product_ref: str | None = None
    description: str = Field(min_length=1)
    quantity: Decimal = Field(gt=0, allow_inf_nan=False)
    unit: UnitCode = "C62"
    unit_price: UnitPrice


class Order(CanonicalModel):
    """An ERP sales order: its reference is the shipment's business key."""

    erp_reference: str = Field(min_length=1)
    customer_po: str | None = None
    incoterm: IncotermPlace
    lines: list[OrderLine] = Field(min_length=1)
