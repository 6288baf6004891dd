"""TMS simulator: Bearer auth, validation, idempotency and the order lifecycle."""

import asyncio
from typing import Any

import httpx
import pytest
from sim_support import CONSIGNEE, PACKAGE, SECRETS, SHIPPER, assert_problem

from simulators.app import RunningSimulators

AUTH = {"Authorization": f"Bearer {SECRETS['tms_api_key']}"}
ORDER: dict[str, Any] = {
    "reference": "S00001",
    "shipper": SHIPPER,
    "consignee": CONSIGNEE,
    "packages": [PACKAGE],
    "carrier": "easypost",
}


@pytest.fixture
def orders_url(sims: RunningSimulators) -> str:
    return f"{sims.url('tms')}/api/v1/transport-orders"


async def test_auth_required(http: httpx.AsyncClient, orders_url: str) -> None:
    missing = await http.post(orders_url, json=ORDER)
    assert_problem(missing, 401)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    wrong = await http.get(f"{orders_url}/TO-000001", headers={"Authorization": "Bearer nope"})
    assert_problem(wrong, 401)


async def test_create_get_cancel(http: httpx.AsyncClient, orders_url: str) -> None:
    created = await http.post(orders_url, json=ORDER, headers=AUTH)
    assert created.status_code == 201
    body = created.json()
    assert set(body) == {"id", "reference", "status", "carrier", "created_at"}
    assert body["id"] == "TO-000001"
    assert (body["reference"], body["status"], body["carrier"]) == ("S00001", "CREATED", "easypost")
    fetched = await http.get(f"{orders_url}/TO-000001", headers=AUTH)
    assert fetched.json() == body
    cancelled = await http.post(f"{orders_url}/TO-000001/cancel", headers=AUTH)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "CANCELLED"
    assert (await http.get(f"{orders_url}/TO-000001", headers=AUTH)).json()["status"] == "CANCELLED"
    assert_problem(await http.get(f"{orders_url}/TO-999999", headers=AUTH), 404)
    assert_problem(await http.post(f"{orders_url}/TO-999999/cancel", headers=AUTH), 404)


async def test_validation(http: httpx.AsyncClient, orders_url: str) -> None:
    shipper = {"address": {**SHIPPER["address"], "country": "XX", "lines": []}}
    broken = {**ORDER, "shipper": shipper, "packages": []}
    body = assert_problem(await http.post(orders_url, json=broken, headers=AUTH), 422)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {
        "shipper.name",
        "shipper.address.lines",
        "shipper.address.country",
        "packages",
    }
    assert "shipper.name" in body["detail"]
    bad_weight = {**ORDER, "packages": [{"weight_kg": 0}]}
    body = assert_problem(await http.post(orders_url, json=bad_weight, headers=AUTH), 422)
    assert [e["field"] for e in body["errors"]] == ["packages[0].weight_kg"]
    malformed = await http.post(orders_url, content=b"{oops", headers=AUTH)
    assert_problem(malformed, 400)
    assert_problem(await http.post(orders_url, json=[ORDER], headers=AUTH), 400)


async def test_idempotency(
    http: httpx.AsyncClient, sims: RunningSimulators, orders_url: str
) -> None:
    headers = {**AUTH, "Idempotency-Key": "order-S00001"}
    first = await http.post(orders_url, json=ORDER, headers=headers)
    again = await http.post(orders_url, json=ORDER, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again.headers["idempotent-replayed"] == "true"
    conflict = await http.post(orders_url, json={**ORDER, "reference": "S00002"}, headers=headers)
    body = assert_problem(conflict, 422)
    assert "Idempotency-Key" in body["detail"]
    other = await http.post(orders_url, json=ORDER, headers={**AUTH, "Idempotency-Key": "k2"})
    assert other.json()["id"] == "TO-000002"
    stored = (await http.get(f"{sims.url('tms')}/_sim/transport-orders")).json()
    assert [o["id"] for o in stored] == ["TO-000001", "TO-000002"]
    assert stored[0]["shipper"] == SHIPPER
    log = (await http.get(f"{sims.url('tms')}/_sim/requests")).json()
    assert [(e["status"], e["replayed"]) for e in log] == [
        (201, False),
        (201, True),
        (422, False),
        (201, False),
    ]
    assert all(SECRETS["tms_api_key"] not in str(e) for e in log)


async def test_failed_request_does_not_consume_key(
    http: httpx.AsyncClient, orders_url: str
) -> None:
    headers = {**AUTH, "Idempotency-Key": "retry-me"}
    invalid = await http.post(orders_url, json={**ORDER, "carrier": ""}, headers=headers)
    assert invalid.status_code == 422
    fixed = await http.post(orders_url, json=ORDER, headers=headers)
    assert fixed.status_code == 201


async def test_concurrent_requests_with_one_key(
    http: httpx.AsyncClient, sims: RunningSimulators, orders_url: str
) -> None:
    headers = {**AUTH, "Idempotency-Key": "same-time"}
    responses = await asyncio.gather(
        *(http.post(orders_url, json=ORDER, headers=headers) for _ in range(5))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.content for r in responses}) == 1
    stored = (await http.get(f"{sims.url('tms')}/_sim/transport-orders")).json()
    assert len(stored) == 1
