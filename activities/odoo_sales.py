"""The shipment's side of Odoo: sales orders, deliveries, invoices, chatter and activities.

Odoo has no idempotency keys, so every write here is safe to repeat by construction: records are
searched for (by a stable reference) before they are created, and a record's state is checked
before any ``action_*`` call. Only public methods are used.

Reference data (a company's partner, country codes, incoterm codes) comes from
:meth:`OdooClient.read_reference`: read once per client, then at most its TTL (10 minutes) old.
Orders, partners, products and invoices are always read fresh.
"""

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from activities.errors import business_error
from activities.models import AcceptedOrder, AcceptOrderInput, PostedInvoice, ReleaseInvoiceInput
from activities.odoo import OdooClient, many2one_id
from canonical.billing import Charge
from canonical.order import Order
from canonical.parties import PartyRole
from canonical.shipment import Shipment

PARTNER_FIELDS = ["name", "street", "street2", "city", "zip", "country_id", "vat", "email", "phone"]
MARKER = "borderflow:"
"""Prefix of the reference Borderflow leaves in Odoo text, so a repeat can find its own write."""


class OdooSales:
    def __init__(self, odoo: OdooClient) -> None:
        self.odoo = odoo

    async def accept(self, input: AcceptOrderInput) -> AcceptedOrder:
        """Read the sale order, check it can ship, and confirm it if still a quotation.

        Safe to repeat: the order is confirmed only while it is a quotation (draft/sent).
        """
        odoo = self.odoo
        found = await odoo.search_read(
            "sale.order",
            [["name", "=", input.order_ref]],
            [
                "name",
                "state",
                "partner_shipping_id",
                "partner_id",
                "company_id",
                "currency_id",
                "incoterm",
                "incoterm_location",
                "order_line",
                "client_order_ref",
            ],
            limit=1,
        )
        if not found:
            raise business_error(
                "odoo", f"sale order {input.order_ref} not found", type="OrderNotFound"
            )
        order = found[0]
        if order["state"] not in ("draft", "sent", "sale"):
            raise business_error(
                "odoo",
                f"sale order {input.order_ref} is {order['state']}",
                type="OrderNotConfirmable",
            )
        shipment, canonical_order = await self._shipment_from_order(order, input)
        if order["state"] in ("draft", "sent"):
            await odoo.call("sale.order", "action_confirm", [order["id"]])
        pickings = await odoo.search_read(
            "stock.picking",
            [
                ["sale_id", "=", order["id"]],
                ["picking_type_code", "=", "outgoing"],
                ["state", "!=", "cancel"],
            ],
            ["name"],
            limit=1,
            order="id asc",
        )
        return AcceptedOrder(
            shipment=shipment,
            sale_order_id=order["id"],
            picking_id=pickings[0]["id"] if pickings else None,
            order=canonical_order,
        )

    async def _shipment_from_order(
        self, order: dict[str, Any], input: AcceptOrderInput
    ) -> tuple[Shipment, Order]:
        """Build the canonical shipment from the order; a gap in Odoo's data is a business error."""
        odoo = self.odoo
        company_partner = await self._reference_one(
            "res.company", many2one_id(order["company_id"]) or 0, "partner_id"
        )
        shipper_id = many2one_id(company_partner) or 0
        consignee_id = (
            many2one_id(order["partner_shipping_id"]) or many2one_id(order["partner_id"]) or 0
        )
        partners = {
            record["id"]: record
            for record in await odoo.read("res.partner", [shipper_id, consignee_id], PARTNER_FIELDS)
        }
        lines = await odoo.read(
            "sale.order.line",
            order["order_line"],
            ["product_id", "name", "product_uom_qty", "price_unit"],
        )
        product_ids = sorted({many2one_id(line["product_id"]) or 0 for line in lines})
        products = {
            record["id"]: record
            for record in await odoo.read(
                "product.product", product_ids, ["name", "hs_code", "country_of_origin"]
            )
        }
        country_ids = {many2one_id(p["country_id"]) for p in partners.values()}
        country_ids |= {many2one_id(p["country_of_origin"]) for p in products.values()}
        countries = await odoo.read_reference("res.country", (i for i in country_ids if i), "code")
        incoterm_id = many2one_id(order["incoterm"])
        incoterm_code = (
            await self._reference_one("account.incoterms", incoterm_id, "code")
            if incoterm_id
            else None
        )
        currency = order["currency_id"][1] if order["currency_id"] else None
        commodities = [_commodity(line, products, countries, currency) for line in lines]
        data = {
            "order_ref": input.order_ref,
            "shipper": _party(partners.get(shipper_id), countries, PartyRole.SHIPPER),
            "consignee": _party(partners.get(consignee_id), countries, PartyRole.CONSIGNEE),
            "incoterm": incoterm_code,
            "incoterm_place": order["incoterm_location"],
            "currency": currency,
            "commodities": commodities,
            "packages": input.packages,
            "carrier": input.carrier,
            "service_level": input.service_level,
            "references": {
                "sale_order_id": order["id"],
                "customer_id": many2one_id(order["partner_id"]),
            },
        }
        order_data = {
            "erp_reference": input.order_ref,
            "customer_po": order["client_order_ref"],
            "incoterm": {"code": incoterm_code, "place": order["incoterm_location"]},
            "lines": [
                {
                    "product_ref": str(many2one_id(line["product_id"])),
                    "description": c["description"],
                    "quantity": c["quantity"],
                    "unit_price": c["unit_value"],
                }
                for line, c in zip(lines, commodities, strict=True)
            ],
        }
        try:
            # Partner data in Python types: validated here, at the boundary, without strictness.
            return (
                Shipment.model_validate(data, strict=False),
                Order.model_validate(order_data, strict=False),
            )
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in err.errors()
            )
            raise business_error(
                "odoo", f"sale order {input.order_ref} cannot ship: {problems}", type="InvalidOrder"
            ) from None

    async def _reference_one(self, model: str, record_id: int, field: str) -> Any:
        """One cached reference value; a record Odoo lacks is an error, as in ``read_one``."""
        found = await self.odoo.read_reference(model, [record_id], field)
        if record_id not in found:
            raise business_error("odoo", f"{model} {record_id} does not exist",
                                 type="MissingError")  # fmt: skip
        return found[record_id]

    async def release_invoice(self, input: ReleaseInvoiceInput) -> PostedInvoice:
        """Create (once) and post (once) the customer invoice of the order.

        Search-before-create on ``invoice_origin``: a retry finds the invoice the first attempt
        made; a posted invoice is never posted again. A draft is posted, then read once.
        """
        odoo = self.odoo
        fields = ["name", "state", "amount_total", "currency_id"]
        found = await odoo.search_read(
            "account.move",
            [
                ["invoice_origin", "=", input.order_ref],
                ["move_type", "=", "out_invoice"],
                ["state", "!=", "cancel"],
            ],
            fields,
            limit=1,
            order="id asc",
        )
        if found and found[0]["state"] != "draft":
            invoice = found[0]
        else:
            # A draft: the one an earlier attempt left, or the one made here (nothing to read
            # before posting it). Posted, then read once for its number and total.
            draft_id = (
                found[0]["id"]
                if found
                else await odoo.create("account.move", await self._invoice_values(input))
            )
            await odoo.call("account.move", "action_post", [draft_id])
            invoice = await odoo.read_one("account.move", draft_id, fields)
        return PostedInvoice(
            invoice_id=invoice["id"],
            invoice_name=invoice["name"],
            amount_total=str(invoice["amount_total"]),
            currency=invoice["currency_id"][1],
        )

    async def _invoice_values(self, input: ReleaseInvoiceInput) -> dict[str, Any]:
        order = await self.odoo.read_one(
            "sale.order",
            input.sale_order_id,
            ["partner_id", "partner_invoice_id", "currency_id", "order_line"],
        )
        lines = await self.odoo.read(
            "sale.order.line",
            order["order_line"],
            ["product_id", "name", "product_uom_qty", "price_unit"],
        )
        return {
            "move_type": "out_invoice",
            "partner_id": many2one_id(order["partner_invoice_id"])
            or many2one_id(order["partner_id"]),
            "currency_id": many2one_id(order["currency_id"]),
            "invoice_origin": input.order_ref,
            "ref": input.shipment_id,
            "invoice_line_ids": [
                [
                    0,
                    0,
                    {
                        "product_id": many2one_id(line["product_id"]),
                        "name": line["name"],
                        "quantity": line["product_uom_qty"],
                        "price_unit": line["price_unit"],
                    },
                ]
                for line in lines
            ]
            + [[0, 0, charge_line(charge)] for charge in input.charges],
        }

    async def write_tracking_ref(self, picking_id: int, tracking_number: str) -> None:
        """Put the carrier tracking number on the delivery (no write when it is already there)."""
        picking = await self.odoo.read_one("stock.picking", picking_id, ["carrier_tracking_ref"])
        if picking["carrier_tracking_ref"] != tracking_number:
            await self.odoo.write(
                "stock.picking", [picking_id], {"carrier_tracking_ref": tracking_number}
            )

    async def post_note(self, order_id: int, key: str, text: str) -> int:
        """A chatter message on the order, once per ``key`` (e.g. a milestone's event id)."""
        marker = f"{MARKER}{key}"
        found = await self.odoo.search_read(
            "mail.message",
            [["model", "=", "sale.order"], ["res_id", "=", order_id], ["body", "ilike", marker]],
            ["id"], limit=1,
        )  # fmt: skip
        if found:
            return int(found[0]["id"])
        message_id = await self.odoo.call(
            "sale.order", "message_post", [order_id], body=f"{text} [{marker}]",
            message_type="comment",
        )  # fmt: skip
        return int(message_id)

    async def schedule_activity(
        self, order_id: int, key: str, summary: str, note: str, deadline: date
    ) -> None:
        """A to-do for the account team on the order, once per ``key`` (e.g. an SLA breach)."""
        marker = f"{MARKER}{key}"
        found = await self.odoo.search_read(
            "mail.activity",
            [["res_model", "=", "sale.order"], ["res_id", "=", order_id],
             ["note", "ilike", marker]],
            ["id"], limit=1,
        )  # fmt: skip
        if not found:
            await self.odoo.call(
                "sale.order", "activity_schedule", [order_id],
                act_type_xmlid="mail.mail_activity_data_todo", summary=summary,
                note=f"{note} [{marker}]", date_deadline=deadline.isoformat(),
            )  # fmt: skip

    async def cancel_picking(self, picking_id: int) -> None:
        """Cancel the delivery unless it is already cancelled; a done delivery is refused."""
        picking = await self.odoo.read_one("stock.picking", picking_id, ["state"])
        if picking["state"] == "done":
            raise business_error("odoo", f"delivery {picking_id} is done: it cannot be cancelled",
                                 type="PickingDone")  # fmt: skip
        if picking["state"] != "cancel":
            await self.odoo.call("stock.picking", "action_cancel", [picking_id])

    async def credit_invoice(self, invoice_id: int, reason: str) -> int:
        """The posted credit note reversing ``invoice_id``, created once.

        A draft invoice is cancelled instead (nothing was booked yet); returns the credit note's
        id, or the cancelled invoice's.
        """
        invoice = await self.odoo.read_one("account.move", invoice_id, ["state"])
        if invoice["state"] == "draft":
            await self.odoo.call("account.move", "button_cancel", [invoice_id])
            return invoice_id
        if invoice["state"] == "cancel":
            return invoice_id
        found = await self.odoo.search_read(
            "account.move",
            [["reversed_entry_id", "=", invoice_id], ["move_type", "=", "out_refund"],
             ["state", "!=", "cancel"]],
            ["id"], limit=1,
        )  # fmt: skip
        if found:
            return int(found[0]["id"])
        wizard = await self.odoo.create(
            "account.move.reversal",
            {"move_ids": [[6, 0, [invoice_id]]], "reason": reason, "journal_id": False},
        )
        action = await self.odoo.call("account.move.reversal", "reverse_moves", [wizard])
        return int(action["res_id"])


