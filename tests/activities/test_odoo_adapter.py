"""The Odoo adapter against the Odoo simulator, over both transports, every error class.

JSON-RPC (Odoo 16–18): errors inside HTTP 200 bodies; JSON-2 (Odoo ≥ 19): HTTP status + body.
Either way a refusal is non-retryable with Odoo's message, anything transient is retryable.
"""

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError

from activities.odoo import OdooClient
from simulators.app import RunningSimulators, start_simulators
from simulators.settings import SimulatorSettings, default_ports

PASSWORD = "odoo-pw"
SECRETS = {name: SecretStr(f"{name}-x") for name in (
    "tms_api_key", "carrier_api_key", "broker_api_key", "easypost_webhook_secret",
    "broker_webhook_secret", "dhl_api_key")}  # fmt: skip


@pytest.fixture(scope="module")
async def odoo19() -> AsyncIterator[RunningSimulators]:
    settings = SimulatorSettings(
        sim_ports=dict.fromkeys(default_ports(), 0),
        api_url="http://127.0.0.1:9", sim_time_scale=3600,
        sim_odoo_version="19.0", odoo_password=SecretStr(PASSWORD), **SECRETS,
    )  # fmt: skip
    sims = await start_simulators(settings)
    yield sims
    await sims.close()


@pytest.fixture(params=["jsonrpc", "json2"])
async def odoo(request: pytest.FixtureRequest, odoo19: RunningSimulators) -> AsyncIterator[
        OdooClient]:  # fmt: skip
    async with httpx.AsyncClient() as http:
        await http.delete(f"{odoo19.url('odoo')}/_sim/faults")
    client = OdooClient(
        odoo19.url("odoo"),
        "borderflow",
        "admin",
        SecretStr(PASSWORD),
        api_key=SecretStr(PASSWORD),
        transport=request.param,
        timeout_s=2,
    )
    yield client
    await client.aclose()
    async with httpx.AsyncClient() as http:
        await http.delete(f"{odoo19.url('odoo')}/_sim/faults")


async def faults(sims: RunningSimulators, **settings: object) -> None:
    async with httpx.AsyncClient() as http:
        reply = await http.post(f"{sims.url('odoo')}/_sim/faults", json=settings)
        reply.raise_for_status()


async def new_order(odoo: OdooClient) -> int:
    return await odoo.create("sale.order", {
        "partner_id": 7, "incoterm": 5,
        "order_line": [[0, 0, {"product_id": 1, "product_uom_qty": 2, "price_unit": 899.0}]],
    })  # fmt: skip


async def test_auto_detects_json2_on_odoo_19_and_jsonrpc_without_a_key(
    odoo19: RunningSimulators,
) -> None:
    modern = OdooClient(
        odoo19.url("odoo"), "borderflow", "admin", SecretStr(PASSWORD), api_key=SecretStr(PASSWORD)
    )
    legacy = OdooClient(odoo19.url("odoo"), "borderflow", "admin", SecretStr(PASSWORD))
    try:
        await modern.search_read("res.country", [["code", "=", "DE"]], ["name"])
        await legacy.search_read("res.country", [["code", "=", "DE"]], ["name"])
        assert (modern.transport_name, legacy.transport_name) == ("json2", "jsonrpc")
    finally:
        await modern.aclose()
        await legacy.aclose()


async def test_orm_round_trip_reads_false_as_none_and_many2one_as_pairs(odoo: OdooClient) -> None:
    order_id = await new_order(odoo)
    order = await odoo.read_one(
        "sale.order", order_id, ["name", "state", "partner_id", "client_order_ref"]
    )
    assert order["name"].startswith("S") and order["state"] == "draft"
    assert order["partner_id"][0] == 7 and isinstance(order["partner_id"][1], str)
    assert order["client_order_ref"] is None
    await odoo.write("sale.order", [order_id], {"client_order_ref": "PO-1"})
    await odoo.call("sale.order", "action_confirm", [order_id])
    (again,) = await odoo.search_read(
        "sale.order", [["id", "=", order_id]], ["state", "client_order_ref"], limit=1
    )
    assert (again["state"], again["client_order_ref"]) == ("sale", "PO-1")


async def test_chatter_and_activities_on_the_sale_order(odoo: OdooClient) -> None:
    order_id = await new_order(odoo)
    message_id = await odoo.call(
        "sale.order", "message_post", [order_id], body="Shipment picked up", message_type="comment"
    )
    assert isinstance(message_id, int)
    await odoo.call("sale.order", "activity_schedule", [order_id],
                    act_type_xmlid="mail.mail_activity_data_todo", summary="SLA breach",
                    note="Booking overdue", date_deadline="2026-12-01")  # fmt: skip
    activities = await odoo.search_read(
        "mail.activity", [["res_model", "=", "sale.order"], ["res_id", "=", order_id]],
        ["summary"])  # fmt: skip
    assert [a["summary"] for a in activities] == ["SLA breach"]


