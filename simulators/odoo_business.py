"""Model-specific Odoo behaviour: computed fields, create defaults, sequences and actions.

Guarantees (mirroring Odoo 17):

* ``sale.order`` gets the next ``S00001``-style name, ``state = draft``, invoice/shipping
  address defaulting to the customer, company 1 and the company currency.
* ``price_subtotal = round(quantity × price_unit, 2)``; ``amount_total`` is the sum of the
  lines' subtotals (no taxes are modelled), always up to date.
* ``sale.order.invoice_ids`` are the customer invoices/refunds whose ``invoice_origin`` is the
  order's name.
* ``account.move.payment_state`` (no payments are modelled, so never ``partial``/``in_payment``):
  ``not_paid`` unless posted; a posted invoice/refund is ``reversed`` when a posted reversal of
  the same total exists, ``paid`` when nothing is due (total 0, or it is that full reversal),
  else ``not_paid``; posted miscellaneous entries stay ``not_paid``.
* ``res.users.context_get`` (``@api.model``, read-only): ``{"lang": "en_US", "tz": false,
  "uid": 2}`` — the admin every call runs as, English the only language, no time zone set.
* ``action_confirm``: draft/sent → sale and one outgoing ``stock.picking`` (``WH/OUT/00001``)
  per order; any other state → ``UserError`` and nothing changes.
* ``action_post``: draft → posted, ``name`` becomes ``INV/<year>/<5 digits>`` (per year;
  ``RINV``/``BILL``/``RBILL``/``MISC`` for other move types), ``invoice_date`` defaults to
  today; any other state, a missing customer or no lines → ``UserError``.
* ``button_cancel``: draft entries only (``UserError`` otherwise, as "draft only" says).
* ``stock.picking.action_cancel``: any transfer not done → ``cancel`` (repeat-safe); a done
  one → ``UserError``.
* Posted entries refuse changes to partner, currency or lines (``UserError``).
* New entries get the journal of their type (``INV`` for customer invoices and refunds,
  ``BILL`` for vendor bills, ``MISC`` otherwise) when it exists.
"""

from collections.abc import Callable, Mapping
from typing import Any

from simulators.clock import utc_now
from simulators.odoo_errors import UserError
from simulators.odoo_store import Hooks, OdooStore, now_string
from simulators.odoo_write import create_record, write_records

COMPANY_ID = 1
ADMIN_UID = 2
MOVE_PREFIXES = {
    "out_invoice": "INV",
    "out_refund": "RINV",
    "in_invoice": "BILL",
    "in_refund": "RBILL",
    "entry": "MISC",
}
INVOICE_TYPES = ("out_invoice", "out_refund", "in_invoice", "in_refund")
LOCKED_WHEN_POSTED = frozenset({"partner_id", "currency_id", "invoice_line_ids", "move_type"})

Action = Callable[..., Any]


def _rec(store: OdooStore, model: str, rec_id: int) -> dict[str, Any]:
    return store.records[model][rec_id]


def _subtotal(model: str, qty_field: str) -> Callable[[OdooStore, int], float]:
    def compute(store: OdooStore, rec_id: int) -> float:
        line = _rec(store, model, rec_id)
        return round(float(line[qty_field] or 0.0) * float(line["price_unit"] or 0.0), 2)

    return compute


def _total(model: str, lines_field: str, line_model: str) -> Callable[[OdooStore, int], float]:
    def compute(store: OdooStore, rec_id: int) -> float:
        ids = store.raw(model, rec_id, lines_field)
        return round(sum(store.raw(line_model, i, "price_subtotal") for i in ids), 2)

    return compute


def _order_invoices(store: OdooStore, rec_id: int) -> list[int]:
    name = _rec(store, "sale.order", rec_id)["name"]
    moves = store.records["account.move"]
    return [
        i
        for i in sorted(moves)
        if moves[i]["invoice_origin"] == name
        and moves[i]["move_type"] in ("out_invoice", "out_refund")
    ]


def _partner_country_code(store: OdooStore, rec_id: int) -> Any:
    country = _rec(store, "res.partner", rec_id)["country_id"]
    return _rec(store, "res.country", country)["code"] if country else False


def _product_display_name(store: OdooStore, rec_id: int) -> str:
    product = _rec(store, "product.product", rec_id)
    code = product["default_code"]
    return f"[{code}] {product['name']}" if code else str(product["name"])


def _line_display_name(store: OdooStore, rec_id: int) -> str:
    line = _rec(store, "sale.order.line", rec_id)
    return f"{_rec(store, 'sale.order', line['order_id'])['name']} - {line['name']}"


