"""The Odoo simulator's state file: records and sequences survive a restart."""

import json
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sim_odoo_client import ORDER, Odoo
from sim_support import make_settings

from simulators.app import start_simulators


async def test_state_survives_restart(tmp_path: Path, http: httpx.AsyncClient) -> None:
    state_file = tmp_path / "odoo" / "state.json"
    settings = make_settings("http://127.0.0.1:9", state_file=state_file)
    year = datetime.now(UTC).year

    first = await start_simulators(settings)
    try:
        assert state_file.exists()  # seeded and written at start
        odoo = Odoo(http, first.url("odoo"))
        order_id = await odoo.call("sale.order", "create", ORDER)
        await odoo.call("sale.order", "action_confirm", [order_id])
        move_id = await odoo.call(
            "account.move",
            "create",
            {"partner_id": 7, "invoice_line_ids": [[0, 0, {"name": "x", "price_unit": 10.0}]]},
        )
        await odoo.call("account.move", "action_post", [move_id])
        saved = json.loads(state_file.read_text())
        assert saved["records"]["sale.order"][str(order_id)]["state"] == "sale"
    finally:
        await first.close()
    assert [p.name for p in state_file.parent.iterdir()] == ["state.json"]  # no temp files

    second = await start_simulators(settings)
    try:
        odoo = Odoo(http, second.url("odoo"))
        [order] = await odoo.call(
            "sale.order", "read", [order_id], ["name", "state", "picking_ids"]
        )
        assert (order["name"], order["state"], len(order["picking_ids"])) == ("S00001", "sale", 1)
        [move] = await odoo.call("account.move", "read", [move_id], ["name", "amount_total"])
        assert move == {"id": move_id, "name": f"INV/{year}/00001", "amount_total": 10.0}
        next_order = await odoo.call("sale.order", "create", ORDER)
        [row] = await odoo.call("sale.order", "read", [next_order], ["name"])
        assert row["name"] == "S00002"
        assert next_order == order_id + 1
        next_move = await odoo.call(
            "account.move",
            "create",
            {"partner_id": 8, "invoice_line_ids": [[0, 0, {"name": "y", "price_unit": 1.0}]]},
        )
        await odoo.call("account.move", "action_post", [next_move])
        [row] = await odoo.call("account.move", "read", [next_move], ["name"])
        assert row["name"] == f"INV/{year}/00002"
        assert await odoo.call("sale.order", "action_confirm", [next_order]) is True
        [picking] = await odoo.call("stock.picking", "search_read", [["origin", "=", "S00002"]])
        assert picking["name"] == "WH/OUT/00002"
    finally:
        await second.close()


async def test_failed_write_is_not_persisted(tmp_path: Path, http: httpx.AsyncClient) -> None:
    state_file = tmp_path / "state.json"
    running = await start_simulators(make_settings("http://127.0.0.1:9", state_file=state_file))
    try:
        odoo = Odoo(http, running.url("odoo"))
        before = state_file.read_bytes()
        await odoo.error("sale.order", "create", {**ORDER, "partner_id": 4242})
        assert state_file.read_bytes() == before
    finally:
        await running.close()
