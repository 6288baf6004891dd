"""Tenants, parties to a shipment, and where they are."""

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from canonical.base import CanonicalModel
from canonical.codes import CountryCode, CurrencyCode, Eori, SubdivisionCode, UnLocode, VatNumber

NAME_MAX = 200
"""A person's or company's name (ERP name fields and carrier labels take far fewer)."""
LINE_MAX = 100
"""One address line (carriers print at most 35-50 characters per line)."""
POSTAL_CODE_MAX = 20
"""The longest postal codes in use have 10 characters."""
EMAIL_MAX = 254
"""RFC 5321's limit on an address."""
PHONE_MAX = 32


class Tenant(CanonicalModel):
    """A company using Borderflow; every shipment belongs to one."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")
    name: str = Field(min_length=1)
    default_currency: CurrencyCode = "EUR"


class PartyRole(StrEnum):
    SHIPPER = "shipper"
    CONSIGNEE = "consignee"
    BILL_TO = "bill_to"
    NOTIFY = "notify"
    BROKER = "broker"
    CARRIER = "carrier"


class Address(CanonicalModel):
    """A postal address; ``country`` is the only field every partner requires."""

    lines: list[Annotated[str, Field(max_length=LINE_MAX)]] = Field(min_length=1, max_length=4)
    city: str = Field(min_length=1, max_length=LINE_MAX)
    postal_code: str | None = Field(default=None, max_length=POSTAL_CODE_MAX)
    subdivision: SubdivisionCode | None = None
    """ISO 3166-2, e.g. ``US-MA``; must belong to ``country``."""
    country: CountryCode
    unlocode: UnLocode | None = None
    """UN/LOCODE of the place, e.g. ``USBOS``; must belong to ``country``."""

    @model_validator(mode="after")
    def _codes_match_country(self) -> Self:
        if self.subdivision and not self.subdivision.startswith(f"{self.country}-"):
            raise ValueError(f"subdivision {self.subdivision} is not in {self.country}")
        if self.unlocode and not self.unlocode.startswith(self.country):
            raise ValueError(f"UN/LOCODE {self.unlocode} is not in {self.country}")
        return self


class Party(CanonicalModel):
    """A shipper, consignee or other party, as the ERP knows it."""

    name: str = Field(min_length=1, max_length=NAME_MAX)
    address: Address
    roles: list[PartyRole] = Field(default_factory=list, max_length=len(PartyRole))
    vat: VatNumber | None = None
    eori: Eori | None = None
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$", max_length=EMAIL_MAX)
    phone: str | None = Field(default=None, max_length=PHONE_MAX)
