"""Carrier-native tracking codes, as data: what FedEx, UPS, USPS and DHL Express codes mean.

Aggregators (EasyPost, AfterShip, Shippo) relay the carrier's own event code beside their own
coarse status, and the coarse status is lossy (EasyPost gives a FedEx ``PU`` "Picked up" scan
as ``in_transit`` / ``arrived_at_facility``). One TOML file per carrier in this package
(``<carrier>.toml``) maps that carrier's published codes to milestones: ``carrier`` (the file's
name), ``version``, ``names`` (how aggregators spell the carrier), ``sources`` (the carrier's
published code list) and ``[codes]`` (carrier code → :class:`Milestone` name).

Guarantees:

- every file is read and validated once, when this package is imported (the workflow sandbox
  forbids file I/O later); a milestone that does not exist, an unknown field, an empty table, a
  ``carrier`` that is not the file's name, or a name two carriers claim fails the import with
  :class:`CarrierCodesError`;
- a carrier name is matched folded (case, blanks and punctuation ignored: ``"FedEx"``,
  ``"FEDEX"``, ``"Fed-Ex"`` are one carrier); a code is matched stripped and upper-cased;
- :func:`native_milestone` is None when the carrier or the code is unknown, empty or None, never
  ``UNKNOWN``: the caller then keeps its own reading (the aggregator's table);
- codes a carrier documents only loosely are left out of its table on purpose, so the
  aggregator's detail decides them;
- :func:`overrides` is the precedence rule every aggregator applies: a known carrier code wins
  over the aggregator's milestone, except that the carrier's plain IN_TRANSIT ("processed",
  "on the way") never replaces a more specific aggregator milestone.
"""

import re
from importlib import resources
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field, field_validator

from canonical.dialects.table import parse_toml
from canonical.milestones import Milestone

__all__ = [
    "CARRIER_TABLES",
    "CarrierCodesError",
    "CarrierTable",
    "carrier_of",
    "fold",
    "native_milestone",
    "overrides",
    "parse_carrier_table",
]

_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


class CarrierCodesError(ValueError):
    """A carrier code file that cannot be used: raised at import time, never at run time."""


def fold(name: str | None) -> str:
    """``name`` compared loosely: lower case, only letters and digits (``"Fed Ex"`` → ``fedex``)."""
    return _NOT_ALNUM.sub("", (name or "").casefold())


def _code(code: str | None) -> str:
    return (code or "").strip().upper()


class CarrierTable(BaseModel):
    """One carrier's published tracking codes → milestones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    carrier: str = Field(min_length=1)
    version: int = Field(ge=1)
    names: tuple[str, ...] = Field(min_length=1)
    """How aggregators spell the carrier (EasyPost ``carrier`` / ``source``, AfterShip slugs…)."""
    sources: tuple[str, ...] = Field(min_length=1)
    """The carrier's published code lists the codes were taken from."""
    codes: dict[str, Milestone] = Field(min_length=1)

    @field_validator("codes")
    @classmethod
    def _codes_are_normal(cls, codes: dict[str, Milestone]) -> dict[str, Milestone]:
        for code in codes:
            if not code or code != _code(code):
                raise ValueError(f"{code!r} is not a stripped, upper-case code")
        return codes

    def milestone(self, code: str | None) -> Milestone | None:
        """The milestone of ``code``, or None when the table does not list it."""
        return self.codes.get(_code(code))


def parse_carrier_table(text: str, name: str) -> CarrierTable:
    """Validate the TOML ``text`` of the code file of carrier ``name``."""
    table = parse_toml(text, name, CarrierTable, CarrierCodesError)
    if table.carrier != name:
        raise CarrierCodesError(f"{name}.toml: carrier is {table.carrier!r}, expected {name!r}")
    return table


def _load() -> dict[str, CarrierTable]:
    files = resources.files(__name__).iterdir()
    tables = {}
    for file in sorted(files, key=lambda f: f.name):
        if file.name.endswith(".toml"):
            name = file.name.removesuffix(".toml")
            tables[name] = parse_carrier_table(file.read_text("utf-8"), name)
    return tables


def _index(tables: dict[str, CarrierTable]) -> dict[str, str]:
    """Every folded carrier name (and the carrier key itself) → its carrier key."""
    index: dict[str, str] = {}
    for key, table in tables.items():
        for name in {key, *table.names}:
            folded = fold(name)
            if index.get(folded, key) != key:
                raise CarrierCodesError(f"{key}.toml: name {name!r} is also {index[folded]!r}")
            index[folded] = key
    return index


CARRIER_TABLES: MappingProxyType[str, CarrierTable] = MappingProxyType(_load())
"""Every carrier's table, by carrier key (``fedex``, ``ups``, ``usps``, ``dhl_express``)."""

_CARRIERS = MappingProxyType(_index(dict(CARRIER_TABLES)))


def carrier_of(name: str | None) -> str | None:
    """The carrier key of an aggregator's carrier ``name``, or None when no table has it."""
    return _CARRIERS.get(fold(name))


def native_milestone(carrier: str | None, code: str | None) -> Milestone | None:
    """What ``carrier``'s own ``code`` means, or None when the carrier or code is not known."""
    key = carrier_of(carrier)
    return CARRIER_TABLES[key].milestone(code) if key else None


def overrides(native: Milestone | None, aggregator: Milestone) -> bool:
    """Whether the carrier's ``native`` milestone replaces the ``aggregator``'s reading."""
    if native is None or native is aggregator:
        return False
    return native is not Milestone.IN_TRANSIT or aggregator is Milestone.UNKNOWN
