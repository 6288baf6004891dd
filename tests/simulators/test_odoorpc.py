"""A JSON-RPC client no one here wrote (PyPI ``odoorpc``) against the Odoo simulator.

odoorpc is synchronous (urllib). The simulator runs in the test's event loop, as every other
simulator test runs it, and each odoorpc session step runs in a worker thread
(``asyncio.to_thread``): while the thread blocks on HTTP, the loop is free to answer it. Each
test therefore groups its odoorpc calls in one plain function and awaits it once.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import odoorpc  # type: ignore[import-untyped]
import pytest
from odoorpc.error import RPCError  # type: ignore[import-untyped]
from sim_odoo_client import ORDER, PASSWORD
from sim_support import Receiver, running

from simulators.app import RunningSimulators

DB = "borderflow"


def connect(url: str, password: str = PASSWORD) -> Any:
    """A logged-in odoorpc session (version detected through ``/web/webclient/version_info``)."""
    parts = urlsplit(url)
    odoo = odoorpc.ODOO(parts.hostname, protocol="jsonrpc", port=parts.port, timeout=10)
    odoo.login(DB, "admin", password)
    return odoo


@pytest.fixture(params=["17.0", "18.0", "19.0"])
async def versioned(
    request: pytest.FixtureRequest, receiver: Receiver
) -> AsyncIterator[tuple[str, str]]:
    """``(server version, Odoo URL)`` of simulators running as that Odoo version."""
    async with running(receiver.url, sim_odoo_version=request.param) as started:
        yield request.param, started.url("odoo")


async def test_login_detects_version_and_loads_the_user_context(
    versioned: tuple[str, str],
) -> None:
    version, url = versioned

    def session() -> dict[str, Any]:
        odoo = connect(url)
        with pytest.raises(RPCError, match="Wrong login ID or password"):
            connect(url, password="wrong")
        return {
            "version": odoo.version,
            "uid": odoo.env.uid,
            "context": dict(odoo.env.context),
            "user": odoo.env.user.name,
            "partner": odoo.env.user.partner_id.name,
            "web_login": odoo.json(
                "/web/session/authenticate", {"db": DB, "login": "admin", "password": PASSWORD}
            )["result"],
        }

    seen = await asyncio.to_thread(session)
    assert seen["version"] == version
    assert seen["uid"] == 2
    assert seen["context"] == {"lang": "en_US", "tz": False, "uid": 2}
    assert (seen["user"], seen["partner"]) == ("Administrator", "Administrator")
    web = seen["web_login"]
    assert (web["uid"], web["db"], web["username"]) == (2, DB, "admin")
    assert web["user_context"] == seen["context"]
    assert web["server_version"] == version


async def test_reads_orders_posts_an_invoice_and_follows_its_payment_state(
    sims: RunningSimulators,
) -> None:
    year = datetime.now(UTC).year

    def session() -> dict[str, Any]:
        odoo = connect(sims.url("odoo"))
        SaleOrder, Move = odoo.env["sale.order"], odoo.env["account.move"]
        order_id = SaleOrder.create({**ORDER, "client_order_ref": "PO-77"})
        rows = SaleOrder.search_read([["client_order_ref", "=", "PO-77"]], ["name", "state"])
        order = SaleOrder.browse(order_id)
        out: dict[str, Any] = {
            "rows": rows,
            "order": (order.name, order.partner_id.name, order.amount_total),
            "lines": [
                (line.product_id.default_code, line.product_uom_qty) for line in order.order_line
            ],
            "defaults": Move.default_get(["state", "move_type", "partner_id", "name"]),
        }
        move_id = Move.create(
            {
                "partner_id": order.partner_id.id,
                "invoice_origin": order.name,
                "invoice_line_ids": [[0, 0, {"product_id": 1, "quantity": 2, "price_unit": 899.0}]],
            }
        )
        invoice = Move.browse(move_id)
        out["draft"] = (invoice.state, invoice.payment_state)
        invoice.action_post()
        invoice = Move.browse(move_id)  # a fresh read, as odoorpc caches field values
        out["posted"] = (invoice.state, invoice.name, invoice.payment_state, invoice.amount_total)
        out["order_invoices"] = SaleOrder.browse(order_id).invoice_ids.ids
        wizard = odoo.env["account.move.reversal"].create(
            {"move_ids": [[6, 0, [move_id]]], "reason": "damaged", "journal_id": False}
        )
        refund_id = odoo.env["account.move.reversal"].browse(wizard).reverse_moves()["res_id"]
        out["reversed"] = Move.browse(move_id).payment_state
        out["refund"] = Move.browse(refund_id).payment_state
        return out | {"move_id": move_id}

    seen = await asyncio.to_thread(session)
    assert seen["rows"] == [{"id": 1, "name": "S00001", "state": "draft"}]
    assert seen["order"] == ("S00001", "Northwind Robotics Inc.", 1798.0)
    assert seen["lines"] == [("BF-LAP-14", 2.0)]
    assert seen["defaults"] == {"state": "draft", "move_type": "out_invoice", "name": "/"}
    assert seen["draft"] == ("draft", "not_paid")
    assert seen["posted"] == ("posted", f"INV/{year}/00001", "not_paid", 1798.0)
    assert seen["order_invoices"] == [seen["move_id"]]
    assert (seen["reversed"], seen["refund"]) == ("reversed", "paid")


async def test_unknown_model_raises_odoos_user_error(sims: RunningSimulators) -> None:
    def session() -> dict[str, Any]:
        odoo = connect(sims.url("odoo"))
        with pytest.raises(RPCError) as caught:
            odoo.env["no.such.model"]
        return dict(caught.value.info)

    info = await asyncio.to_thread(session)
    assert (info["code"], info["message"]) == (200, "Odoo Server Error")
    assert info["data"]["name"] == "odoo.exceptions.UserError"
    assert info["data"]["message"] == "Object no.such.model doesn't exist"
