"""``GET /v1/shipments``: filters on the search attributes, cursor pages, strict input.

Each test lists shipments of a carrier name of its own, so shipments other tests started on
the same dev server never match. Visibility is eventually consistent: ``until_listed`` asks
again until what the test started shows, then the test asserts on that answer.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from api_support import new_order_ref, start_shipment
from live import LiveApi
from temporalio.client import Client

from canonical.shipment import Stage
from store.tokens import Role


@pytest.fixture
async def http(api: LiveApi) -> AsyncIterator[httpx.AsyncClient]:
    headers = api.headers(Role.SUPPORT)
    async with httpx.AsyncClient(base_url=api.url, headers=headers, timeout=30) as client:
        yield client


def own_carrier() -> str:
    return f"c{uuid.uuid4().hex[:8]}"


async def until_listed(
    http: httpx.AsyncClient, params: dict[str, Any], expected: int, timeout_s: float = 30
) -> dict[str, Any]:
    """The first answer that lists ``expected`` shipments (visibility catches up)."""
    deadline = time.monotonic() + timeout_s
    while True:
        reply = await http.get("/v1/shipments", params=params)
        assert reply.status_code == 200, reply.text
        page: dict[str, Any] = reply.json()
        if len(page["items"]) >= expected or time.monotonic() > deadline:
            return page
        await asyncio.sleep(0.2)


async def test_each_filter_narrows_the_list(
    http: httpx.AsyncClient, temporal: Client, api: LiveApi
) -> None:
    carrier = own_carrier()
    us = await start_shipment(temporal, carrier=carrier, lane="DE-US", breached=True)
    fr = await start_shipment(temporal, carrier=carrier, lane="DE-FR", breached=False)
    plain = await start_shipment(temporal, carrier=carrier)  # no SlaBreached, no Lane
    await plain.signal("set_stage", Stage.CUSTOMS)

    everything = await until_listed(http, {"carrier": carrier}, 3)
    assert {item["shipment_id"] for item in everything["items"]} == {us.id, fr.id, plain.id}
    assert everything["next_cursor"] is None
    item = next(i for i in everything["items"] if i["shipment_id"] == us.id)
    assert item["order_ref"] == us.id.removeprefix("shipment-")
    assert (item["carrier"], item["lane"], item["sla_breached"]) == (carrier, "DE-US", True)
    assert item["ui_url"].endswith(f"/namespaces/default/workflows/{us.id}")
    assert item["started_at"].endswith(("Z", "+00:00"))

    async def ids(**params: str) -> set[str]:
        page = await until_listed(http, {"carrier": carrier, **params}, 1)
        return {i["shipment_id"] for i in page["items"]}

    assert await ids(lane="DE-FR") == {fr.id}
    assert await ids(breached="true") == {us.id}
    assert await ids(breached="false") == {fr.id, plain.id}  # never breached counts as not
    customs = await until_listed(http, {"carrier": carrier, "status": "customs"}, 1)
    assert [i["shipment_id"] for i in customs["items"]] == [plain.id]
    assert customs["items"][0]["stage"] == "customs"
    order_ref = fr.id.removeprefix("shipment-")
    assert await ids(order_ref=order_ref) == {fr.id}
    none = await http.get("/v1/shipments", params={"carrier": carrier, "lane": "JP-KR"})
    assert none.json() == {"items": [], "next_cursor": None}


async def test_cursor_pages_through_everything_once(
    http: httpx.AsyncClient, temporal: Client
) -> None:
    carrier = own_carrier()
    started = {(await start_shipment(temporal, carrier=carrier)).id for _ in range(5)}
    await until_listed(http, {"carrier": carrier}, 5)
    seen: list[str] = []
    params: dict[str, Any] = {"carrier": carrier, "limit": 2}
    pages = 0
    while True:
        reply = await http.get("/v1/shipments", params=params)
        assert reply.status_code == 200, reply.text
        page = reply.json()
        pages += 1
        seen += [item["shipment_id"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        params["cursor"] = page["next_cursor"]
    assert sorted(seen) == sorted(started) and pages == 3

    # A cursor belongs to its filters: another filter set, or a forged one, is refused.
    first = (await http.get("/v1/shipments", params={"carrier": carrier, "limit": 2})).json()
    cursor = first["next_cursor"]
    other = await http.get("/v1/shipments", params={"carrier": own_carrier(), "cursor": cursor})
    assert other.status_code == 422 and other.json()["title"] == "Invalid cursor"
    forged = cursor[:-4] + ("AAAA" if not cursor.endswith("AAAA") else "BBBB")
    for bad in (forged, "bm90LWEtdG9rZW4", "A"):
        reply = await http.get("/v1/shipments", params={"carrier": carrier, "cursor": bad})
        assert reply.status_code == 422, bad


@pytest.mark.parametrize(
    "params, field",
    [
        ({"limit": "201"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"status": "lost"}, "status"),
        ({"lane": "de-us"}, "lane"),
        ({"lane": "DE-US' OR WorkflowType != 'x"}, "lane"),
        ({"carrier": "dhl' OR 1=1"}, "carrier"),
        ({"order_ref": 'S1" OR OrderRef = "S2'}, "order_ref"),
        ({"breached": "maybe"}, "breached"),
        ({"cursor": "not/base64"}, "cursor"),
        ({"sort": "desc"}, "sort"),
    ],
)
async def test_bad_filters_are_422_naming_the_parameter(
    http: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    reply = await http.get("/v1/shipments", params=params)
    assert reply.status_code == 422, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in reply.json()["errors"]] == [field]


async def test_every_reader_role_may_list_and_nobody_else(api: LiveApi) -> None:
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        for role in Role:
            reply = await http.get("/v1/shipments", headers=api.headers(role))
            # the codec's token only decodes payloads: the API refuses it everywhere
            assert reply.status_code == (403 if role is Role.CODEC else 200), (role, reply.text)
        assert (await http.get("/v1/shipments")).status_code == 401


async def test_a_shipment_started_through_the_api_is_listed(
    http: httpx.AsyncClient, api: LiveApi
) -> None:
    order_ref, carrier = new_order_ref(), own_carrier()
    package = {"weight_kg": "1", "length_cm": "1", "width_cm": "1", "height_cm": "1"}
    body = {"order_ref": order_ref, "carrier": carrier, "packages": [package]}
    started = await http.post("/v1/shipments", json=body, headers=api.headers(Role.OPS))
    assert started.status_code == 201, started.text
    # the carrier is upserted by the workflow once it runs
    page = await until_listed(http, {"order_ref": order_ref, "carrier": carrier}, 1)
    (item,) = page["items"]
    assert item["shipment_id"] == f"shipment-{order_ref}" and item["sla_breached"] is False
