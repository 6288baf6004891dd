"""Seed data of a fresh Odoo simulator (created through the ORM, so it is validated too).

Ids are stable, so clients and docs can rely on them:

* ``res.country``: every ISO 3166-1 country (from ``pycountry``), ordered by code as in Odoo.
* ``res.currency``: 1 EUR, 2 USD, 3 GBP, 4 CHF.
* ``res.partner``: 1 Borderflow Demo GmbH (the company, Hamburg DE); 2–6 Odoo's technical
  partners (OdooBot, Administrator, …) so that, as in a fresh Odoo, customers start at 7:
  7 Northwind Robotics Inc. (US), 8 Thames Valley Components Ltd (GB),
  9 Alpenlicht Instruments AG (CH).
* ``res.company``: 1 Borderflow Demo GmbH, partner 1, currency EUR.
* ``account.incoterms``: 1 EXW, 2 FCA, 3 CPT, 4 CIP, 5 DAP, 6 DPU, 7 DDP, 8 FAS, 9 FOB,
  10 CFR, 11 CIF.
* ``product.product``: 1 rugged laptop (847130, CN), 2 power supply (850440, DE),
  3 cotton trousers (620342, PL).
* ``res.users``: 1 OdooBot (``__system__``, partner 2), 2 Administrator (``admin``, partner 3;
  the uid every call runs as).
* ``account.journal``: 1 Customer Invoices (``INV``), 2 Vendor Bills (``BILL``),
  3 Miscellaneous Operations (``MISC``).
* ``mail.activity.type``: 1 Email, 2 Call, 3 Meeting, 4 To-Do, 5 Upload Document,
  6 Exception (:data:`ACTIVITY_TYPES` maps Odoo's XML ids to them).

No sale orders: clients create them with ``sale.order.create``.
"""

from typing import Any

import pycountry

from simulators.odoo_store import OdooStore
from simulators.odoo_write import create_record

CURRENCIES = ("EUR", "USD", "GBP", "CHF")
INCOTERMS = (
    ("EXW", "EX WORKS"),
    ("FCA", "FREE CARRIER"),
    ("CPT", "CARRIAGE PAID TO"),
    ("CIP", "CARRIAGE AND INSURANCE PAID TO"),
    ("DAP", "DELIVERED AT PLACE"),
    ("DPU", "DELIVERED AT PLACE UNLOADED"),
    ("DDP", "DELIVERED DUTY PAID"),
    ("FAS", "FREE ALONGSIDE SHIP"),
    ("FOB", "FREE ON BOARD"),
    ("CFR", "COST AND FREIGHT"),
    ("CIF", "COST, INSURANCE AND FREIGHT"),
)
TECHNICAL_PARTNERS = (
    "OdooBot",
    "Administrator",
    "Public user",
    "Default User Template",
    "Portal User Template",
)
CUSTOMERS: tuple[dict[str, Any], ...] = (
    {
        "name": "Northwind Robotics Inc.",
        "street": "1200 Harbor Way",
        "street2": "Building C",
        "city": "Oakland",
        "zip": "94607",
        "country": "US",
        "vat": "94-1234567",
        "email": "purchasing@northwind-robotics.example",
        "phone": "+1 510 555 0142",
    },
    {
        "name": "Thames Valley Components Ltd",
        "street": "14 Riverside Park",
        "street2": "Unit 3",
        "city": "Reading",
        "zip": "RG1 8DB",
        "country": "GB",
        "vat": "GB123456789",
        "email": "orders@tvcomponents.example",
        "phone": "+44 118 496 0123",
    },
    {
        "name": "Alpenlicht Instruments AG",
        "street": "Bahnhofstrasse 21",
        "street2": False,
        "city": "Zürich",
        "zip": "8001",
        "country": "CH",
        "vat": "CHE-123.456.789 MWST",
        "email": "einkauf@alpenlicht.example",
        "phone": "+41 44 555 01 23",
    },
)
PRODUCTS: tuple[dict[str, Any], ...] = (
    {
        "name": 'Rugged Laptop 14"',
        "default_code": "BF-LAP-14",
        "hs_code": "847130",
        "origin": "CN",
        "weight": 2.1,
        "list_price": 899.0,
    },
    {
        "name": "Industrial Power Supply 24V",
        "default_code": "BF-PSU-24",
        "hs_code": "850440",
        "origin": "DE",
        "weight": 1.4,
        "list_price": 149.0,
    },
    {
        "name": "Men's Cotton Work Trousers",
        "default_code": "BF-TRS-01",
        "hs_code": "620342",
        "origin": "PL",
        "weight": 0.6,
        "list_price": 59.0,
    },
)


