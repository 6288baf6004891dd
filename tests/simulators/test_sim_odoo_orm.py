"""Odoo simulator ORM: x2many commands, domains, ordering, errors and atomic calls."""

import httpx
import pytest
from sim_odoo_client import ORDER, Odoo

from simulators.app import RunningSimulators


@pytest.fixture
def odoo(http: httpx.AsyncClient, sims: RunningSimulators) -> Odoo:
    return Odoo(http, sims.url("odoo"))


async def test_x2many_update_and_delete_commands(odoo: Odoo) -> None:
    order_id = await odoo.call("sale.order", "create", ORDER)
    [order] = await odoo.call("sale.order", "read", [order_id], ["order_line"])
    first = order["order_line"][0]
    await odoo.call(
        "sale.order",
        "write",
        [order_id],
        {"order_line": [[1, first, {"product_uom_qty": 1}], [0, 0, {"product_id": 3}]]},
    )
    [order] = await odoo.call("sale.order", "read", [order_id], ["order_line", "amount_total"])
    assert len(order["order_line"]) == 2
    assert order["amount_total"] == 899.0 + 59.0
    await odoo.call("sale.order", "write", [order_id], {"order_line": [[2, first, 0]]})
    [order] = await odoo.call("sale.order", "read", [order_id], ["order_line", "amount_total"])
    assert len(order["order_line"]) == 1
    assert order["amount_total"] == 59.0
    assert await odoo.call("sale.order.line", "search_count", []) == 1


async def test_search_read_domain_limit_order(odoo: Odoo) -> None:
    for partner in (7, 8, 9, 8):
        await odoo.call("sale.order", "create", {**ORDER, "partner_id": partner})
    rows = await odoo.call(
        "sale.order", "search_read", [["partner_id", "=", 8]], fields=["name"], order="id desc"
    )
    assert [r["name"] for r in rows] == ["S00004", "S00002"]
    assert set(rows[0]) == {"id", "name"}
    rows = await odoo.call("sale.order", "search_read", [], ["name"], 1, 2, "name asc")
    assert [r["name"] for r in rows] == ["S00002", "S00003"]
    rows = await odoo.call(
        "sale.order",
        "search_read",
        ["|", ["partner_id", "=", 7], ["partner_id", "=", 9]],
        fields=["name"],
        order="name asc",
        limit=1,
    )
    assert [r["name"] for r in rows] == ["S00001"]
    rows = await odoo.call(
        "sale.order",
        "search_read",
        ["&", ["name", "ilike", "s0000"], ["name", "not in", ["S00001"]]],
        fields=["name"],
        order="name desc",
    )
    assert [r["name"] for r in rows] == ["S00004", "S00003", "S00002"]
    by_name = await odoo.call("res.partner", "search", [["country_id.code", "=", "CH"]])
    assert by_name == [9]
    by_m2o_name = await odoo.call(
        "sale.order", "search", [["partner_id", "ilike", "thames"]], order="id"
    )
    assert by_m2o_name == [2, 4]
    assert await odoo.call("sale.order", "search_count", [["state", "=", "draft"]]) == 4


async def test_bad_domains_fields_and_models(odoo: Odoo) -> None:
    data = await odoo.error("sale.order", "search_read", [["nope", "=", 1]])
    assert data["name"] == "builtins.ValueError"
    assert "nope" in data["message"]
    data = await odoo.error("sale.order", "search", [["name", "~~", 1]])
    assert data["name"] == "builtins.ValueError"
    data = await odoo.error("sale.order", "search", ["&", ["name", "=", "x"]])
    assert data["name"] == "builtins.ValueError"
    data = await odoo.error("sale.order", "search_read", [], fields=["nope"])
    assert data["name"] == "builtins.ValueError"
    data = await odoo.error("sale.order", "create", {**ORDER, "nope": 1})
    assert data["name"] == "builtins.ValueError"
    data = await odoo.error("no.such.model", "search", [])
    assert data["name"] == "odoo.exceptions.UserError"  # as Odoo 17-19's execute_kw
    assert data["message"] == "Object no.such.model doesn't exist"
    data = await odoo.error("sale.order", "frobnicate", [1])
    assert data["name"] == "builtins.AttributeError"
    data = await odoo.error("sale.order", "_private", [1])
    assert data["name"] == "odoo.exceptions.AccessError"
    data = await odoo.error("sale.order", "search", [], bogus=1)
    assert data["name"] == "builtins.TypeError"
    data = await odoo.error("sale.order", "search", [], order="nope desc")
    assert data["name"] == "builtins.ValueError"


async def test_failed_call_changes_nothing(odoo: Odoo) -> None:
    bad = {**ORDER, "order_line": [[0, 0, {"product_id": 1}], [0, 0, {"product_id": 999}]]}
    data = await odoo.error("sale.order", "create", bad)
    assert data["name"] == "odoo.exceptions.ValidationError"
    assert await odoo.call("sale.order", "search_count", []) == 0
    assert await odoo.call("sale.order.line", "search_count", []) == 0
    data = await odoo.error("sale.order", "create", {"order_line": []})
    assert data["name"] == "odoo.exceptions.ValidationError"
    data = await odoo.error("sale.order", "create", {**ORDER, "state": "shipped"})
    assert data["name"] == "odoo.exceptions.ValidationError"
    order_id = await odoo.call("sale.order", "create", ORDER)
    [order] = await odoo.call("sale.order", "read", [order_id], ["name"])
    assert order["name"] == "S00001"
