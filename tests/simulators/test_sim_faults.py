"""Fault injection on every simulator: the switches, their counters and each partner's shape."""

import asyncio
import json
import time
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from sim_support import SECRETS, SHIPPER, injected, running, set_faults

from simulators.app import RunningSimulators
from simulators.settings import SimulatorSettings, default_ports

TMS_AUTH = {"Authorization": f"Bearer {SECRETS['tms_api_key']}"}
EASYPOST_AUTH = httpx.BasicAuth(SECRETS["carrier_api_key"], "")
ORDER: dict[str, Any] = {
    "reference": "S00001",
    "shipper": SHIPPER,
    "consignee": SHIPPER,
    "packages": [{"weight_kg": 1}],
    "carrier": "easypost",
}


async def probe(http: httpx.AsyncClient, sims: RunningSimulators, partner: str) -> httpx.Response:
    """One ordinary API request to ``partner``."""
    if partner == "odoo":
        rpc = {"jsonrpc": "2.0", "method": "call", "id": 1,
               "params": {"service": "common", "method": "version", "args": []}}  # fmt: skip
        return await http.post(f"{sims.url('odoo')}/jsonrpc", json=rpc)
    if partner == "easypost":
        return await http.get(f"{sims.url('easypost')}/v2/shipments/shp_x", auth=EASYPOST_AUTH)
    if partner == "dhl":
        headers = {"DHL-API-Key": SECRETS["dhl_api_key"]}
        return await http.get(f"{sims.url('dhl')}/shipments?customerReference=x", headers=headers)
    if partner == "tms":
        return await http.get(f"{sims.url('tms')}/api/v1/transport-orders/TO-1", headers=TMS_AUTH)
    if partner == "broker":
        auth = {"Authorization": f"Bearer {SECRETS['broker_api_key']}"}
        return await http.get(f"{sims.url('broker')}/api/v1/declarations/DEC-1", headers=auth)
    return await http.post(f"{sims.url('notify')}/hooks/finance", json={"text": "hello"})


def url_of(sims: RunningSimulators, partner: str) -> str:
    return sims.url(partner)


@pytest.mark.parametrize("partner", ["odoo", "easypost", "dhl", "tms", "broker", "notify"])
async def test_fail_next_in_each_partners_shape(
    http: httpx.AsyncClient, sims: RunningSimulators, partner: str
) -> None:
    base = url_of(sims, partner)
    view = await set_faults(http, base, fail_next=2, fail_status=502)
    assert view["fail_next"] == 2
    for _ in range(2):
        failed = await probe(http, sims, partner)
        assert failed.status_code == 502
        content_type = failed.headers["content-type"]
        if partner == "odoo":
            assert content_type.startswith("text/html")
            assert "502 Bad Gateway" in failed.text
        elif partner == "easypost":
            assert failed.json()["error"]["code"] == "BAD_GATEWAY"
            assert failed.json()["error"]["errors"] == []
        elif partner == "notify":
            assert (content_type.split(";")[0], failed.text) == ("text/plain", "bad_gateway")
        else:
            assert content_type.startswith("application/problem+json")
            problem = failed.json()
            assert problem["status"] == 502
            assert problem["type"].endswith("/bad-gateway")
            assert problem["title"] == "Bad Gateway"
            assert ("instance" in problem) == (partner == "dhl")
    assert (await probe(http, sims, partner)).status_code != 502
    view = (await http.get(f"{base}/_sim/faults")).json()
    assert view["fail_next"] == 0
    assert view["injected"]["fail_next"] == 2
    assert sum(view["injected"].values()) == 2


async def test_get_post_delete_and_validation(
    http: httpx.AsyncClient, sims: RunningSimulators
) -> None:
    url = f"{sims.url('tms')}/_sim/faults"
    view = (await http.get(url)).json()
    assert view["fail_next"] == 0 and view["paths"] is None and view["seed"] == 1
    assert view["customs"] == {"hold_next": 0, "hold_reason": "customs_documentation",
                               "reject_next": 0}  # fmt: skip
    assert set(view["injected"]) >= {"error", "rate_limited", "fail_next", "hang", "down"}
    bad = await http.post(url, json={"error_rate": 2, "fail_nxt": 1, "fail_status": 200})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"error_rate", "fail_nxt", "fail_status"}
    assert (await http.post(url, content=b"{")).status_code == 400
    posted = await set_faults(http, sims.url("tms"), fail_next=1, customs={"hold_next": 1})
    assert posted["customs"]["hold_next"] == 1
    again = await http.post(url, json=posted)  # a view (with "injected") can be posted back
    assert again.status_code == 200
    cleared = (await http.delete(url)).json()
    assert cleared["fail_next"] == 0 and cleared["customs"]["hold_next"] == 0
    assert (await probe(http, sims, "tms")).status_code == 404


async def test_rate_limit_with_retry_after(
    http: httpx.AsyncClient, sims: RunningSimulators
) -> None:
    await set_faults(http, sims.url("easypost"), rate_limit_next=2, retry_after_s=7)
    for _ in range(2):
        limited = await probe(http, sims, "easypost")
        assert limited.status_code == 429
        assert limited.headers["Retry-After"] == "7"
        assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert (await probe(http, sims, "easypost")).status_code == 404
    assert (await injected(http, sims.url("easypost")))["rate_limited"] == 2
    log = (await http.get(f"{sims.url('easypost')}/_sim/requests")).json()
    assert [(e["status"], e["fault"]) for e in log] == [
        (429, "rate_limited"),
        (429, "rate_limited"),
        (404, None),
    ]


