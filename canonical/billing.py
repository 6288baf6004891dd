"""Charges and invoices."""

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from canonical.base import CanonicalModel
from canonical.money import Money


class ChargeKind(StrEnum):
    FREIGHT = "freight"
    DUTY = "duty"
    TAX = "tax"
    SURCHARGE = "surcharge"


class Charge(CanonicalModel):
    """One amount owed for a shipment; provisional until the partner's final figure arrives."""

    kind: ChargeKind
    amount: Money
    description: str | None = None
    provisional: bool = False


class Invoice(CanonicalModel):
    """A customer invoice: its total is the sum of its lines, all in one currency."""

    erp_id: int | None = None
    number: str | None = None
    """The ERP's invoice number, assigned when it is posted (``INV/2026/00001``)."""
    order_ref: str = Field(min_length=1)
    lines: list[Charge] = Field(min_length=1)
    total: Money
    posted: bool = False

    @model_validator(mode="after")
    def _total_is_the_sum(self) -> Self:
        total = self.lines[0].amount
        for line in self.lines[1:]:
            total = total + line.amount  # raises on mixed currencies
        if total != self.total:
            raise ValueError(f"total {self.total} is not the sum of the lines ({total})")
        return self

    @property
    def has_provisional_charges(self) -> bool:
        return any(line.provisional for line in self.lines)
