"""``Idempotency-Key`` on ``POST /v1/shipments``: the key is reserved before anything starts.

Real concurrency against the live API (real HTTP, the real dev server, the stand-in worker),
once on SQLite and once on PostgreSQL. What started is read back from Temporal itself: the
workflow of each order, and the ``accept`` updates in its history.
"""

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from api_support import PACKAGE, new_order_ref
from live import STORES, LiveApi, Stack, store_url
from sqlmodel import Session
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from store.idempotency import IdempotencyState, StoredResponse
from store.tokens import Role


@dataclass
class Caller:
    api: LiveApi
    token: str

    @property
    def token_id(self) -> str:
        return self.token.removeprefix("bf_").split(".")[0]

    def headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}


@pytest.fixture(scope="module", params=STORES)
def live(
    request: pytest.FixtureRequest, stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> LiveApi:
    url = store_url(request, tmp_path_factory)
    return stack.serve_api(url, rate_limit_burst=10_000, update_timeout_s=5)


@pytest.fixture
def caller(live: LiveApi) -> Caller:
    return Caller(live, live.token(Role.OPS))


def order(order_ref: str | None = None) -> dict[str, object]:
    return {"order_ref": order_ref or new_order_ref(), "packages": [PACKAGE]}


async def accepts(temporal: Client, order_ref: str) -> int | None:
    """How many ``accept`` updates the order's workflow took; ``None``: it was never started."""
    handle = temporal.get_workflow_handle(f"shipment-{order_ref}")
    try:
        history = await handle.fetch_history()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    accepted = EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED
    return sum(1 for event in history.events if event.event_type == accepted)


async def post_all(
    caller: Caller, bodies: list[dict[str, object]], key: str
) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=caller.api.url, timeout=60) as http:
        return list(await asyncio.gather(*(
            http.post("/v1/shipments", json=body, headers=caller.headers(key)) for body in bodies
        )))  # fmt: skip


@pytest.mark.parametrize("concurrent", [5, 20])
async def test_concurrent_requests_with_one_key_and_different_bodies_start_one_shipment(
    caller: Caller, temporal: Client, concurrent: int
) -> None:
    bodies = [order() for _ in range(concurrent)]
    replies = await post_all(caller, bodies, f"k-{uuid.uuid4().hex}")

    statuses = Counter(reply.status_code for reply in replies)
    assert statuses[201] == 1, [(r.status_code, r.text) for r in replies]
    assert set(statuses) <= {201, 409, 422}, statuses
    for reply in replies:
        if reply.status_code in (409, 422):
            assert reply.headers["content-type"].startswith("application/problem+json")
        if reply.status_code == 409:
            assert int(reply.headers["Retry-After"]) >= 1
    started = [await accepts(temporal, str(body["order_ref"])) for body in bodies]
    assert sorted(started, key=lambda n: n or 0) == [None] * (concurrent - 1) + [1]
    (winner,) = [r for r in replies if r.status_code == 201]
    (started_ref,) = [b["order_ref"] for b, n in zip(bodies, started, strict=True) if n]
    assert winner.json()["order_ref"] == started_ref


async def test_concurrent_requests_with_one_key_and_one_body_start_and_accept_once(
    caller: Caller, temporal: Client
) -> None:
    body = order()
    replies = await post_all(caller, [body] * 5, f"k-{uuid.uuid4().hex}")

    replayed = [r for r in replies if r.headers.get("Idempotent-Replayed") == "true"]
    answered = [r for r in replies if r.status_code != 409 and r not in replayed]
    assert [r.status_code for r in answered] == [201], [(r.status_code, r.text) for r in replies]
    assert {r.status_code for r in replies} <= {201, 409}
    assert all(r.content == answered[0].content for r in replayed)
    assert await accepts(temporal, str(body["order_ref"])) == 1  # the others started nothing


async def test_a_finished_key_replays_and_refuses_another_body(
    caller: Caller, temporal: Client
) -> None:
    body, key = order(), f"k-{uuid.uuid4().hex}"
    async with httpx.AsyncClient(base_url=caller.api.url, timeout=60) as http:
        first = await http.post("/v1/shipments", json=body, headers=caller.headers(key))
        again = await http.post("/v1/shipments", json=body, headers=caller.headers(key))
        other = await http.post("/v1/shipments", json=order(), headers=caller.headers(key))
        # keys are scoped by token: another caller's same key is another key
        stranger = Caller(caller.api, caller.api.token(Role.OPS))
        theirs = await http.post("/v1/shipments", json=body, headers=stranger.headers(key))
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    assert (again.status_code, again.content) == (201, first.content)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert other.status_code == 422 and "another request" in other.json()["detail"]
    assert theirs.status_code == 200 and "Idempotent-Replayed" not in theirs.headers
    assert await accepts(temporal, str(body["order_ref"])) == 2  # first, and the stranger's


async def test_a_key_in_flight_is_409_and_an_abandoned_one_is_taken_over(
    caller: Caller, temporal: Client
) -> None:
    busy, abandoned = f"k-{uuid.uuid4().hex}", f"k-{uuid.uuid4().hex}"
    now = datetime.now(UTC)
    with Session(caller.api.store) as session:  # as a crashed process would have left them
        for key, reserved in ((busy, now), (abandoned, now - timedelta(hours=1))):
            session.add(StoredResponse(scope=caller.token_id, key=key, request_sha256="0" * 64,
                                       state=IdempotencyState.IN_FLIGHT, holder="crashed",
                                       created_at=reserved))  # fmt: skip
        session.commit()
    busy_body, abandoned_body = order(), order()
    async with httpx.AsyncClient(base_url=caller.api.url, timeout=60) as http:
        refused = await http.post("/v1/shipments", json=busy_body, headers=caller.headers(busy))
        taken = await http.post("/v1/shipments", json=abandoned_body,
                                headers=caller.headers(abandoned))  # fmt: skip
        replayed = await http.post("/v1/shipments", json=abandoned_body,
                                   headers=caller.headers(abandoned))  # fmt: skip
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert int(refused.headers["Retry-After"]) >= 1
    assert await accepts(temporal, str(busy_body["order_ref"])) is None
    assert taken.status_code == 201, taken.text
    assert replayed.headers["Idempotent-Replayed"] == "true" and replayed.content == taken.content


async def test_a_request_that_ends_in_5xx_frees_its_key(stack: Stack, tmp_path: Path) -> None:
    """No worker answers ``accept``: the request times out (504), and a retry may run."""
    api = stack.serve_api(f"sqlite:///{tmp_path / 'store.db'}", request_timeout_s=1.0,
                          update_timeout_s=0.5)  # fmt: skip
    caller, body, key = Caller(api, api.token(Role.OPS)), order(), f"k-{uuid.uuid4().hex}"
    async with httpx.AsyncClient(base_url=api.url, timeout=60) as http:
        stack.stop_worker()
        try:
            timed_out = await http.post("/v1/shipments", json=body, headers=caller.headers(key))
        finally:
            stack.start_worker()
        assert timed_out.status_code >= 500, timed_out.text
        for _ in range(20):  # the worker needs a moment to pick the shipment up again
            retried = await http.post("/v1/shipments", json=body, headers=caller.headers(key))
            if retried.status_code < 500:
                break
    assert retried.status_code in (200, 201), retried.text
    assert "Idempotent-Replayed" not in retried.headers
