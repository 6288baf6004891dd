"""Request bodies the REST simulators accept, as pydantic models.

``docs/partners.md`` names ``Party`` and ``Package`` without spelling them out; the shapes
below follow Borderflow's canonical models (``canonical/parties.py``, ``canonical/goods.py``),
validated leniently: only what a partner could not work without is required, unknown extra
keys are accepted (and kept), and decimal strings such as ``"4.2"`` are accepted as numbers.

* Party: ``{"name", "address": {"lines": [str, …1-4], "city", "postal_code"?, "country"
  (ISO 3166-1 alpha-2)}, "vat"?, "email"?, "phone"?}``.
* Package: ``{"weight_kg" (> 0), "length_cm"?, "width_cm"?, "height_cm"? (> 0)}``.
"""

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

INCOTERMS_2020 = ("EXW", "FCA", "CPT", "CIP", "DAP", "DPU", "DDP", "FAS", "FOB", "CFR", "CIF")
_HS_CODE = re.compile(r"^\d{6}(\d{2}){0,2}$")
_AMOUNT = re.compile(r"^\d{1,12}(\.\d{1,4})?$")


def _country(value: str) -> str:
    if len(value) != 2 or pycountry.countries.get(alpha_2=value.upper()) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return value.upper()


def _currency(value: str) -> str:
    if len(value) != 3 or pycountry.currencies.get(alpha_3=value.upper()) is None:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value.upper()


def _hs_code(value: str) -> str:
    if not _HS_CODE.match(value):
        raise ValueError("hs_code must be 6, 8 or 10 digits")
    return value


def _amount(value: str) -> str:
    try:
        ok = bool(_AMOUNT.match(value)) and Decimal(value) >= 0
    except InvalidOperation:
        ok = False
    if not ok:
        raise ValueError("amount must be a decimal string such as '12.50'")
    return value


CountryCode = Annotated[str, AfterValidator(_country)]
CurrencyCode = Annotated[str, AfterValidator(_currency)]
HsCode = Annotated[str, AfterValidator(_hs_code)]
AmountString = Annotated[str, Field(strict=True), AfterValidator(_amount)]


class Address(BaseModel):
    """A Party's postal address."""

    model_config = ConfigDict(extra="allow")

    lines: list[NonEmpty] = Field(min_length=1, max_length=4)
    city: NonEmpty
    postal_code: str | None = None
    country: CountryCode


class Party(BaseModel):
    """A shipper, consignee, exporter or importer."""

    model_config = ConfigDict(extra="allow")

    name: NonEmpty
    address: Address
    vat: str | None = None
    email: str | None = None
    phone: str | None = None


class Package(BaseModel):
    """One physical package handed to the TMS."""

    model_config = ConfigDict(extra="allow")

    weight_kg: float = Field(gt=0)
    length_cm: float | None = Field(default=None, gt=0)
    width_cm: float | None = Field(default=None, gt=0)
    height_cm: float | None = Field(default=None, gt=0)


class TransportOrderRequest(BaseModel):
    """``POST /api/v1/transport-orders``."""

    reference: NonEmpty
    shipper: Party
    consignee: Party
    packages: list[Package] = Field(min_length=1)
    carrier: NonEmpty


class Money(BaseModel):
    """``{"amount": "12.50", "currency": "EUR"}``; the amount is a decimal *string*."""

    amount: AmountString
    currency: CurrencyCode


class GoodsItem(BaseModel):
    """One line of a customs declaration."""

    model_config = ConfigDict(extra="allow")

    description: NonEmpty
    hs_code: HsCode
    origin_country: CountryCode
    quantity: float = Field(gt=0)
    value: Money


class DeclarationRequest(BaseModel):
    """``POST /api/v1/declarations``."""

    reference: NonEmpty
    direction: Literal["export", "import"]
    exporter: Party
    importer: Party
    origin_country: CountryCode
    destination_country: CountryCode
    incoterm: Literal[INCOTERMS_2020]  # type: ignore[valid-type]
    tracking_number: str | None = None
    goods: list[GoodsItem] = Field(min_length=1)


class EasyPostAddress(BaseModel):
    """An EasyPost address (``name, street1, street2, city, state, zip, country, phone, email``)."""

    model_config = ConfigDict(extra="allow")

    name: NonEmpty
    street1: NonEmpty
    street2: str | None = None
    city: NonEmpty
    state: str | None = None
    zip: str | None = None
    country: CountryCode
    phone: str | None = None
    email: str | None = None
    company: str | None = None


class EasyPostParcel(BaseModel):
    """Dimensions in inches, weight in ounces."""

    model_config = ConfigDict(extra="allow")

    length: float | None = Field(default=None, gt=0)
    width: float | None = Field(default=None, gt=0)
    height: float | None = Field(default=None, gt=0)
    weight: float = Field(gt=0)


class EasyPostShipment(BaseModel):
    """The ``shipment`` object of a one-call buy."""

    model_config = ConfigDict(extra="allow")

    reference: str | None = None
    to_address: EasyPostAddress
    from_address: EasyPostAddress
    parcel: EasyPostParcel
    customs_info: dict[str, Any] | None = None
    service: NonEmpty = "Express"


class EasyPostShipmentRequest(BaseModel):
    """``POST /v2/shipments`` body: ``{"shipment": {...}}``."""

    shipment: EasyPostShipment
