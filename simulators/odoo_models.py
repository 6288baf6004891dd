"""The Odoo models the simulator serves: field types, relations, defaults and default order.

Declarative only; behaviour lives in :mod:`simulators.odoo_store` (generic ORM) and
:mod:`simulators.odoo_business` (computed fields, sequences, actions). Every model also has
the magic fields ``id``, ``display_name``, ``create_date`` and ``write_date``.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

FieldType = Literal[
    "char",
    "text",
    "integer",
    "float",
    "monetary",
    "boolean",
    "selection",
    "date",
    "datetime",
    "many2one",
    "one2many",
    "many2many",
]
RELATIONAL = frozenset({"many2one", "one2many", "many2many"})
X2MANY = frozenset({"one2many", "many2many"})


@dataclass(frozen=True)
class FieldSpec:
    """One field. ``computed``/``readonly`` fields ignore writes; one2many needs ``inverse``."""

    type: FieldType
    string: str
    comodel: str | None = None
    inverse: str | None = None
    selection: tuple[str, ...] = ()
    required: bool = False
    computed: bool = False
    readonly: bool = False


@dataclass(frozen=True)
class ModelSpec:
    """One model: its fields, static defaults and default search order."""

    name: str
    description: str
    fields: Mapping[str, FieldSpec]
    order: str = "id"
    defaults: Mapping[str, Any] = field(default_factory=dict)


def char(string: str, *, required: bool = False, computed: bool = False) -> FieldSpec:
    """A char field."""
    return FieldSpec("char", string, required=required, computed=computed)


def num(string: str, *, kind: FieldType = "float", computed: bool = False) -> FieldSpec:
    """A float/monetary/integer field."""
    return FieldSpec(kind, string, computed=computed)


def m2o(comodel: str, string: str, *, required: bool = False) -> FieldSpec:
    """A many2one field."""
    return FieldSpec("many2one", string, comodel=comodel, required=required)


def o2m(comodel: str, inverse: str, string: str) -> FieldSpec:
    """A one2many field, stored as the comodel's ``inverse`` many2one."""
    return FieldSpec("one2many", string, comodel=comodel, inverse=inverse)


def sel(string: str, *values: str, required: bool = False) -> FieldSpec:
    """A selection field."""
    return FieldSpec("selection", string, selection=values, required=required)


MAGIC_FIELDS: Mapping[str, FieldSpec] = {
    "id": FieldSpec("integer", "ID", readonly=True),
    "display_name": FieldSpec("char", "Display Name", computed=True),
    "create_date": FieldSpec("datetime", "Created on", readonly=True),
    "write_date": FieldSpec("datetime", "Last Updated on", readonly=True),
}


def _model(
    name: str,
    description: str,
    fields: dict[str, FieldSpec],
    order: str = "id",
    defaults: Mapping[str, Any] | None = None,
) -> ModelSpec:
    return ModelSpec(name, description, {**fields, **MAGIC_FIELDS}, order, defaults or {})