JOURNALS = (
    ("Customer Invoices", "INV", "sale"),
    ("Vendor Bills", "BILL", "purchase"),
    ("Miscellaneous Operations", "MISC", "general"),
)
ACTIVITY_TYPES = {
    "mail.mail_activity_data_email": "Email",
    "mail.mail_activity_data_call": "Call",
    "mail.mail_activity_data_meeting": "Meeting",
    "mail.mail_activity_data_todo": "To-Do",
    "mail.mail_activity_data_upload_document": "Upload Document",
    "mail.mail_activity_data_warning": "Exception",
}
"""Odoo XML id → activity type name; ids are 1, 2, … in this order."""


def activity_type_id(store: OdooStore, xmlid: str) -> int | None:
    """The seeded ``mail.activity.type`` id of an XML id (``mail.mail_activity_data_todo``)."""
    name = ACTIVITY_TYPES.get(xmlid)
    types = store.records["mail.activity.type"]
    return next((i for i in sorted(types) if types[i]["name"] == name), None)


def seed_missing(store: OdooStore) -> None:
    """Seed users, journals and activity types when absent (older state files lack them)."""
    if not store.records["res.users"]:
        partners = store.records["res.partner"]
        for name, login in (("OdooBot", "__system__"), ("Administrator", "admin")):
            partner = next((i for i in sorted(partners) if partners[i]["name"] == name), False)
            create_record(store, "res.users", {"name": name, "login": login, "partner_id": partner})
    if not store.records["account.journal"]:
        for name, code, kind in JOURNALS:
            create_record(store, "account.journal", {"name": name, "code": code, "type": kind})
    if not store.records["mail.activity.type"]:
        for name in ACTIVITY_TYPES.values():
            create_record(store, "mail.activity.type", {"name": name})


def seed(store: OdooStore) -> None:
    """Fill an empty store with the data listed in the module docstring."""
    countries: dict[str, int] = {}
    for country in sorted(pycountry.countries, key=lambda c: c.alpha_2):
        name = getattr(country, "common_name", None) or country.name
        countries[country.alpha_2] = create_record(
            store, "res.country", {"name": name, "code": country.alpha_2}
        )
    currencies = {code: create_record(store, "res.currency", {"name": code}) for code in CURRENCIES}
    company_partner = create_record(
        store,
        "res.partner",
        {
            "name": "Borderflow Demo GmbH",
            "is_company": True,
            "street": "Am Sandtorkai 50",
            "city": "Hamburg",
            "zip": "20457",
            "country_id": countries["DE"],
            "vat": "DE123456788",
            "email": "logistics@borderflow-demo.example",
            "phone": "+49 40 555 0100",
        },
    )
    for name in TECHNICAL_PARTNERS:
        create_record(store, "res.partner", {"name": name, "is_company": False})
    for customer in CUSTOMERS:
        vals = {k: v for k, v in customer.items() if k != "country"}
        create_record(
            store,
            "res.partner",
            {**vals, "is_company": True, "country_id": countries[customer["country"]]},
        )
    create_record(
        store,
        "res.company",
        {
            "name": "Borderflow Demo GmbH",
            "partner_id": company_partner,
            "currency_id": currencies["EUR"],
        },
    )
    for code, name in INCOTERMS:
        create_record(store, "account.incoterms", {"name": name, "code": code})
    for product in PRODUCTS:
        vals = {k: v for k, v in product.items() if k != "origin"}
        create_record(
            store,
            "product.product",
            {**vals, "country_of_origin": countries[product["origin"]]},
        )
    seed_missing(store)