def _is_full_reversal(store: OdooStore, reversal_id: int) -> bool:
    """A posted reversal of a posted entry with the same total (reconciles it in full)."""
    reversal = _rec(store, "account.move", reversal_id)
    original = reversal["reversed_entry_id"]
    return (
        reversal["state"] == "posted"
        and bool(original)
        and _rec(store, "account.move", original)["state"] == "posted"
        and store.raw("account.move", original, "amount_total")
        == store.raw("account.move", reversal_id, "amount_total")
    )


def _payment_state(store: OdooStore, rec_id: int) -> str:
    move = _rec(store, "account.move", rec_id)
    if move["state"] != "posted" or move["move_type"] not in INVOICE_TYPES:
        return "not_paid"
    reversals = store.raw("account.move", rec_id, "reversal_move_id")
    if any(_is_full_reversal(store, i) for i in reversals):
        return "reversed"
    if _is_full_reversal(store, rec_id) or not store.raw("account.move", rec_id, "amount_total"):
        return "paid"
    return "not_paid"


COMPUTES: Mapping[tuple[str, str], Callable[[OdooStore, int], Any]] = {
    ("sale.order.line", "price_subtotal"): _subtotal("sale.order.line", "product_uom_qty"),
    ("account.move.line", "price_subtotal"): _subtotal("account.move.line", "quantity"),
    ("sale.order", "amount_total"): _total("sale.order", "order_line", "sale.order.line"),
    ("account.move", "amount_total"): _total(
        "account.move", "invoice_line_ids", "account.move.line"
    ),
    ("sale.order", "invoice_ids"): _order_invoices,
    ("account.move", "payment_state"): _payment_state,
    ("res.partner", "country_code"): _partner_country_code,
    ("product.product", "display_name"): _product_display_name,
    ("sale.order.line", "display_name"): _line_display_name,
}


def _company_currency(store: OdooStore) -> Any:
    company = store.records["res.company"].get(COMPANY_ID)
    return company["currency_id"] if company else False


def _sale_order_defaults(store: OdooStore, vals: dict[str, Any]) -> None:
    if vals.get("name") in (None, False, "", "/", "New"):
        vals["name"] = f"S{store.next_sequence('sale.order'):05d}"
    partner = vals.get("partner_id")
    vals.setdefault("partner_invoice_id", partner or False)
    vals.setdefault("partner_shipping_id", partner or False)
    if COMPANY_ID in store.records["res.company"]:
        vals.setdefault("company_id", COMPANY_ID)
    vals.setdefault("currency_id", _company_currency(store))
    vals.setdefault("date_order", now_string())


def _line_defaults(qty_field: str) -> Callable[[OdooStore, dict[str, Any]], None]:
    def hook(store: OdooStore, vals: dict[str, Any]) -> None:
        product_id = vals.get("product_id")
        products = store.records["product.product"]
        valid_id = isinstance(product_id, int) and not isinstance(product_id, bool)
        if valid_id and product_id in products:
            assert isinstance(product_id, int)
            product = products[product_id]
            vals.setdefault("name", store.display_name("product.product", product_id))
            vals.setdefault("price_unit", product["list_price"])
        vals.setdefault(qty_field, 1.0)

    return hook


def journal_for(store: OdooStore, move_type: str) -> Any:
    """The journal id for a move type, or ``False`` when that journal does not exist."""
    code = {"out_invoice": "INV", "out_refund": "INV", "in_invoice": "BILL", "in_refund": "BILL"}
    journals = store.records["account.journal"]
    wanted = code.get(move_type, "MISC")
    return next((i for i in sorted(journals) if journals[i]["code"] == wanted), False)


def _move_defaults(store: OdooStore, vals: dict[str, Any]) -> None:
    vals.setdefault("currency_id", _company_currency(store))
    if not vals.get("journal_id"):
        vals["journal_id"] = journal_for(store, vals.get("move_type") or "out_invoice")


def _picking_defaults(store: OdooStore, vals: dict[str, Any]) -> None:
    if vals.get("name") in (None, False, "", "/"):
        vals["name"] = f"WH/OUT/{store.next_sequence('stock.picking.out'):05d}"


HOOKS = Hooks(
    computes=COMPUTES,
    create_defaults={
        "sale.order": _sale_order_defaults,
        "sale.order.line": _line_defaults("product_uom_qty"),
        "account.move": _move_defaults,
        "account.move.line": _line_defaults("quantity"),
        "stock.picking": _picking_defaults,
    },
)


