"""Odoo JSON-RPC simulator: authentication, ORM, business actions, errors, call log."""

import re
from datetime import UTC, datetime

import httpx
import pytest
from sim_odoo_client import ORDER, PASSWORD, Odoo

from simulators.app import RunningSimulators


@pytest.fixture
def odoo(http: httpx.AsyncClient, sims: RunningSimulators) -> Odoo:
    return Odoo(http, sims.url("odoo"))


async def test_web_version(http: httpx.AsyncClient, sims: RunningSimulators) -> None:
    response = await http.get(f"{sims.url('odoo')}/web/version")
    assert response.json() == {"version": "17.0", "version_info": [17, 0, 0, "final", 0, ""]}


async def test_authenticate_ok_and_false(odoo: Odoo) -> None:
    ok = await odoo.rpc("common", "authenticate", "borderflow", "admin", PASSWORD, {})
    assert ok["result"] == 2
    bad = await odoo.rpc("common", "authenticate", "borderflow", "admin", "nope", {})
    assert bad["result"] is False
    other_user = await odoo.rpc("common", "authenticate", "borderflow", "bob", PASSWORD, {})
    assert other_user["result"] is False


async def test_common_version(odoo: Odoo) -> None:
    body = await odoo.rpc("common", "version")
    assert body["result"]["server_version"] == "17.0"


async def test_execute_kw_access_denied(odoo: Odoo) -> None:
    data = await odoo.error("res.partner", "search", [], password="wrong")
    assert data["name"] == "odoo.exceptions.AccessDenied"
    data = await odoo.error("res.partner", "search", [], uid=99)
    assert data["name"] == "odoo.exceptions.AccessDenied"


async def test_invalid_envelope(http: httpx.AsyncClient, sims: RunningSimulators) -> None:
    for payload in ({"jsonrpc": "1.0", "params": {}}, {"jsonrpc": "2.0", "params": []}, [1]):
        response = await http.post(f"{sims.url('odoo')}/jsonrpc", json=payload)
        assert response.status_code == 200
        assert response.json()["error"] == {"code": -32600, "message": "Invalid Request"}
    response = await http.post(f"{sims.url('odoo')}/jsonrpc", content=b"{not json")
    assert response.json()["error"]["code"] == -32600


async def test_seed_data(odoo: Odoo) -> None:
    codes = await odoo.call("account.incoterms", "search_read", [], fields=["code"], order="id")
    assert [c["code"] for c in codes] == [
        "EXW",
        "FCA",
        "CPT",
        "CIP",
        "DAP",
        "DPU",
        "DDP",
        "FAS",
        "FOB",
        "CFR",
        "CIF",
    ]
    countries = await odoo.call(
        "res.country",
        "search_read",
        [["code", "in", ["DE", "US", "GB", "FR", "NL", "CA", "CN", "JP", "CH", "PL"]]],
        fields=["code"],
    )
    assert len(countries) == 10
    currencies = await odoo.call("res.currency", "search_read", [], fields=["name"])
    assert {"EUR", "USD", "GBP"} <= {c["name"] for c in currencies}
    [company] = await odoo.call(
        "res.company", "search_read", [], fields=["partner_id", "currency_id"]
    )
    assert company["currency_id"][1] == "EUR"
    [partner] = await odoo.call(
        "res.partner", "read", [company["partner_id"][0]], ["city", "country_id"]
    )
    assert partner["city"] == "Hamburg"
    assert partner["country_id"][1] == "Germany"
    customers = await odoo.call(
        "res.partner",
        "search_read",
        [["email", "!=", False], ["id", ">=", 7]],
        fields=["country_code", "vat", "street", "zip", "city", "email"],
        order="id",
    )
    assert [c["country_code"] for c in customers] == ["US", "GB", "CH"]
    assert all(c["vat"] and c["street"] and c["zip"] and c["city"] for c in customers)
    products = await odoo.call(
        "product.product", "search_read", [], fields=["hs_code", "country_of_origin", "weight"]
    )
    assert len(products) == 3
    assert all(re.fullmatch(r"\d{6}", p["hs_code"]) and p["country_of_origin"] for p in products)
    assert await odoo.call("sale.order", "search_count", []) == 0


async def test_create_sale_order_and_read_many2one(odoo: Odoo) -> None:
    order_id = await odoo.call("sale.order", "create", ORDER)
    [order] = await odoo.call(
        "sale.order",
        "read",
        [order_id],
        ["name", "state", "partner_id", "incoterm", "amount_total", "order_line", "currency_id"],
    )
    assert re.fullmatch(r"S\d{5}", order["name"])
    assert order["name"] == "S00001"
    assert order["state"] == "draft"
    assert order["partner_id"] == [7, "Northwind Robotics Inc."]
    assert order["incoterm"] == [4, "CARRIAGE AND INSURANCE PAID TO"]
    assert order["currency_id"] == [1, "EUR"]
    assert order["amount_total"] == 1798.0
    [line] = await odoo.call(
        "sale.order.line", "read", order["order_line"], ["order_id", "price_subtotal", "name"]
    )
    assert line["order_id"] == [order_id, "S00001"]
    assert line["price_subtotal"] == 1798.0
    assert line["name"] == '[BF-LAP-14] Rugged Laptop 14"'
    second = await odoo.call("sale.order", "create", {**ORDER, "client_order_ref": "PO-2"})
    [row] = await odoo.call("sale.order", "read", second, ["name", "incoterm_location"])
    assert row["name"] == "S00002"
    assert row["incoterm_location"] is False