async def test_hang_beats_a_short_client_timeout(
    http: httpx.AsyncClient, sims: RunningSimulators
) -> None:
    await set_faults(http, sims.url("tms"), hang_next=1, hang_s=5)
    orders = f"{sims.url('tms')}/api/v1/transport-orders"
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        await http.post(orders, json=ORDER, headers=TMS_AUTH, timeout=0.2)
    assert time.monotonic() - started < 2
    created = await http.post(orders, json=ORDER, headers=TMS_AUTH)  # the retry: no hang
    assert created.status_code == 201
    await asyncio.sleep(0.2)  # the abandoned request is not processed later either
    stored = (await http.get(f"{sims.url('tms')}/_sim/transport-orders")).json()
    assert [o["id"] for o in stored] == ["TO-000001"]
    assert (await injected(http, sims.url("tms")))["hang"] == 1


async def test_short_hang_then_normal_answer(
    http: httpx.AsyncClient, sims: RunningSimulators
) -> None:
    await set_faults(http, sims.url("tms"), hang_next=1, hang_s=0.15)
    started = time.monotonic()
    response = await probe(http, sims, "tms")
    assert response.status_code == 404  # answered normally after the hang
    assert time.monotonic() - started >= 0.15


async def test_close_ends_a_hang_at_once(http: httpx.AsyncClient) -> None:
    async with running("http://127.0.0.1:9") as sims:
        await set_faults(http, sims.url("tms"), hang_next=1, hang_s=30)
        pending = asyncio.ensure_future(probe(http, sims, "tms"))
        await asyncio.sleep(0.1)
        started = time.monotonic()
    assert time.monotonic() - started < 2
    try:
        assert (await pending).status_code == 503  # answered at shutdown, or …
    except httpx.HTTPError:
        pass  # … the connection closed


async def test_down_for_s_window(http: httpx.AsyncClient, sims: RunningSimulators) -> None:
    view = await set_faults(http, sims.url("notify"), down_for_s=0.5)
    assert 0 < view["down_for_s"] <= 0.5
    down = await probe(http, sims, "notify")
    assert (down.status_code, down.text) == (503, "service_unavailable")
    assert (await http.get(f"{sims.url('notify')}/_sim/messages")).status_code == 200
    await asyncio.sleep(0.55)
    assert (await probe(http, sims, "notify")).status_code == 200
    view = (await http.get(f"{sims.url('notify')}/_sim/faults")).json()
    assert view["down_for_s"] == 0
    assert view["injected"]["down"] == 1


async def test_paths_filter(http: httpx.AsyncClient, sims: RunningSimulators) -> None:
    await set_faults(http, sims.url("easypost"), paths=["/v2/trackers"], fail_next=1)
    assert (await probe(http, sims, "easypost")).status_code == 404  # /v2/shipments: untouched
    tracker = f"{sims.url('easypost')}/v2/trackers/trk_x"
    assert (await http.get(tracker, auth=EASYPOST_AUTH)).status_code == 503
    assert (await http.get(tracker, auth=EASYPOST_AUTH)).status_code == 404


async def error_pattern(http: httpx.AsyncClient, sims: RunningSimulators, seed: int) -> list[int]:
    await set_faults(http, sims.url("tms"), error_rate=0.5, error_status=500, seed=seed)
    return [(await probe(http, sims, "tms")).status_code for _ in range(24)]


async def test_error_rate_is_deterministic_per_seed(
    http: httpx.AsyncClient, sims: RunningSimulators
) -> None:
    first = await error_pattern(http, sims, seed=42)
    assert set(first) == {404, 500}
    assert (await injected(http, sims.url("tms")))["error"] == first.count(500)
    assert await error_pattern(http, sims, seed=42) == first
    assert await error_pattern(http, sims, seed=43) != first


async def test_latency(http: httpx.AsyncClient, sims: RunningSimulators) -> None:
    await set_faults(http, sims.url("broker"), latency_ms=150)
    started = time.monotonic()
    assert (await probe(http, sims, "broker")).status_code == 404
    assert time.monotonic() - started >= 0.15
    assert (await injected(http, sims.url("broker")))["latency"] == 1


async def test_odoo_transport_faults(http: httpx.AsyncClient, sims: RunningSimulators) -> None:
    await set_faults(http, sims.url("odoo"), rate_limit_next=1, retry_after_s=3, fail_next=1)
    limited = await probe(http, sims, "odoo")
    assert (limited.status_code, limited.headers["Retry-After"]) == (429, "3")
    assert limited.headers["content-type"].startswith("text/html")
    assert (await probe(http, sims, "odoo")).status_code == 503
    ok = await probe(http, sims, "odoo")
    assert ok.json()["result"]["server_version"] == "17.0"


async def test_startup_faults_from_the_environment(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(f"BORDERFLOW_{name.upper()}", value)
    monkeypatch.setenv("BORDERFLOW_SIM_PORTS", json.dumps(dict.fromkeys(default_ports(), 0)))
    monkeypatch.setenv(
        "BORDERFLOW_SIM_FAULTS", '{"tms": {"fail_next": 1}, "dhl": {"reject_bookings": 2}}'
    )
    settings = SimulatorSettings()  # type: ignore[call-arg]
    assert settings.faults_for("dhl").reject_bookings == 2
    assert settings.faults_for("odoo").fail_next == 0
    async with running("http://127.0.0.1:9", sim_faults=settings.sim_faults) as sims:
        assert (await probe(http, sims, "tms")).status_code == 503
        assert (await probe(http, sims, "tms")).status_code == 404
    for bad in ('{"nope": {}}', '{"tms": {"fail_nxt": 1}}', '{"tms": {"error_rate": 3}}'):
        monkeypatch.setenv("BORDERFLOW_SIM_FAULTS", bad)
        with pytest.raises(ValidationError) as caught:
            SimulatorSettings()  # type: ignore[call-arg]
        assert caught.value.errors()[0]["loc"][0] == "sim_faults"
