"""Limits per client address, before authentication (``api/limits.py``): a flood of bad tokens
or unsigned webhooks from one address is refused 429 once its failure budget is spent, before
any token look-up, while other addresses (and valid tokens elsewhere) are served;
``X-Forwarded-For`` names the client only when the peer is a trusted proxy; the limiter's
memory stays bounded whatever the number of addresses.

Rates are tiny (a token every 1000 s), so what passes depends only on how many requests came
before, never on how fast the test runs. Each test uses client addresses of its own.
"""

import json
import tracemalloc
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from aiohttp.test_utils import make_mocked_request
from live import WEBHOOK_SECRET, LiveApi, Stack
from pydantic import TypeAdapter
from sqlalchemy import event

from api.limits import Network, RateLimiter, client_address
from simulators.signing import sign_easypost
from store.tokens import Role

SLOW = {
    "client_failure_limit_per_s": 0.001, "client_failure_limit_burst": 5,
    "client_rate_limit_per_s": 0.001, "client_rate_limit_burst": 30,
}  # fmt: skip
BAD_TOKEN = {"Authorization": "Bearer bf_0123456789abcdef.not-the-secret"}  # well-formed


@pytest.fixture(scope="module")
def proxied(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> LiveApi:
    """An API behind a trusted proxy (the tests, on 127.0.0.1): X-Forwarded-For names clients."""
    database = tmp_path_factory.mktemp("preauth") / "store.db"
    return stack.serve_api(f"sqlite:///{database}", trusted_proxies=["127.0.0.1/32"], **SLOW)


@pytest.fixture
def token_lookups(proxied: LiveApi) -> Iterator[list[str]]:
    """Every SQL statement that reads the token table, as the API runs it."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "api_token" in statement:
            seen.append(statement)

    event.listen(proxied.store, "before_cursor_execute", record)
    yield seen
    event.remove(proxied.store, "before_cursor_execute", record)


def client(address: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    return {"X-Forwarded-For": address, **(headers or {})}


async def test_a_bad_token_flood_gets_429_before_any_lookup_and_others_are_served(
    proxied: LiveApi, token_lookups: list[str]
) -> None:
    valid = proxied.headers(Role.SUPPORT)
    token_lookups.clear()
    async with httpx.AsyncClient(base_url=proxied.url, timeout=30) as http:
        flood = [await http.get("/v1/shipments", headers=client("203.0.113.7", BAD_TOKEN))
                 for _ in range(12)]  # fmt: skip
        assert [r.status_code for r in flood] == [401] * 5 + [429] * 7
        assert len(token_lookups) == 5  # the 7 refused ones never reached the store
        limited = flood[-1]
        assert limited.headers["content-type"].startswith("application/problem+json")
        assert 1 <= int(limited.headers["Retry-After"]) <= 1000
        assert "203.0.113.7 has failed authentication too often" in limited.json()["detail"]

        # the flooded address is refused even with a valid token (a lookup is what it costs),
        # but what needs no authentication still answers
        assert (
            await http.get("/v1/shipments", headers=client("203.0.113.7", valid))
        ).status_code == 429
        assert (await http.get("/healthz", headers=client("203.0.113.7"))).status_code == 200
        assert len(token_lookups) == 5

        # another address is still looked up and answered; a valid token elsewhere is served
        other = await http.get("/v1/shipments", headers=client("203.0.113.8", BAD_TOKEN))
        assert other.status_code == 401 and len(token_lookups) == 6
        served = await http.get("/v1/shipments", headers=client("198.51.100.9", valid))
        assert served.status_code == 200, served.text


async def test_unsigned_webhooks_from_one_address_get_429_after_the_burst(
    proxied: LiveApi,
) -> None:
    body = json.dumps({"object": "Event", "id": "evt_preauth", "description": "ping"}).encode()
    forged = {"X-Hmac-Signature": "hmac-sha256-hex=" + "0" * 64}
    signed = {"X-Hmac-Signature": sign_easypost(WEBHOOK_SECRET.encode(), body)}
    async with httpx.AsyncClient(base_url=proxied.url, timeout=30) as http:
        codes = [
            (await http.post("/v1/webhooks/easypost", content=body,
                             headers=client("203.0.113.20", forged))).status_code
            for _ in range(7)
        ]  # fmt: skip
        assert codes == [401] * 5 + [429] * 2
        partner = await http.post("/v1/webhooks/easypost", content=body,
                                  headers=client("192.0.2.1", signed))  # fmt: skip
        assert partner.status_code == 200, partner.text


async def test_every_request_of_an_address_counts_before_authentication(proxied: LiveApi) -> None:
    async with httpx.AsyncClient(base_url=proxied.url, timeout=30) as http:
        codes = [(await http.get("/healthz", headers=client("203.0.113.30"))).status_code
                 for _ in range(31)]  # fmt: skip
        assert codes == [200] * 30 + [429]
        assert (await http.get("/healthz", headers=client("203.0.113.31"))).status_code == 200


async def test_x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    database = tmp_path_factory.mktemp("direct") / "store.db"
    direct = stack.serve_api(f"sqlite:///{database}", **SLOW)  # no trusted proxies
    async with httpx.AsyncClient(base_url=direct.url, timeout=30) as http:
        replies = [await http.get("/v1/shipments", headers=client(f"203.0.113.{n}", BAD_TOKEN))
                   for n in range(7)]  # fmt: skip
    # one client, 127.0.0.1, whatever the header says
    assert [r.status_code for r in replies] == [401] * 5 + [429] * 2
    assert replies[-1].json()["detail"].startswith("client 127.0.0.1 ")


def remote(peer: str, forwarded: str | None = None) -> str:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    request = make_mocked_request("GET", "/", headers=headers).clone(remote=peer)
    return client_address(request, TRUSTED)


TRUSTED: list[Network] = TypeAdapter(list[Network]).validate_python(["10.0.0.0/8", "::1/128"])


def test_the_client_address_is_read_from_the_right_past_trusted_proxies_only() -> None:
    assert remote("192.0.2.5", "203.0.113.1") == "192.0.2.5"  # an untrusted peer: header ignored
    assert remote("10.0.0.2", "203.0.113.1") == "203.0.113.1"  # our proxy saw 203.0.113.1
    # a client cannot pick its address: it only prepends what our proxies append after it
    assert remote("10.0.0.2", "1.1.1.1, 203.0.113.1") == "203.0.113.1"
    assert remote("10.0.0.2", "1.1.1.1, 203.0.113.1, 10.0.0.9") == "203.0.113.1"  # two proxies
    assert remote("10.0.0.2", "10.0.0.7, 10.0.0.9") == "10.0.0.7"  # all trusted: the first
    assert remote("10.0.0.2", "not-an-ip") == "10.0.0.2"  # garbage: the last trusted hop
    assert remote("10.0.0.2") == "10.0.0.2"
    assert remote("::ffff:192.0.2.5") == "192.0.2.5"
    # IPv6 clients count per /64 (one subscriber's prefix), however many addresses they use
    assert remote("2001:db8:1:2::1") == remote("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert remote("::1", "2001:db8::7") == "2001:db8::/64"


def test_the_limiter_memory_is_bounded_with_100k_distinct_addresses() -> None:
    now = [0.0]
    limiter = RateLimiter(rate=1.0, burst=1, clock=lambda: now[0], max_keys=10_000)
    assert limiter.wait_for("198.51.100.1") == 0.0  # spent its burst
    tracemalloc.start()
    for n in range(100_000):
        limiter.wait_for(f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}")
        if n % 1000 == 0:
            limiter.wait_for("198.51.100.1")  # recently used: kept, its state with it
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert limiter.size() == 10_000
    assert limiter.would_wait("198.51.100.1") > 0  # still limited: never evicted
    assert peak < 5_000_000, peak  # ≈ 10k buckets, not 100k
    assert limiter.would_wait("10.0.0.0") == 0.0  # the oldest were forgotten (a full bucket)
    assert limiter.size() == 10_000  # and asking does not create buckets