async def test_create_list_returns_ids(odoo: Odoo) -> None:
    ids = await odoo.call("sale.order", "create", [ORDER, ORDER])
    assert ids == [1, 2]


async def test_action_confirm_creates_one_picking_then_user_error(odoo: Odoo) -> None:
    order_id = await odoo.call("sale.order", "create", ORDER)
    assert await odoo.call("sale.order", "action_confirm", [order_id]) is True
    [order] = await odoo.call("sale.order", "read", [order_id], ["state", "picking_ids"])
    assert order["state"] == "sale"
    assert len(order["picking_ids"]) == 1
    [picking] = await odoo.call(
        "stock.picking",
        "read",
        order["picking_ids"],
        ["name", "origin", "sale_id", "picking_type_code", "carrier_tracking_ref"],
    )
    assert picking["name"] == "WH/OUT/00001"
    assert picking["origin"] == "S00001"
    assert picking["sale_id"] == [order_id, "S00001"]
    assert picking["picking_type_code"] == "outgoing"
    assert picking["carrier_tracking_ref"] is False

    data = await odoo.error("sale.order", "action_confirm", [order_id])
    assert data["name"] == "odoo.exceptions.UserError"
    assert "S00001" in data["message"]
    assert data["arguments"] == [data["message"]]
    assert await odoo.call("stock.picking", "search_count", []) == 1

    await odoo.call("stock.picking", "write", order["picking_ids"], {"carrier_tracking_ref": "EZ1"})
    found = await odoo.call("stock.picking", "search", [["carrier_tracking_ref", "=", "EZ1"]])
    assert found == order["picking_ids"]


async def test_invoice_with_commands_and_post(odoo: Odoo) -> None:
    order_id = await odoo.call("sale.order", "create", ORDER)
    move_id = await odoo.call(
        "account.move",
        "create",
        {
            "move_type": "out_invoice",
            "partner_id": 8,
            "invoice_origin": "S00001",
            "invoice_line_ids": [
                [0, 0, {"name": "Laptop", "quantity": 2, "price_unit": 899.0}],
                [0, 0, {"product_id": 2, "quantity": 3}],
            ],
        },
    )
    [draft] = await odoo.call("account.move", "read", [move_id], ["name", "state", "amount_total"])
    assert draft == {"id": move_id, "name": "/", "state": "draft", "amount_total": 2245.0}
    assert await odoo.call("account.move", "action_post", [move_id]) is True
    [move] = await odoo.call(
        "account.move", "read", [move_id], ["name", "state", "amount_total", "invoice_line_ids"]
    )
    year = datetime.now(UTC).year
    assert move["name"] == f"INV/{year}/00001"
    assert re.fullmatch(r"INV/\d{4}/\d{5}", move["name"])
    assert move["state"] == "posted"
    assert move["amount_total"] == 2245.0
    assert len(move["invoice_line_ids"]) == 2
    [order] = await odoo.call("sale.order", "read", [order_id], ["invoice_ids"])
    assert order["invoice_ids"] == [move_id]

    data = await odoo.error("account.move", "action_post", [move_id])
    assert data["name"] == "odoo.exceptions.UserError"
    locked = await odoo.error("account.move", "write", [move_id], {"invoice_line_ids": [[5, 0, 0]]})
    assert locked["name"] == "odoo.exceptions.UserError"

    second = await odoo.call(
        "account.move",
        "create",
        {"partner_id": 9, "invoice_line_ids": [[0, 0, {"name": "x", "price_unit": 1.5}]]},
    )
    await odoo.call("account.move", "action_post", second)
    [row] = await odoo.call("account.move", "read", [second], ["name"])
    assert row["name"] == f"INV/{year}/00002"


async def test_missing_records(odoo: Odoo) -> None:
    for method, args in (
        ("read", ([424242], ["name"])),
        ("action_confirm", ([424242],)),
        ("write", ([424242], {"client_order_ref": "x"})),
    ):
        data = await odoo.error("sale.order", method, *args)
        assert data["name"] == "odoo.exceptions.MissingError", method
        assert "424242" in data["message"]
    data = await odoo.error("account.move", "action_post", [77])
    assert data["name"] == "odoo.exceptions.MissingError"


async def test_call_log(http: httpx.AsyncClient, sims: RunningSimulators, odoo: Odoo) -> None:
    await odoo.call("res.partner", "search", [["is_company", "=", True]], limit=2)
    await odoo.execute("sale.order", "create", ORDER, password="wrong")
    response = await http.get(f"{sims.url('odoo')}/_sim/calls")
    calls = response.json()
    assert calls == [
        {
            "model": "res.partner",
            "method": "search",
            "args": [[["is_company", "=", True]]],
            "kwargs": {"limit": 2},
            "transport": "jsonrpc",
        },
        {
            "model": "sale.order",
            "method": "create",
            "args": [ORDER],
            "kwargs": {},
            "transport": "jsonrpc",
        },
    ]
    assert PASSWORD not in response.text
