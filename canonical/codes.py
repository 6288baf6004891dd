"""Validated code types shared by every canonical model.

Codes are checked against the ISO registries shipped by ``pycountry`` so that a typo
("UK", "EURO") is rejected at the boundary instead of travelling to a partner.

The registries are read here, at import time: ``pycountry`` otherwise opens its data files on
first use, which the Temporal workflow sandbox forbids (a worker replaying a history would
fail to decode the first model that holds a country).
"""

import re
from datetime import datetime
from typing import Annotated

import pycountry
from pydantic import AfterValidator, BeforeValidator, Field, StringConstraints

COUNTRY_CODES = frozenset(country.alpha_2 for country in pycountry.countries)
CURRENCY_CODES = frozenset(currency.alpha_3 for currency in pycountry.currencies)
SUBDIVISION_CODES = frozenset(subdivision.code for subdivision in pycountry.subdivisions)


def _check_country(code: str) -> str:
    if code not in COUNTRY_CODES:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _check_currency(code: str) -> str:
    if code not in CURRENCY_CODES:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


def _check_subdivision(code: str) -> str:
    if code not in SUBDIVISION_CODES:
        raise ValueError(f"{code!r} is not an ISO 3166-2 subdivision code")
    return code


RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")


def _check_rfc3339(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or RFC3339.fullmatch(value) is None:
        raise ValueError("not an RFC 3339 date-time with an offset, e.g. 2026-12-24T12:00:00+01:00")
    return value


def strip_dots_and_spaces(value: object) -> object:
    return value.replace(".", "").replace(" ", "") if isinstance(value, str) else value


Rfc3339 = Annotated[datetime, BeforeValidator(_check_rfc3339)]
"""A date-time that arrives as text only in RFC 3339 form, with its offset (JSON Schema's
``date-time``): no Unix timestamps, no naive times."""

CountryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Z]{2}$"),
    AfterValidator(_check_country),
    Field(json_schema_extra={"enum": sorted(COUNTRY_CODES)}),
]
"""ISO 3166-1 alpha-2 country code, e.g. ``DE`` (the JSON schema lists every one)."""

CurrencyCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Z]{3}$"),
    AfterValidator(_check_currency),
    Field(json_schema_extra={"enum": sorted(CURRENCY_CODES)}),
]
"""ISO 4217 alphabetic currency code, e.g. ``EUR``."""

SubdivisionCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Z]{2}-[A-Z0-9]{1,3}$"),
    AfterValidator(_check_subdivision),
]
"""ISO 3166-2 subdivision code, e.g. ``US-MA``."""

UnLocode = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z]{2}[A-Z2-9]{3}$")
]
"""UN/LOCODE, e.g. ``DEHAM`` (Hamburg): country + three letters or digits 2-9."""

Hs6 = Annotated[
    str,
    BeforeValidator(strip_dots_and_spaces),
    StringConstraints(pattern=r"^\d{6}$"),
]
"""Harmonized System subheading, six digits (``8471.30`` is accepted as ``847130``)."""

HsCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{6}(\d{2}){0,2}$")]
"""An HS code of 6, 8 or 10 digits (HS6 optionally extended nationally)."""

UnitCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z0-9]{2,3}$")]
"""UN/ECE Recommendation 20 unit of measure code, e.g. ``C62`` (one), ``KGM``, ``MTR``."""

VatNumber = Annotated[
    str,
    BeforeValidator(strip_dots_and_spaces),
    StringConstraints(pattern=r"^[A-Z0-9][A-Z0-9+*-]{3,19}$"),
    # what is taken before dots and spaces are stripped (the JSON schema's pattern):
    Field(json_schema_extra={"pattern": r"^[. ]*[A-Z0-9](?:[. ]*[A-Z0-9+*-]){3,19}[. ]*$"}),
]
"""A tax id as the ERP holds it: an EU VAT number with its prefix (``DE123456789``), a US EIN
(``94-1234567``), a Swiss UID (``CHE-123.456.789`` → ``CHE-123456789``)…"""

Eori = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Z]{2}[A-Z0-9]{1,15}$")]
"""An EU Economic Operators Registration and Identification number, e.g. ``DE1234567``."""

Mrn = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^\d{2}[A-Z]{2}[A-Z0-9]{14}$")
]
"""A customs Movement Reference Number: year, country, 14 characters."""

Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]

CarrierName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
]
"""A carrier's name in the carrier registry, e.g. ``dhl``, ``easypost``."""

OrderRef = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
]
"""The Odoo sale order name (e.g. ``S00042``): the shipment's business key."""
