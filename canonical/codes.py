"""Validated ISO code types shared by every canonical model.

Codes are checked against the ISO registries shipped by ``pycountry`` so that a typo
("UK", "EURO") is rejected at the boundary instead of travelling to a partner.

The registries are read here, at import time: ``pycountry`` otherwise opens its data files on
first use, which the Temporal workflow sandbox forbids (a worker replaying a history would
fail to decode the first model that holds a country).
"""

from typing import Annotated

import pycountry
from pydantic import AfterValidator, StringConstraints

COUNTRY_CODES = frozenset(country.alpha_2 for country in pycountry.countries)
CURRENCY_CODES = frozenset(currency.alpha_3 for currency in pycountry.currencies)


def _check_country(code: str) -> str:
    if code not in COUNTRY_CODES:
        raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
    return code


def _check_currency(code: str) -> str:
    if code not in CURRENCY_CODES:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


CountryCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Z]{2}$"),
    AfterValidator(_check_country),
]
"""ISO 3166-1 alpha-2 country code, e.g. ``DE``."""

CurrencyCode = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[A-Z]{3}$"),
    AfterValidator(_check_currency),
]
"""ISO 4217 alphabetic currency code, e.g. ``EUR``."""

HsCode = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{6}(\d{2}){0,2}$")]
"""Harmonized System code: the 6-digit HS6 heading, optionally extended to 8 or 10 digits."""

OrderRef = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
]
"""The Odoo sale order name (e.g. ``S00042``): the shipment's business key."""
