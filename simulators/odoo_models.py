"""The Odoo models the simulator serves: field types, relations, defaults and default order.

Declarative only; behaviour lives in :mod:`simulators.odoo_store` (generic ORM),
:mod:`simulators.odoo_business` (computed fields, sequences, actions) and the modules listed
in :mod:`simulators.odoo_actions`. The chatter models are declared in
:mod:`simulators.odoo_models_mail`.
"""

from collections.abc import Mapping

from simulators.odoo_fields import (
    MAGIC_FIELDS,
    RELATIONAL,
    X2MANY,
    FieldSpec,
    FieldType,
    ModelSpec,
    char,
    m2m,
    m2o,
    model,
    num,
    o2m,
    sel,
)
from simulators.odoo_models_mail import MAIL_MODELS

__all__ = ["MAGIC_FIELDS", "MODELS", "RELATIONAL", "X2MANY", "FieldSpec", "FieldType", "ModelSpec"]

PAYMENT_STATES = ("not_paid", "in_payment", "paid", "partial", "reversed", "invoicing_legacy")

MODELS: Mapping[str, ModelSpec] = {
    m.name: m
    for m in (
        model(
            "res.country",
            "Country",
            {"name": char("Country Name", required=True), "code": char("Country Code")},
            order="name",
        ),
        model("res.currency", "Currency", {"name": char("Currency", required=True)}, "name"),
        model(
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
        model(
            "res.company",
            "Companies",
            {
                "name": char("Company Name", required=True),
                "partner_id": m2o("res.partner", "Partner", required=True),
                "currency_id": m2o("res.currency", "Currency", required=True),
            },
            order="name",
        ),
        model(
            "account.incoterms",
            "Incoterms",
            {"name": char("Name", required=True), "code": char("Code", required=True)},
        ),
        model(
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
        model(
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
                "invoice_ids": m2m("account.move", "Invoices", computed=True),
                "amount_total": num("Total", kind="monetary", computed=True),
            },
            order="date_order desc, id desc",
            defaults={"state": "draft"},
        ),
        model(
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
        model(
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
        model(
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
                "journal_id": m2o("account.journal", "Journal"),
                "invoice_line_ids": o2m("account.move.line", "move_id", "Invoice lines"),
                "reversed_entry_id": m2o("account.move", "Reversal of"),
                "reversal_move_id": o2m("account.move", "reversed_entry_id", "Reversal Move"),
                "amount_total": num("Total", kind="monetary", computed=True),
                "payment_state": FieldSpec(
                    "selection",
                    "Payment Status",
                    selection=PAYMENT_STATES,
                    computed=True,
                ),
            },
            order="id desc",
            defaults={"state": "draft", "name": "/", "move_type": "out_invoice"},
        ),
        model(
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
        model(
            "res.users",
            "User",
            {
                "name": char("Name", required=True),
                "login": char("Login", required=True),
                "partner_id": m2o("res.partner", "Related Partner"),
            },
            order="name, login",
        ),
        model(
            "account.journal",
            "Journal",
            {
                "name": char("Journal Name", required=True),
                "code": char("Short Code", required=True),
                "type": sel("Type", "sale", "purchase", "cash", "bank", "general", required=True),
            },
            order="code",
        ),
        model(
            "account.move.reversal",
            "Account move reversal",
            {
                "move_ids": m2m("account.move", "Journal Entry"),
                "new_move_ids": m2m("account.move", "New Moves"),
                "reason": char("Reason"),
                "journal_id": m2o("account.journal", "Use Specific Journal"),
                "date": FieldSpec("date", "Reversal date"),
            },
        ),
        *MAIL_MODELS,
    )
}
