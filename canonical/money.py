"""Money: a Decimal amount in one ISO 4217 currency, with that currency's minor units.

Never a float. An amount with more decimals than its currency has (``10.5 JPY``,
``1.2345 KWD``) is rejected, not rounded: rounding money is a business decision, made
explicitly with :meth:`Money.rounded`.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated, Self

from pydantic import BeforeValidator, Field, model_validator

from canonical.base import CanonicalModel
from canonical.codes import CurrencyCode

MINOR_UNITS_EXCEPTIONS: dict[str, int] = {
    **dict.fromkeys(
        ["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
         "VND", "VUV", "XAF", "XOF", "XPF"],
        0,
    ),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
    **dict.fromkeys(["CLF", "UYW"], 4),
}  # fmt: skip
"""ISO 4217 currencies whose minor unit is not 2 (every other currency has 2)."""

NOT_MONEY = frozenset(["XAG", "XAU", "XBA", "XBB", "XBC", "XBD", "XDR", "XPD", "XPT", "XSU",
                       "XTS", "XUA", "XXX"])  # fmt: skip
"""ISO 4217 codes with no minor unit (metals, funds, test codes): not for prices."""


def minor_units(currency: str) -> int:
    """Decimal places of ``currency``: 2 unless listed (JPY 0, KWD 3, CLF 4, …)."""
    return MINOR_UNITS_EXCEPTIONS.get(currency, 2)


def _exact_decimal(value: object) -> object:
    """Decimals from strings and integers; binary floats are refused, not rounded."""
    if isinstance(value, float):
        raise ValueError("give amounts as strings or integers, never as floats")
    if isinstance(value, str | int) and not isinstance(value, bool):
        try:
            return Decimal(value)
        except InvalidOperation:
            raise ValueError(f"{value!r} is not a decimal number") from None
    return value


ExactDecimal = Annotated[Decimal, BeforeValidator(_exact_decimal)]
"""A Decimal that refuses binary floats (``0.1`` cannot be represented exactly)."""


def _places(amount: Decimal) -> int:
    exponent = amount.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


class Money(CanonicalModel):
    """An amount of money; ``amount`` never has more decimals than ``currency`` allows."""

    amount: ExactDecimal = Field(allow_inf_nan=False, max_digits=22)
    currency: CurrencyCode

    @model_validator(mode="after")
    def _respect_minor_units(self) -> Self:
        if self.currency in NOT_MONEY:
            raise ValueError(f"{self.currency} is not a currency for prices")
        allowed = minor_units(self.currency)
        if _places(self.amount) > allowed:
            raise ValueError(
                f"{self.amount} has more decimals than {self.currency} allows ({allowed})"
            )
        return self

    @classmethod
    def rounded(cls, amount: Decimal, currency: str) -> "Money":
        """``amount`` rounded half-up to ``currency``'s minor units."""
        quantum = Decimal(1).scaleb(-minor_units(currency))
        return cls(amount=amount.quantize(quantum, rounding=ROUND_HALF_UP), currency=currency)

    def __add__(self, other: "Money") -> "Money":
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(amount=self.amount + other.amount, currency=self.currency)

    def __str__(self) -> str:
        return f"{self.amount:.{minor_units(self.currency)}f} {self.currency}"


class UnitPrice(CanonicalModel):
    """A price per unit: like Money but with up to 6 decimals (a screw may cost 0.0125 EUR)."""

    amount: ExactDecimal = Field(ge=0, allow_inf_nan=False, max_digits=22, decimal_places=6)
    currency: CurrencyCode

    def times(self, quantity: Decimal) -> Money:
        """The line value of ``quantity`` units, rounded to the currency's minor units."""
        return Money.rounded(self.amount * quantity, self.currency)