def action_confirm(store: OdooStore, ids: list[int]) -> bool:
    """Confirm draft/sent orders and create their outgoing pickings."""
    store.check_ids("sale.order", ids)
    orders = [_rec(store, "sale.order", i) for i in ids]
    refused = [o["name"] for o in orders if o["state"] not in ("draft", "sent")]
    if refused:
        raise UserError(
            "The following orders are not in a state requiring confirmation: " + ", ".join(refused)
        )
    for rec_id, order in zip(ids, orders, strict=True):
        write_records(store, "sale.order", [rec_id], {"state": "sale"})
        create_record(
            store,
            "stock.picking",
            {
                "origin": order["name"],
                "sale_id": rec_id,
                "partner_id": order["partner_shipping_id"] or order["partner_id"],
                "state": "assigned",
                "picking_type_code": "outgoing",
            },
        )
    return True


def action_cancel(store: OdooStore, ids: list[int]) -> bool:
    """Cancel orders and their pickings that are not done."""
    store.check_ids("sale.order", ids)
    for rec_id in ids:
        for picking in store.raw("sale.order", rec_id, "picking_ids"):
            if _rec(store, "stock.picking", picking)["state"] == "done":
                raise UserError("You cannot cancel an order whose delivery is already done.")
    for rec_id in ids:
        write_records(store, "sale.order", [rec_id], {"state": "cancel"})
        for picking in store.raw("sale.order", rec_id, "picking_ids"):
            write_records(store, "stock.picking", [picking], {"state": "cancel"})
    return True


def action_post(store: OdooStore, ids: list[int]) -> bool:
    """Post draft entries, assigning their sequence names."""
    store.check_ids("account.move", ids)
    for rec_id in ids:
        move = _rec(store, "account.move", rec_id)
        if move["state"] == "posted":
            raise UserError(f"The entry {move['name']} (id {rec_id}) is already posted.")
        if move["state"] != "draft":
            raise UserError(f"Only draft entries can be posted; entry (id {rec_id}) is cancelled.")
        if move["move_type"] in INVOICE_TYPES:
            if not move["partner_id"]:
                raise UserError(
                    "The field 'Customer' is required, please complete it to validate the "
                    "Customer Invoice."
                )
            if not store.raw("account.move", rec_id, "invoice_line_ids"):
                raise UserError("You need to add a line before posting.")
    for rec_id in ids:
        move = _rec(store, "account.move", rec_id)
        invoice_date = move["invoice_date"] or utc_now().strftime("%Y-%m-%d")
        prefix = f"{MOVE_PREFIXES[move['move_type']]}/{invoice_date[:4]}"
        name = f"{prefix}/{store.next_sequence(prefix):05d}"
        write_records(
            store,
            "account.move",
            [rec_id],
            {"state": "posted", "name": name, "invoice_date": invoice_date},
        )
    return True


def button_cancel(store: OdooStore, ids: list[int]) -> bool:
    """Cancel draft entries; any other state → ``UserError`` and nothing changes."""
    store.check_ids("account.move", ids)
    for rec_id in ids:
        if _rec(store, "account.move", rec_id)["state"] != "draft":
            raise UserError("Only draft journal entries can be cancelled.")
    for rec_id in ids:
        write_records(store, "account.move", [rec_id], {"state": "cancel"})
    return True


def picking_cancel(store: OdooStore, ids: list[int]) -> bool:
    """Cancel transfers that are not done (cancelled ones stay cancelled)."""
    store.check_ids("stock.picking", ids)
    for rec_id in ids:
        if _rec(store, "stock.picking", rec_id)["state"] == "done":
            raise UserError("You cannot cancel a transfer that is done.")
    for rec_id in ids:
        write_records(store, "stock.picking", [rec_id], {"state": "cancel"})
    return True


def check_write(store: OdooStore, model: str, ids: list[int], vals: dict[str, Any]) -> None:
    """Refuse business-invalid writes before they happen (posted invoices are locked)."""
    if model == "account.move" and LOCKED_WHEN_POSTED & set(vals):
        for rec_id in ids:
            move = store.records[model].get(rec_id)
            if move is not None and move["state"] == "posted":
                raise UserError(f"You cannot modify a posted entry ({move['name']}).")


def context_get(store: OdooStore) -> dict[str, Any]:
    """``res.users.context_get()``: the calling user's context (see the module docstring)."""
    return {"lang": "en_US", "tz": False, "uid": ADMIN_UID}


MODEL_ACTIONS: Mapping[tuple[str, str], Action] = {("res.users", "context_get"): context_get}
ACTIONS: Mapping[tuple[str, str], Action] = {
    ("sale.order", "action_confirm"): action_confirm,
    ("sale.order", "action_cancel"): action_cancel,
    ("stock.picking", "action_cancel"): picking_cancel,
    ("account.move", "action_post"): action_post,
    ("account.move", "button_cancel"): button_cancel,
}