@pytest.mark.parametrize(
    ("call", "error_type", "message"),
    [
        (lambda o: o.call("sale.order", "action_confirm", [999999]), "MissingError", ""),
        (lambda o: o.create("res.partner", {"name": "x", "no_such_field": 1}),
         "OdooRequestRefused", "no_such_field"),
        (lambda o: o.call("sale.order", "no_such_method", [1]), "OdooRequestRefused", ""),
    ],
)  # fmt: skip
async def test_refusals_are_business_errors(
    odoo: OdooClient, call: object, error_type: str, message: str
) -> None:
    with pytest.raises(ApplicationError) as caught:
        await call(odoo)  # type: ignore[operator]
    assert caught.value.non_retryable
    assert caught.value.type == error_type
    assert message in caught.value.message


async def test_confirming_twice_is_a_user_error_with_odoos_message(odoo: OdooClient) -> None:
    order_id = await new_order(odoo)
    await odoo.call("sale.order", "action_confirm", [order_id])
    with pytest.raises(ApplicationError) as caught:
        await odoo.call("sale.order", "action_confirm", [order_id])
    assert caught.value.non_retryable and caught.value.type == "UserError"


async def test_wrong_credentials_are_refused_without_echoing_them(
    odoo19: RunningSimulators, odoo: OdooClient
) -> None:
    await odoo.transport()
    wrong = OdooClient(
        odoo19.url("odoo"),
        "borderflow",
        "admin",
        SecretStr("nope-secret"),
        api_key=SecretStr("nope-secret"),
        transport=odoo.transport_name,
    )  # type: ignore[arg-type]
    try:
        with pytest.raises(ApplicationError) as caught:
            await wrong.search_read("sale.order", [], ["name"])
        assert caught.value.non_retryable and caught.value.type == "AccessDenied"
        assert "nope-secret" not in caught.value.message
    finally:
        await wrong.aclose()


async def test_lock_conflicts_in_odoos_shape_are_retryable(
    odoo19: RunningSimulators, odoo: OdooClient
) -> None:
    await faults(
        odoo19, partner_error_rate=1.0, partner_error_name="odoo.exceptions.ConcurrencyError"
    )
    with pytest.raises(ApplicationError) as caught:
        await odoo.search_read("res.country", [], ["code"], limit=1)
    assert not caught.value.non_retryable
    assert "ConcurrencyError" in caught.value.message


async def test_reads_absorb_a_short_burst_of_transient_failures(
    odoo19: RunningSimulators, odoo: OdooClient
) -> None:
    await odoo.transport()
    await faults(odoo19, fail_next=2, fail_status=503)
    assert await odoo.search_read("res.country", [["code", "=", "DE"]], ["code"]) != []
    await faults(odoo19, fail_next=3, fail_status=503)
    with pytest.raises(ApplicationError) as caught:
        await odoo.read("res.country", [1], ["code"])
    assert not caught.value.non_retryable


async def test_server_errors_and_rate_limits_are_retryable(
    odoo19: RunningSimulators, odoo: OdooClient
) -> None:
    await odoo.transport()
    await faults(odoo19, fail_next=1, fail_status=502)
    with pytest.raises(ApplicationError) as caught:
        await odoo.create("res.partner", {"name": "Burst"})
    assert not caught.value.non_retryable
    await faults(odoo19, rate_limit_next=1, retry_after_s=7)
    with pytest.raises(ApplicationError) as caught:
        await odoo.search_read("res.country", [], ["code"], limit=1)
    assert not caught.value.non_retryable
    assert caught.value.next_retry_delay == timedelta(seconds=7)
    assert await odoo.search_read("res.country", [["code", "=", "DE"]], ["code"]) != []


async def test_timeouts_and_refused_connections_are_retryable_transport_errors(
    odoo19: RunningSimulators, odoo: OdooClient
) -> None:
    await odoo.transport()  # detection done before the hang is armed
    await faults(odoo19, hang_next=1, hang_s=5)
    with pytest.raises(httpx.TimeoutException):
        await odoo.create("res.partner", {"name": "Slow"})
    nobody = OdooClient(
        "http://127.0.0.1:9", "borderflow", "admin", SecretStr(PASSWORD), transport="jsonrpc"
    )
    try:
        with pytest.raises(httpx.ConnectError):
            await nobody.search_read("res.country", [], ["code"])
    finally:
        await nobody.aclose()
