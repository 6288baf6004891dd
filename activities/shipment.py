"""The shipment activities: every side effect of the lifecycle on a partner.

Every activity is safe to run more than once (Temporal retries and replays them):
- REST partners get an ``Idempotency-Key`` made of the shipment id and the step;
- Odoo, which has no keys, is searched before anything is created and its records' states
  are checked before any ``action_*`` call;
- the tracking link in our store is an idempotent insert.
Business refusals are raised as non-retryable errors; transient failures are retried.
"""

import asyncio
from decimal import Decimal
from typing import Any

from pydantic import ValidationError
from sqlalchemy.engine import Engine
from temporalio import activity

from activities.broker import BrokerClient
from activities.carrier import EasyPostClient
from activities.errors import business_error
from activities.finance import FinanceNotifier
from activities.models import (
    AcceptedOrder,
    AcceptOrderInput,
    CarrierBooking,
    FileCustomsInput,
    FiledDeclaration,
    NotifyFinanceInput,
    PostedInvoice,
    RecordTrackingInput,
    ReleaseInvoiceInput,
    StepInput,
    TransportOrderRef,
)
from activities.odoo import OdooClient, many2one_id
from activities.tms import TmsClient
from canonical.order import Order
from canonical.parties import PartyRole
from canonical.shipment import Shipment
from store.tracking import link_tracking

PARTNER_FIELDS = ["name", "street", "street2", "city", "zip", "country_id", "vat", "email", "phone"]


def step_key(shipment_id: str, step: str) -> str:
    """The idempotency key of one side effect of one shipment."""
    return f"{shipment_id}:{step}"


