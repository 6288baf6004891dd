"""Odoo JSON-2 (Odoo 19): auth, database header, named arguments, error statuses, call log;
and Odoo partner errors injected into both transports."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sim_odoo_client import ORDER, PASSWORD, Odoo
from sim_support import running, set_faults

from simulators.app import RunningSimulators

KEY = {"Authorization": f"bearer {PASSWORD}"}


@pytest.fixture
async def odoo19() -> AsyncIterator[RunningSimulators]:
    async with running("http://127.0.0.1:9", sim_odoo_version="19.0") as sims:
        yield sims


async def call(
    http: httpx.AsyncClient, sims: RunningSimulators, model: str, method: str, **kw: Any
) -> httpx.Response:
    headers = kw.pop("headers", KEY)
    return await http.post(f"{sims.url('odoo')}/json/2/{model}/{method}", json=kw, headers=headers)


def error(response: httpx.Response, status: int, name: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert set(body) == {"name", "message", "arguments", "context", "debug"}
    assert body["name"] == name
    assert body["debug"].startswith("Traceback (most recent call last):")
    return body


async def test_version_19(http: httpx.AsyncClient, odoo19: RunningSimulators) -> None:
    version = (await http.get(f"{odoo19.url('odoo')}/web/version")).json()
    assert version == {"version": "19.0", "version_info": [19, 0, 0, "final", 0, ""]}
    odoo = Odoo(http, odoo19.url("odoo"))
    assert (await odoo.rpc("common", "version"))["result"]["server_version"] == "19.0"
    assert await odoo.call("res.partner", "search_count", [["id", "=", 7]]) == 1  # JSON-RPC too


async def test_success_with_named_arguments(
    http: httpx.AsyncClient, odoo19: RunningSimulators
) -> None:
    found = await call(
        http, odoo19, "res.partner", "search_read",
        domain=[["is_company", "=", True], ["country_id.code", "=", "GB"]],
        fields=["name"], limit=5, order="id", context={"lang": "en_US"},
    )  # fmt: skip
    assert found.status_code == 200
    assert found.json() == [{"id": 8, "name": "Thames Valley Components Ltd"}]
    headers = {**KEY, "X-Odoo-Database": "borderflow"}
    created = await call(http, odoo19, "sale.order", "create", vals_list=[ORDER], headers=headers)
    assert created.status_code == 200
    [order_id] = created.json()
    confirmed = await call(http, odoo19, "sale.order", "action_confirm", ids=[order_id])
    assert confirmed.json() is True
    wrote = await call(
        http, odoo19, "sale.order", "write", ids=[order_id], vals={"client_order_ref": "PO-1"}
    )
    assert wrote.json() is True
    read = await call(http, odoo19, "sale.order", "read", ids=[order_id], fields=["state"])
    assert read.json() == [{"id": order_id, "state": "sale"}]
    calls = (await http.get(f"{odoo19.url('odoo')}/_sim/calls")).json()
    assert calls[-1] == {
        "model": "sale.order",
        "method": "read",
        "args": [[order_id]],
        "kwargs": {"fields": ["state"]},
        "transport": "json2",
    }
    assert calls[1]["args"] == [] and calls[1]["kwargs"] == {"vals_list": [ORDER]}
    assert {c["transport"] for c in calls} == {"json2"}


async def test_error_statuses(http: httpx.AsyncClient, odoo19: RunningSimulators) -> None:
    unauthorized = error(
        await call(http, odoo19, "res.partner", "search", domain=[], headers={}),
        401,
        "werkzeug.exceptions.Unauthorized",
    )
    assert unauthorized["arguments"] == ["Invalid apikey", 401]
    bad_key = {"Authorization": "bearer nope"}
    error(await call(http, odoo19, "res.partner", "search", headers=bad_key), 401,
          "werkzeug.exceptions.Unauthorized")  # fmt: skip
    wrong_db = {**KEY, "X-Odoo-Database": "other"}
    error(await call(http, odoo19, "res.partner", "search", domain=[], headers=wrong_db), 404,
          "werkzeug.exceptions.NotFound")  # fmt: skip
    error(await call(http, odoo19, "res.partner", "_private", ids=[7]), 403,
          "odoo.exceptions.AccessError")  # fmt: skip
    missing = error(
        await call(http, odoo19, "sale.order", "read", ids=[4242], context={"lang": "fr_FR"}),
        404,
        "odoo.exceptions.MissingError",
    )
    assert missing["context"] == {"lang": "fr_FR"}
    error(await call(http, odoo19, "no.such.model", "search", domain=[]), 404,
          "werkzeug.exceptions.NotFound")  # fmt: skip
    error(await call(http, odoo19, "sale.order", "fly", ids=[1]), 404,
          "werkzeug.exceptions.NotFound")  # fmt: skip
    [order_id] = (await call(http, odoo19, "sale.order", "create", vals_list=[ORDER])).json()
    await call(http, odoo19, "sale.order", "action_confirm", ids=[order_id])
    error(await call(http, odoo19, "sale.order", "action_confirm", ids=[order_id]), 422,
          "odoo.exceptions.UserError")  # fmt: skip
    error(await call(http, odoo19, "sale.order", "create", vals_list=[{"partner_id": 4242}]),
          422, "odoo.exceptions.ValidationError")  # fmt: skip
    error(await call(http, odoo19, "sale.order", "search", domain=[], bogus=1), 422,
          "builtins.TypeError")  # fmt: skip
    not_object = await http.post(
        f"{odoo19.url('odoo')}/json/2/res.partner/search", content=b"[1]", headers=KEY
    )
    error(not_object, 422, "werkzeug.exceptions.UnprocessableEntity")
    await set_faults(http, odoo19.url("odoo"), partner_error_rate=1.0)
    error(await call(http, odoo19, "res.partner", "search", domain=[]), 409,
          "odoo.exceptions.ConcurrencyError")  # fmt: skip
    await set_faults(
        http, odoo19.url("odoo"), partner_error_rate=1.0, partner_error_name="builtins.KeyError"
    )
    error(await call(http, odoo19, "res.partner", "search", domain=[]), 500, "builtins.KeyError")
    calls = (await http.get(f"{odoo19.url('odoo')}/_sim/calls")).json()
    assert PASSWORD not in str(calls)
    assert calls[0]["method"] == "search"  # refused calls are recorded too


async def test_json2_transport_faults(http: httpx.AsyncClient, odoo19: RunningSimulators) -> None:
    await set_faults(http, odoo19.url("odoo"), fail_next=1)
    failed = await call(http, odoo19, "res.partner", "search", domain=[])
    assert failed.status_code == 503
    assert failed.json()["name"] == "werkzeug.exceptions.ServiceUnavailable"
    assert (await call(http, odoo19, "res.partner", "search", domain=[])).status_code == 200


async def test_json2_needs_odoo_19(http: httpx.AsyncClient, sims: RunningSimulators) -> None:
    response = await call(http, sims, "res.partner", "search", domain=[])
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


async def test_jsonrpc_partner_errors(http: httpx.AsyncClient, sims: RunningSimulators) -> None:
    odoo = Odoo(http, sims.url("odoo"))
    await set_faults(http, sims.url("odoo"), partner_error_rate=1.0)
    uid = await odoo.rpc("common", "authenticate", "borderflow", "admin", PASSWORD, {})
    assert uid["result"] == 2  # authentication is not a model call: never failed
    data = await odoo.error("res.partner", "search", [])
    assert data["name"] == "odoo.exceptions.ConcurrencyError"
    await set_faults(
        http,
        sims.url("odoo"),
        partner_error_rate=1.0,
        partner_error_name="odoo.exceptions.UserError",
        paths=["/json/2/"],
    )
    assert await odoo.call("res.partner", "search_count", []) > 0  # /jsonrpc not in paths
    await set_faults(
        http,
        sims.url("odoo"),
        partner_error_rate=1.0,
        partner_error_name="odoo.exceptions.UserError",
    )
    assert (await odoo.error("res.partner", "search", []))["name"] == "odoo.exceptions.UserError"
    counters = (await http.get(f"{sims.url('odoo')}/_sim/faults")).json()["injected"]
    assert counters["partner_error"] == 1
