"""Parties to a shipment and where they are."""

from pydantic import Field

from canonical.base import CanonicalModel
from canonical.codes import CountryCode


class Address(CanonicalModel):
    """A postal address; ``country`` is the only field every partner requires."""

    lines: list[str] = Field(min_length=1, max_length=4)
    city: str = Field(min_length=1)
    postal_code: str | None = None
    country: CountryCode


class Party(CanonicalModel):
    """A shipper, consignee or other party, as the ERP knows it."""

    name: str = Field(min_length=1)
    address: Address
    vat: str | None = None
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = None
