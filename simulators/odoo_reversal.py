"""The ``account.move.reversal`` wizard: credit notes for posted invoices.

Guarantees: ``create({"move_ids": [[6, 0, [id]]], "reason", "journal_id": false})`` stores
a wizard; ``reverse_moves(ids)`` refuses any move that is not posted (``UserError``, nothing
created), then for each move creates the reversed entry (``out_invoice`` → ``out_refund``,
``in_invoice`` → ``in_refund`` and back; same partner, currency, origin and lines;
``reversed_entry_id`` = the move; ``ref`` "Reversal of: <name>, <reason>"), posts it
(``RINV/<year>/<n>``) and returns Odoo's window action: ``res_id`` and ``view_mode: form`` for
one new entry, a ``domain`` over all of them otherwise.
"""

from collections.abc import Callable, Mapping
from typing import Any

from simulators.odoo_business import action_post
from simulators.odoo_errors import UserError
from simulators.odoo_store import OdooStore
from simulators.odoo_write import create_record, write_records

REVERSED_TYPE = {
    "out_invoice": "out_refund",
    "out_refund": "out_invoice",
    "in_invoice": "in_refund",
    "in_refund": "in_invoice",
    "entry": "entry",
}
WIZARD = "account.move.reversal"


def _reversal_vals(store: OdooStore, move_id: int, wizard: dict[str, Any]) -> dict[str, Any]:
    move = store.records["account.move"][move_id]
    reason = wizard["reason"]
    ref = f"Reversal of: {move['name']}, {reason}" if reason else f"Reversal of: {move['name']}"
    lines = [
        [
            0,
            0,
            {
                "name": line["name"],
                "product_id": line["product_id"],
                "quantity": line["quantity"],
                "price_unit": line["price_unit"],
            },
        ]
        for line in (
            store.records["account.move.line"][i]
            for i in store.raw("account.move", move_id, "invoice_line_ids")
        )
    ]
    return {
        "move_type": REVERSED_TYPE[move["move_type"]],
        "partner_id": move["partner_id"],
        "currency_id": move["currency_id"],
        "invoice_origin": move["invoice_origin"],
        "journal_id": wizard["journal_id"] or move["journal_id"],
        "invoice_date": wizard["date"] or False,
        "ref": ref,
        "reversed_entry_id": move_id,
        "invoice_line_ids": lines,
    }


def reverse_moves(store: OdooStore, ids: list[int]) -> dict[str, Any]:
    """Create and post the reversals of every wizard's moves; return the window action."""
    store.check_ids(WIZARD, ids)
    for wizard_id in ids:
        move_ids = store.raw(WIZARD, wizard_id, "move_ids")
        if not move_ids:
            raise UserError("There is no journal entry to reverse.")
        for move_id in move_ids:
            move = store.records["account.move"][move_id]
            if move["state"] != "posted":
                raise UserError(f"You can only reverse posted moves ({move['name']}).")
    created: list[int] = []
    for wizard_id in ids:
        wizard = store.records[WIZARD][wizard_id]
        new_ids = []
        for move_id in store.raw(WIZARD, wizard_id, "move_ids"):
            refund = create_record(store, "account.move", _reversal_vals(store, move_id, wizard))
            action_post(store, [refund])
            new_ids.append(refund)
        write_records(store, WIZARD, [wizard_id], {"new_move_ids": [[6, 0, new_ids]]})
        created.extend(new_ids)
    action: dict[str, Any] = {
        "name": "Reverse Moves",
        "type": "ir.actions.act_window",
        "res_model": "account.move",
    }
    types = {store.records["account.move"][i]["move_type"] for i in created}
    if len(created) == 1:
        action.update(view_mode="form", res_id=created[0])
    else:
        action.update(view_mode="tree,form", domain=[["id", "in", created]])
    if len(types) == 1:
        action["context"] = {"default_move_type": types.pop()}
    return action


ACTIONS: Mapping[tuple[str, str], Callable[..., Any]] = {(WIZARD, "reverse_moves"): reverse_moves}