def charge_line(charge: Charge) -> dict[str, Any]:
    """An invoice line for a freight, duty or tax charge; a provisional one says so."""
    label = charge.description or charge.kind.value.capitalize()
    if charge.provisional:
        label += " (provisional: carrier's final charges pending)"
    return {"name": label, "quantity": 1, "price_unit": float(charge.amount.amount)}


def _party(
    record: dict[str, Any] | None, countries: dict[int, str], role: PartyRole
) -> dict[str, Any]:
    """A canonical Party (as a dict, validated by the caller) from a res.partner record."""
    record = record or {}
    return {
        "name": record.get("name"),
        "roles": [role],
        "address": {
            "lines": [line for line in (record.get("street"), record.get("street2")) if line],
            "city": record.get("city"),
            "postal_code": record.get("zip"),
            "country": countries.get(many2one_id(record.get("country_id")) or 0),
        },
        "vat": record.get("vat"),
        "email": record.get("email"),
        "phone": record.get("phone"),
    }


def _commodity(
    line: dict[str, Any],
    products: dict[int, dict[str, Any]],
    countries: dict[int, str],
    currency: str | None,
) -> dict[str, Any]:
    """A canonical Commodity (as a dict) from a sale order line and its product."""
    product = products.get(many2one_id(line["product_id"]) or 0, {})
    hs_code = (product.get("hs_code") or "").replace(".", "").replace(" ", "")
    return {
        "description": line["name"],
        "quantity": Decimal(str(line["product_uom_qty"])),
        "unit": "C62",
        "unit_value": {"amount": Decimal(str(line["price_unit"])), "currency": currency},
        "hs6": hs_code[:6] or None,
        "origin_country": countries.get(many2one_id(product.get("country_of_origin")) or 0),
    }