MODELS: Mapping[str, ModelSpec] = {
    m.name: m
    for m in (
        _model(
            "res.country",
            "Country",
            {"name": char("Country Name", required=True), "code": char("Country Code")},
            order="name",
        ),
        _model("res.currency", "Currency", {"name": char("Currency", required=True)}, "name"),
        _model(
            "res.partner",
            "Contact",
            {
                "name": char("Name", required=True),
                "is_company": FieldSpec("boolean", "Is a Company"),
                "street": char("Street"),
                "street2": char("Street2"),
                "city": char("City"),
                "zip": char("Zip"),
                "country_id": m2o("res.country", "Country"),
                "country_code": char("Country Code", computed=True),
                "vat": char("Tax ID"),
                "email": char("Email"),
                "phone": char("Phone"),
            },
            order="name, id desc",
        ),
        _model(
            "res.company",
            "Companies",
            {
                "name": char("Company Name", required=True),
                "partner_id": m2o("res.partner", "Partner", required=True),
                "currency_id": m2o("res.currency", "Currency", required=True),
            },
            order="name",
        ),
        _model(
            "account.incoterms",
            "Incoterms",
            {"name": char("Name", required=True), "code": char("Code", required=True)},
        ),
        _model(
            "product.product",
            "Product Variant",
            {
                "name": char("Name", required=True),
                "default_code": char("Internal Reference"),
                "hs_code": char("HS Code"),
                "country_of_origin": m2o("res.country", "Origin of Goods"),
                "weight": num("Weight"),
                "list_price": num("Sales Price"),
            },
            order="default_code, name, id",
        ),
        _model(
            "sale.order",
            "Sales Order",
            {
                "name": char("Order Reference", required=True),
                "state": sel("Status", "draft", "sent", "sale", "cancel", required=True),
                "partner_id": m2o("res.partner", "Customer", required=True),
                "partner_shipping_id": m2o("res.partner", "Delivery Address"),
                "partner_invoice_id": m2o("res.partner", "Invoice Address"),
                "company_id": m2o("res.company", "Company"),
                "currency_id": m2o("res.currency", "Currency"),
                "incoterm": m2o("account.incoterms", "Incoterm"),
                "incoterm_location": char("Incoterm Location"),
                "client_order_ref": char("Customer Reference"),
                "date_order": FieldSpec("datetime", "Order Date"),
                "order_line": o2m("sale.order.line", "order_id", "Order Lines"),
                "picking_ids": o2m("stock.picking", "sale_id", "Transfers"),
                "invoice_ids": FieldSpec(
                    "many2many", "Invoices", comodel="account.move", computed=True
                ),
                "amount_total": num("Total", kind="monetary", computed=True),
            },
            order="date_order desc, id desc",
            defaults={"state": "draft"},
        ),
        _model(
            "sale.order.line",
            "Sales Order Line",
            {
                "order_id": m2o("sale.order", "Order Reference", required=True),
                "product_id": m2o("product.product", "Product"),
                "name": FieldSpec("text", "Description", required=True),
                "product_uom_qty": num("Quantity"),
                "price_unit": num("Unit Price"),
                "price_subtotal": num("Subtotal", kind="monetary", computed=True),
            },
            order="order_id, id",
            defaults={"product_uom_qty": 1.0},
        ),
        _model(
            "stock.picking",
            "Transfer",
            {
                "name": char("Reference", required=True),
                "origin": char("Source Document"),
                "sale_id": m2o("sale.order", "Sales Order"),
                "partner_id": m2o("res.partner", "Contact"),
                "state": sel(
                    "Status", "draft", "waiting", "confirmed", "assigned", "done", "cancel"
                ),
                "picking_type_code": sel("Type of Operation", "incoming", "outgoing", "internal"),
                "carrier_tracking_ref": char("Tracking Reference"),
            },
            order="id desc",
            defaults={"state": "draft", "picking_type_code": "outgoing"},
        ),
        _model(
            "account.move",
            "Journal Entry",
            {
                "name": char("Number"),
                "move_type": sel(
                    "Type", "entry", "out_invoice", "out_refund", "in_invoice", "in_refund"
                ),
                "state": sel("Status", "draft", "posted", "cancel", required=True),
                "partner_id": m2o("res.partner", "Partner"),
                "invoice_origin": char("Origin"),
                "ref": char("Reference"),
                "currency_id": m2o("res.currency", "Currency"),
                "invoice_date": FieldSpec("date", "Invoice/Bill Date"),
                "invoice_line_ids": o2m("account.move.line", "move_id", "Invoice lines"),
                "amount_total": num("Total", kind="monetary", computed=True),
            },
            order="id desc",
            defaults={"state": "draft", "name": "/", "move_type": "out_invoice"},
        ),
        _model(
            "account.move.line",
            "Journal Item",
            {
                "move_id": m2o("account.move", "Journal Entry", required=True),
                "product_id": m2o("product.product", "Product"),
                "name": char("Label"),
                "quantity": num("Quantity"),
                "price_unit": num("Unit Price"),
                "price_subtotal": num("Subtotal", kind="monetary", computed=True),
            },
            order="move_id, id",
            defaults={"quantity": 1.0},
        ),
    )
}
