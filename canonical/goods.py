"""What is shipped: commodities (as customs sees them) and the handling units they travel in.

Weights and dimensions are stored in kilograms and centimetres; :meth:`Package.from_units`
converts pounds, ounces, grams, inches…, so no partner unit leaks into the model.
"""

import re
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Self

from pydantic import BeforeValidator, Field, PlainSerializer, WithJsonSchema, model_validator

from canonical.base import CanonicalModel
from canonical.codes import CountryCode, Hs6, UnitCode, strip_dots_and_spaces
from canonical.money import Money, UnitPrice

KG_PER = {"kg": Decimal(1), "g": Decimal("0.001"), "lb": Decimal("0.45359237"),
          "oz": Decimal("0.028349523125")}  # fmt: skip
CM_PER = {"cm": Decimal(1), "mm": Decimal("0.1"), "m": Decimal(100), "in": Decimal("2.54")}
WEIGHT_PLACES = Decimal("0.001")
LENGTH_PLACES = Decimal("0.01")


def positive_decimal_pattern(limit: int) -> str:
    """A plain decimal in (0, ``limit``] (a power of ten): digits and one point, no sign, no
    exponent, so the pattern alone decides what the API takes."""
    digits = len(str(limit)) - 1
    assert limit == 10**digits and digits >= 1, "limit is a power of ten"
    return (rf"^0*(?:[1-9][0-9]{{0,{digits - 1}}}(?:\.[0-9]*)?|\.[0-9]*[1-9][0-9]*"
            rf"|1{'0' * digits}(?:\.0*)?)$")  # fmt: skip


def _plain_decimal(pattern: str, limit: int) -> BeforeValidator:
    compiled = re.compile(pattern)

    def check(value: object) -> object:
        """A JSON string or number as a ``Decimal`` (which strict validation then takes)."""
        if isinstance(value, str):
            if compiled.fullmatch(value) is None:
                raise ValueError(f"not a plain decimal in (0, {limit}], e.g. 2.5: {value[:20]!r}")
            return Decimal(value)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return Decimal(str(value))
        return value

    return BeforeValidator(check)


def _measure_schema(limit: int) -> WithJsonSchema:
    number = {"type": "number", "exclusiveMinimum": 0, "maximum": limit}
    text = {"type": "string", "pattern": positive_decimal_pattern(limit)}
    return WithJsonSchema({"anyOf": [number, text]}, mode="validation")


_PLAIN = PlainSerializer(lambda value: format(value, "f"), return_type=str, when_used="json")
"""Written back as a plain decimal (``100``, never ``1E+2``), which the pattern takes again."""

MAX_WEIGHT_KG = 100_000
MAX_LENGTH_CM = 10_000
WeightKg = Annotated[
    Decimal, _plain_decimal(positive_decimal_pattern(MAX_WEIGHT_KG), MAX_WEIGHT_KG),
    Field(gt=0, le=MAX_WEIGHT_KG, allow_inf_nan=False), _PLAIN, _measure_schema(MAX_WEIGHT_KG),
]  # fmt: skip
"""A weight in kilograms, in (0, 100 000]: a JSON number or a plain decimal string. The JSON
schema states exactly what is taken (``exclusiveMinimum``/``maximum``, or the pattern)."""
LengthCm = Annotated[
    Decimal, _plain_decimal(positive_decimal_pattern(MAX_LENGTH_CM), MAX_LENGTH_CM),
    Field(gt=0, le=MAX_LENGTH_CM, allow_inf_nan=False), _PLAIN, _measure_schema(MAX_LENGTH_CM),
]  # fmt: skip
"""A length in centimetres, in (0, 10 000], taken like :data:`WeightKg`."""


class TariffScheme(StrEnum):
    """National extensions of the HS6 code."""

    CN = "CN"  # EU Combined Nomenclature, 8 digits
    TARIC = "TARIC"  # EU integrated tariff, 10 digits
    HTS = "HTS"  # US Harmonized Tariff Schedule, 10 digits


SCHEME_DIGITS = {TariffScheme.CN: 8, TariffScheme.TARIC: 10, TariffScheme.HTS: 10}


class NationalCode(CanonicalModel):
    scheme: TariffScheme
    code: Annotated[str, BeforeValidator(strip_dots_and_spaces), Field(pattern=r"^\d{8,10}$")]
    """Digits only: dots and spaces are stripped on input (``8471.30.0100`` → ``8471300100``)."""

    @model_validator(mode="after")
    def _length_fits_scheme(self) -> Self:
        digits = SCHEME_DIGITS[self.scheme]
        if len(self.code) != digits:
            raise ValueError(f"a {self.scheme} code has {digits} digits, not {len(self.code)}")
        return self


class Commodity(CanonicalModel):
    """One line of goods as customs sees it."""

    description: str = Field(min_length=1)
    quantity: Decimal = Field(gt=0, allow_inf_nan=False)
    unit: UnitCode = "C62"
    """UN/ECE Rec 20 unit of ``quantity``; ``C62`` is "one" (pieces)."""
    unit_value: UnitPrice
    hs6: Hs6
    national_code: NationalCode | None = None
    origin_country: CountryCode
    net_weight_kg: Decimal | None = Field(default=None, gt=0)
    gross_weight_kg: Decimal | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.national_code and not self.national_code.code.startswith(self.hs6):
            raise ValueError(
                f"national code {self.national_code.code} does not extend HS6 {self.hs6}"
            )
        if (
            self.net_weight_kg
            and self.gross_weight_kg
            and self.net_weight_kg > self.gross_weight_kg
        ):
            raise ValueError("net weight exceeds gross weight")
        return self

    @property
    def tariff_code(self) -> str:
        """The most precise code known: the national code, else the HS6."""
        return self.national_code.code if self.national_code else self.hs6

    @property
    def value(self) -> Money:
        """The line's customs value: quantity times unit value, in minor units."""
        return self.unit_value.times(self.quantity)


class Package(CanonicalModel):
    """One handling unit, in kilograms and centimetres (see :meth:`from_units`)."""

    weight_kg: WeightKg
    length_cm: LengthCm
    width_cm: LengthCm
    height_cm: LengthCm

    @classmethod
    def from_units(
        cls,
        *,
        weight: Decimal,
        weight_unit: str,
        length: Decimal,
        width: Decimal,
        height: Decimal,
        length_unit: str,
    ) -> "Package":
        """A package measured in other units (``lb``, ``oz``, ``g``; ``in``, ``mm``, ``m``)."""
        return cls(
            weight_kg=_convert(weight, weight_unit, KG_PER, WEIGHT_PLACES),
            length_cm=_convert(length, length_unit, CM_PER, LENGTH_PLACES),
            width_cm=_convert(width, length_unit, CM_PER, LENGTH_PLACES),
            height_cm=_convert(height, length_unit, CM_PER, LENGTH_PLACES),
        )  # fmt: skip


def _convert(value: Decimal, unit: str, table: dict[str, Decimal], places: Decimal) -> Decimal:
    if unit not in table:
        raise ValueError(f"unknown unit {unit!r} (use one of {', '.join(table)})")
    return (value * table[unit]).quantize(places)
