"""Limits: per-token and per-partner rate limits (429 + Retry-After), 504, 413, all problems.

Rates here are tiny (a token every 1000 s), so whether a request passes depends only on how
many came before it, never on how fast the test runs.
"""

import asyncio
import json

import httpx
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from live import WEBHOOK_SECRET, LiveApi, Stack
from webhook_payloads import broker_event, send

from api.limits import RateLimiter, TokenBucket, timeout_middleware
from api.problems import problem_middleware
from simulators.signing import sign_easypost
from store.tokens import Role

SLOW = {"rate_limit_per_s": 0.001, "rate_limit_burst": 3,
        "webhook_rate_limit_per_s": 0.001, "webhook_rate_limit_burst": 2}  # fmt: skip


def test_a_bucket_gives_its_burst_then_refills_at_its_rate() -> None:
    bucket = TokenBucket(rate=2.0, burst=3, now=100.0)
    assert [bucket.take(100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert bucket.take(100.0) == pytest.approx(0.5)  # half a second for the next token
    assert bucket.take(100.5) == 0.0
    assert bucket.take(110.0) == 0.0  # a long pause refills up to the burst, no further
    assert [bucket.take(110.0) for _ in range(3)] == [0.0, 0.0, pytest.approx(0.5)]


def test_each_key_has_its_own_bucket() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=1.0, burst=1, clock=lambda: now[0])
    assert limiter.wait_for("a") == 0.0 and limiter.wait_for("b") == 0.0
    assert limiter.wait_for("a") == pytest.approx(1.0)
    now[0] = 1.0
    assert limiter.wait_for("a") == 0.0


@pytest.fixture(scope="module")
def slow_api(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> LiveApi:
    database = tmp_path_factory.mktemp("limits") / "store.db"
    return stack.serve_api(f"sqlite:///{database}", max_body_bytes=1000, **SLOW)


async def test_a_token_over_its_rate_gets_429_with_retry_after(slow_api: LiveApi) -> None:
    mine, other = slow_api.headers(Role.SUPPORT), slow_api.headers(Role.SUPPORT)
    async with httpx.AsyncClient(base_url=slow_api.url, timeout=30) as http:
        passed = [(await http.get("/v1/shipments", headers=mine)).status_code for _ in range(3)]
        assert passed == [200, 200, 200]
        limited = await http.get("/v1/shipments/shipment-X", headers=mine)
        assert limited.status_code == 429
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(limited.headers["Retry-After"]) <= 1000
        assert "rate limit" in limited.json()["detail"]
        # another token is not slowed down by the first one
        assert (await http.get("/v1/shipments", headers=other)).status_code == 200
        # unauthenticated requests are refused before they count
        assert (await http.get("/v1/shipments")).status_code == 401


async def test_a_partner_over_its_rate_gets_429(slow_api: LiveApi) -> None:
    body = json.dumps({"object": "Event", "id": "evt_limit", "description": "ping"}).encode()
    headers = {"X-Hmac-Signature": sign_easypost(WEBHOOK_SECRET.encode(), body)}
    async with httpx.AsyncClient(base_url=slow_api.url, timeout=30) as http:
        codes = [
            (await http.post("/v1/webhooks/easypost", content=body, headers=headers)).status_code
            for _ in range(3)
        ]
        assert codes == [200, 200, 429], codes  # stored (no event in it), its repeat, limited
        # unsigned requests do not count (nobody can use up a partner's rate), and each
        # partner has its own bucket
        forged = {"X-Hmac-Signature": "hmac-sha256-hex=00"}
        for _ in range(3):
            reply = await http.post("/v1/webhooks/broker", content=body, headers=forged)
            assert reply.status_code == 401
        broker = await send(http, "broker", broker_event("shipment-NOPE"))
        assert broker.status_code == 202, broker.text


async def test_a_body_too_large_is_413_problem_json(slow_api: LiveApi) -> None:
    async with httpx.AsyncClient(base_url=slow_api.url, timeout=30) as http:
        reply = await http.post("/v1/shipments", content=b"x" * 5000,
                                headers=slow_api.headers(Role.OPS))  # fmt: skip
    assert reply.status_code == 413
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert reply.json()["status"] == 413


async def test_a_handler_over_the_time_limit_is_504_and_is_cancelled() -> None:
    cancelled = asyncio.Event()

    async def never(_request: web.Request) -> web.Response:
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()
        raise AssertionError("unreachable")

    app = web.Application(middlewares=[problem_middleware, timeout_middleware(0.2)])
    app.router.add_get("/never", never)
    async with TestServer(app) as server:
        async with httpx.AsyncClient(timeout=30) as http:
            reply = await http.get(str(server.make_url("/never")))
    assert reply.status_code == 504
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert reply.json()["title"] == "Gateway Timeout"
    assert cancelled.is_set()
