"""Request bodies of the DHL-style carrier (``POST /shipments``), as pydantic models.

Field names are DHL's (camelCase). Validated leniently like the other simulators: what a
carrier could not work without is required, unknown extra keys are accepted (``accounts``,
``pickup``, ``outputImageProperties``…), numbers may be decimal strings. Weights are kg,
dimensions cm. A customs-declarable shipment (``isCustomsDeclarable: true``) must carry
``declaredValue``, ``declaredValueCurrency``, ``incoterm`` and ``exportDeclaration``.
"""

from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from simulators.schemas import INCOTERMS_2020, CountryCode, CurrencyCode, HsCode, NonEmpty


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


class DhlPostalAddress(_Lenient):
    """``postalAddress`` of a party."""

    addressLine1: NonEmpty
    addressLine2: str | None = None
    addressLine3: str | None = None
    cityName: NonEmpty
    postalCode: str | None = None
    countryCode: CountryCode


class DhlContact(_Lenient):
    """``contactInformation`` of a party."""

    companyName: NonEmpty
    fullName: NonEmpty
    email: str | None = None
    phone: str | None = None


class DhlParty(_Lenient):
    """``shipperDetails`` / ``receiverDetails``."""

    postalAddress: DhlPostalAddress
    contactInformation: DhlContact


class DhlCustomerDetails(_Lenient):
    """Who ships to whom."""

    shipperDetails: DhlParty
    receiverDetails: DhlParty


class DhlDimensions(_Lenient):
    """Centimetres."""

    length: float = Field(gt=0)
    width: float = Field(gt=0)
    height: float = Field(gt=0)


class DhlPackage(_Lenient):
    """One piece: kilograms and centimetres."""

    weight: float = Field(gt=0)
    dimensions: DhlDimensions | None = None


class DhlQuantity(_Lenient):
    """``{"value", "unitOfMeasurement": "PCS"}``."""

    value: float = Field(gt=0)
    unitOfMeasurement: NonEmpty = "PCS"


class DhlCommodityCode(_Lenient):
    """An HS code, ``outbound`` (export) or ``inbound`` (import)."""

    typeCode: Literal["outbound", "inbound"]
    value: HsCode


class DhlLineItem(_Lenient):
    """One line of the export declaration."""

    number: int = Field(ge=1)
    description: NonEmpty
    price: float = Field(ge=0)
    quantity: DhlQuantity
    commodityCodes: list[DhlCommodityCode] = Field(default_factory=list)
    manufacturerCountry: CountryCode


class DhlExportDeclaration(_Lenient):
    """The customs lines."""

    lineItems: list[DhlLineItem] = Field(min_length=1)


class DhlContent(_Lenient):
    """What is shipped."""

    packages: list[DhlPackage] = Field(min_length=1)
    isCustomsDeclarable: bool
    declaredValue: float | None = Field(default=None, ge=0)
    declaredValueCurrency: CurrencyCode | None = None
    incoterm: Literal[INCOTERMS_2020] | None = None  # type: ignore[valid-type]
    exportDeclaration: DhlExportDeclaration | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _customs_complete(self) -> Self:
        if self.isCustomsDeclarable:
            needed = ("declaredValue", "declaredValueCurrency", "incoterm", "exportDeclaration")
            missing = [name for name in needed if getattr(self, name) is None]
            if missing:
                raise ValueError(f"customs-declarable shipments need {', '.join(missing)}")
        return self


class DhlCustomerReference(_Lenient):
    """``{"value": "<our reference>", "typeCode": "CU"}``."""

    value: NonEmpty
    typeCode: NonEmpty = "CU"


class DhlShipmentRequest(_Lenient):
    """``POST /shipments``."""

    plannedShippingDateAndTime: NonEmpty
    productCode: Literal["P", "N"]
    customerReferences: list[DhlCustomerReference] = Field(default_factory=list)
    customerDetails: DhlCustomerDetails
    content: DhlContent
