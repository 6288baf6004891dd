"""Odoo methods beyond confirm/post: cancellations, the reversal wizard, chatter, activities."""

from datetime import UTC, datetime

import httpx
import pytest
from sim_odoo_client import ORDER, Odoo

from simulators.app import RunningSimulators

YEAR = datetime.now(UTC).year


@pytest.fixture
def odoo(http: httpx.AsyncClient, sims: RunningSimulators) -> Odoo:
    return Odoo(http, sims.url("odoo"))


async def posted_invoice(odoo: Odoo) -> int:
    move_id: int = await odoo.call(
        "account.move",
        "create",
        {
            "partner_id": 7,
            "invoice_origin": "S00001",
            "invoice_line_ids": [[0, 0, {"product_id": 1, "quantity": 2, "price_unit": 899.0}]],
        },
    )
    await odoo.call("account.move", "action_post", [move_id])
    return move_id


async def test_cancellations(odoo: Odoo) -> None:
    order_id = await odoo.call("sale.order", "create", ORDER)
    await odoo.call("sale.order", "action_confirm", [order_id])
    [order] = await odoo.call("sale.order", "read", [order_id], ["picking_ids"])
    picking_ids = order["picking_ids"]
    assert await odoo.call("stock.picking", "action_cancel", picking_ids) is True
    assert await odoo.call("stock.picking", "action_cancel", picking_ids) is True  # repeat-safe
    [picking] = await odoo.call("stock.picking", "read", picking_ids, ["state"])
    assert picking["state"] == "cancel"
    assert await odoo.call("sale.order", "action_cancel", [order_id]) is True
    [order] = await odoo.call("sale.order", "read", [order_id], ["state"])
    assert order["state"] == "cancel"

    other = await odoo.call("sale.order", "create", ORDER)
    await odoo.call("sale.order", "action_confirm", [other])
    [row] = await odoo.call("sale.order", "read", [other], ["picking_ids"])
    await odoo.call("stock.picking", "write", row["picking_ids"], {"state": "done"})
    data = await odoo.error("stock.picking", "action_cancel", row["picking_ids"])
    assert data["name"] == "odoo.exceptions.UserError"

    draft = await odoo.call(
        "account.move", "create", {"partner_id": 7, "invoice_line_ids": [[0, 0, {"name": "x"}]]}
    )
    assert await odoo.call("account.move", "button_cancel", [draft]) is True
    [move] = await odoo.call("account.move", "read", [draft], ["state"])
    assert move["state"] == "cancel"
    for not_draft in (draft, await posted_invoice(odoo)):
        data = await odoo.error("account.move", "button_cancel", [not_draft])
        assert data["name"] == "odoo.exceptions.UserError"  # draft only


async def test_reversal_wizard(odoo: Odoo) -> None:
    order_id = await odoo.call("sale.order", "create", ORDER)
    invoice_id = await posted_invoice(odoo)
    wizard_id = await odoo.call(
        "account.move.reversal",
        "create",
        {"move_ids": [[6, 0, [invoice_id]]], "reason": "order cancelled", "journal_id": False},
    )
    action = await odoo.call("account.move.reversal", "reverse_moves", [wizard_id])
    assert action["type"] == "ir.actions.act_window"
    assert action["res_model"] == "account.move"
    refund_id = action["res_id"]
    [refund] = await odoo.call(
        "account.move",
        "read",
        [refund_id],
        ["move_type", "state", "name", "reversed_entry_id", "amount_total", "partner_id", "ref"],
    )
    assert refund["move_type"] == "out_refund"
    assert refund["state"] == "posted"
    assert refund["name"] == f"RINV/{YEAR}/00001"
    assert refund["reversed_entry_id"] == [invoice_id, f"INV/{YEAR}/00001"]
    assert refund["amount_total"] == 1798.0
    assert refund["partner_id"][0] == 7
    assert refund["ref"] == f"Reversal of: INV/{YEAR}/00001, order cancelled"
    [invoice] = await odoo.call("account.move", "read", [invoice_id], ["reversal_move_id"])
    assert invoice["reversal_move_id"] == [refund_id]
    [order] = await odoo.call("sale.order", "read", [order_id], ["invoice_ids"])
    assert order["invoice_ids"] == [invoice_id, refund_id]
    found = await odoo.call("account.move", "search", [["reversed_entry_id", "=", invoice_id]])
    assert found == [refund_id]

    draft = await odoo.call(
        "account.move", "create", {"partner_id": 7, "invoice_line_ids": [[0, 0, {"name": "x"}]]}
    )
    wizard_id = await odoo.call("account.move.reversal", "create", {"move_ids": [[6, 0, [draft]]]})
    data = await odoo.error("account.move.reversal", "reverse_moves", [wizard_id])
    assert data["name"] == "odoo.exceptions.UserError"
    assert await odoo.call("account.move", "search_count", [["move_type", "=", "out_refund"]]) == 1


async def test_message_post(odoo: Odoo) -> None:
    order_id = await odoo.call("sale.order", "create", ORDER)
    message_id = await odoo.call(
        "sale.order", "message_post", [order_id], body="Shipped with EZ1", message_type="comment"
    )
    assert isinstance(message_id, int)
    [message] = await odoo.call(
        "mail.message",
        "read",
        [message_id],
        ["model", "res_id", "body", "message_type", "author_id"],
    )
    assert message == {
        "id": message_id,
        "model": "sale.order",
        "res_id": order_id,
        "body": "Shipped with EZ1",
        "message_type": "comment",
        "author_id": [3, "Administrator"],
    }
    other = await odoo.call("sale.order", "create", ORDER)
    data = await odoo.error("sale.order", "message_post", [order_id, other], body="x")
    assert data["name"] == "builtins.ValueError"  # singleton only
    data = await odoo.error("sale.order", "message_post", [order_id], "positional body")
    assert data["name"] == "builtins.TypeError"  # keyword arguments only, as in Odoo
    data = await odoo.error("sale.order", "message_post", [4242], body="x")
    assert data["name"] == "odoo.exceptions.MissingError"


async def test_activity_schedule(odoo: Odoo) -> None:
    order_id = await odoo.call("sale.order", "create", ORDER)
    ids = await odoo.call(
        "sale.order",
        "activity_schedule",
        [order_id],
        act_type_xmlid="mail.mail_activity_data_todo",
        summary="Customs hold",
        note="Documents missing",
        date_deadline="2026-06-01",
    )
    [activity] = await odoo.call(
        "mail.activity",
        "read",
        ids,
        ["res_model", "res_id", "summary", "note", "date_deadline", "activity_type_id"],
    )
    assert activity == {
        "id": ids[0],
        "res_model": "sale.order",
        "res_id": order_id,
        "summary": "Customs hold",
        "note": "Documents missing",
        "date_deadline": "2026-06-01",
        "activity_type_id": [4, "To-Do"],
    }
    [default] = await odoo.call("sale.order", "activity_schedule", [order_id], summary="x")
    [row] = await odoo.call("mail.activity", "read", [default], ["date_deadline", "user_id"])
    assert row["date_deadline"] == datetime.now(UTC).strftime("%Y-%m-%d")
    assert row["user_id"] == [2, "Administrator"]
    data = await odoo.error(
        "sale.order", "activity_schedule", [order_id], act_type_xmlid="mail.nope"
    )
    assert data["name"] == "builtins.ValueError"
    data = await odoo.error(
        "sale.order", "activity_schedule", [order_id], date_deadline="01/06/2026"
    )
    assert data["name"] == "odoo.exceptions.ValidationError"
    assert await odoo.call("mail.activity", "search_count", []) == 2
