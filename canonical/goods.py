"""What is shipped: money, commodities and the packages they travel in."""

from decimal import Decimal

from pydantic import Field

from canonical.base import CanonicalModel
from canonical.codes import CountryCode, CurrencyCode, HsCode


class Money(CanonicalModel):
    """An amount in one currency. Always a Decimal, never a float."""

    amount: Decimal = Field(ge=0, max_digits=18, decimal_places=4)
    currency: CurrencyCode


class Commodity(CanonicalModel):
    """One line of goods as customs sees it."""

    description: str = Field(min_length=1)
    hs_code: HsCode
    origin_country: CountryCode
    quantity: Decimal = Field(gt=0)
    value: Money
    """Total customs value of the line (quantity times unit price)."""


class Package(CanonicalModel):
    """One handling unit, in kilograms and centimetres."""

    weight_kg: Decimal = Field(gt=0, le=100_000)
    length_cm: Decimal = Field(gt=0, le=10_000)
    width_cm: Decimal = Field(gt=0, le=10_000)
    height_cm: Decimal = Field(gt=0, le=10_000)