class ShipmentActivities:
    """Activities bound to the partner clients of one worker."""

    def __init__(
        self,
        *,
        odoo: OdooClient,
        tms: TmsClient,
        carrier: EasyPostClient,
        broker: BrokerClient,
        finance: FinanceNotifier,
        store: Engine,
    ) -> None:
        self._odoo = odoo
        self._tms = tms
        self._carrier = carrier
        self._broker = broker
        self._finance = finance
        self._store = store

    # -- accept ---------------------------------------------------------------------------

    @activity.defn
    async def accept_order(self, input: AcceptOrderInput) -> AcceptedOrder:
        """Read the sale order, check it can ship, and confirm it if still a quotation."""
        odoo = self._odoo
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
            await odoo.execute_kw("sale.order", "action_confirm", [[order["id"]]])
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
        odoo = self._odoo
        company = await odoo.read_one(
            "res.company", many2one_id(order["company_id"]) or 0, ["partner_id"]
        )
        shipper_id = many2one_id(company["partner_id"]) or 0
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
        countries = {
            record["id"]: record["code"]
            for record in await odoo.read(
                "res.country", sorted(i for i in country_ids if i), ["code"]
            )
        }
        incoterm_id = many2one_id(order["incoterm"])
        incoterm = (
            await odoo.read_one("account.incoterms", incoterm_id, ["code"]) if incoterm_id else {}
        )
        currency = order["currency_id"][1] if order["currency_id"] else None
        commodities = [_commodity(line, products, countries, currency) for line in lines]
        data = {
            "order_ref": input.order_ref,
            "shipper": _party(partners.get(shipper_id), countries, PartyRole.SHIPPER),
            "consignee": _party(partners.get(consignee_id), countries, PartyRole.CONSIGNEE),
            "incoterm": incoterm.get("code"),
            "incoterm_place": order["incoterm_location"],
            "currency": currency,
            "commodities": commodities,
            "packages": input.packages,
            "carrier": input.carrier,
            "service_level": input.service_level,
            "references": {"sale_order_id": order["id"]},
        }
        order_data = {
            "erp_reference": input.order_ref,
            "customer_po": order["client_order_ref"],
            "incoterm": {"code": incoterm.get("code"), "place": order["incoterm_location"]},
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

    # -- book -----------------------------------------------------------------------------

    @activity.defn
    async def create_transport_order(self, input: StepInput) -> TransportOrderRef:
        order = await self._tms.create_transport_order(
            input.shipment_id,
            input.shipment,
            idempotency_key=step_key(input.shipment_id, "transport-order"),
        )
        return TransportOrderRef(transport_order_id=order.id)

    @activity.defn
    async def book_carrier(self, input: StepInput) -> CarrierBooking:
        bought = await self._carrier.buy_label(
            input.shipment_id, input.shipment, idempotency_key=step_key(input.shipment_id, "book")
        )
        return CarrierBooking(
            carrier=input.shipment.carrier,
            carrier_shipment_id=bought.id,
            tracking_number=bought.tracking_code,
            label_url=bought.postage_label.label_url if bought.postage_label else None,
        )

    @activity.defn
    async def record_tracking(self, input: RecordTrackingInput) -> None:
        """Link the tracking number to the shipment (for webhooks) and write it to Odoo."""
        try:
            await asyncio.to_thread(
                link_tracking, self._store, input.carrier, input.tracking_number, input.shipment_id
            )
        except ValueError as err:
            raise business_error("store", str(err), type="TrackingConflict") from None
        if input.picking_id is None:
            return
        picking = await self._odoo.read_one(
            "stock.picking", input.picking_id, ["carrier_tracking_ref"]
        )
        if picking["carrier_tracking_ref"] != input.tracking_number:
            await self._odoo.write(
                "stock.picking",
                [input.picking_id],
                {"carrier_tracking_ref": input.tracking_number},
            )

    # -- customs --------------------------------------------------------------------------

    @activity.defn
    async def file_customs(self, input: FileCustomsInput) -> FiledDeclaration:
        declaration = await self._broker.file_export_declaration(
            input.shipment_id,
            input.shipment,
            input.tracking_number,
            idempotency_key=step_key(input.shipment_id, "customs-export"),
        )
        return FiledDeclaration(declaration_id=declaration.id, lrn=declaration.lrn)

    # -- invoice --------------------------------------------------------------------------

    @activity.defn
    async def release_invoice(self, input: ReleaseInvoiceInput) -> PostedInvoice:
        """Create (once) and post (once) the customer invoice of the order.

        Search-before-create on ``invoice_origin``: a retry finds the invoice the first attempt
        made; a posted invoice is never posted again.
        """
        odoo = self._odoo
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
        if found:
            invoice = found[0]
        else:
            invoice_id = await odoo.create("account.move", await self._invoice_values(input))
            invoice = await odoo.read_one("account.move", invoice_id, fields)
        if invoice["state"] == "draft":
            await odoo.execute_kw("account.move", "action_post", [[invoice["id"]]])
            invoice = await odoo.read_one("account.move", invoice["id"], fields)
        return PostedInvoice(
            invoice_id=invoice["id"],
            invoice_name=invoice["name"],
            amount_total=str(invoice["amount_total"]),
            currency=invoice["currency_id"][1],
        )

    async def _invoice_values(self, input: ReleaseInvoiceInput) -> dict[str, Any]:
        order = await self._odoo.read_one(
            "sale.order",
            input.sale_order_id,
            ["partner_id", "partner_invoice_id", "currency_id", "order_line"],
        )
        lines = await self._odoo.read(
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
            ],
        }

    @activity.defn
    async def notify_finance(self, input: NotifyFinanceInput) -> None:
        invoice = input.invoice
        await self._finance.invoice_posted(
            text=(
                f"Invoice {invoice.invoice_name} posted for {input.order_ref}: "
                f"{invoice.amount_total} {invoice.currency}"
            ),
            details={
                "shipment_id": input.shipment_id,
                "order_ref": input.order_ref,
                "invoice_id": str(invoice.invoice_id),
                "invoice_name": invoice.invoice_name,
                "amount_total": str(invoice.amount_total),
                "currency": invoice.currency,
            },
            idempotency_key=step_key(input.shipment_id, "finance-notify"),
        )


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
