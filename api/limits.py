"""Request limits: rates per client address, per API token and per webhook partner, and a time
limit per request.

All are enforced inside each API process, in memory: with several processes behind a load
balancer, a caller gets up to that many times the configured rate. Limits answer RFC 9457
problems: 429 with ``Retry-After`` (whole seconds until the next request would pass), 504 when
a handler runs longer than the request time limit.

Per client address, before authentication (:func:`client_limit_middleware`), as an API gateway
does it: a generous rate on every request, and a tight one on failed authentications (401: a
bad or missing token, a webhook whose signature does not hold). An address out of failures is
refused (429) every request that would be authenticated, before any token lookup, until its
failure budget refills. The client address is the peer's, or the one ``X-Forwarded-For`` names
when the peer is a configured trusted proxy (:func:`client_address`); IPv6 clients count per
/64. Client addresses are unbounded, so these limiters keep at most ``max_keys`` buckets each,
forgetting the least recently used address first (it comes back with a full bucket).
"""

import asyncio
import ipaddress
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web
from pydantic import Field, IPvAnyNetwork
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.auth import PUBLIC, TOKEN_KEY
from api.problems import problem


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; each request takes one."""

    __slots__ = ("_burst", "_last", "_rate", "_tokens")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._last = now

    def wait(self, now: float) -> float:
        """0.0 when a token is there, else the seconds until one will be (takes nothing)."""
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        return 0.0 if self._tokens >= 1.0 else (1.0 - self._tokens) / self._rate

    def take(self, now: float) -> float:
        """Take a token: 0.0 when one was there, else the seconds until one will be."""
        wait_s = self.wait(now)
        if wait_s == 0.0:
            self._tokens -= 1.0
        return wait_s


class RateLimiter:
    """One token bucket per key (an API token id, a partner name, a client address), created
    on first use.

    Without ``max_keys``, keys must come from a bounded set (tokens in the store, configured
    partners): nothing is evicted. With it, at most ``max_keys`` buckets are kept: a new key
    beyond that evicts the least recently used one (which starts again with a full bucket).
    """

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic,
        max_keys: int | None = None,
    ) -> None:  # fmt: skip
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, TokenBucket] = {}  # least recently used first

    def size(self) -> int:
        """How many buckets are kept (not ``__len__``: an empty limiter must stay truthy)."""
        return len(self._buckets)

    def wait_for(self, key: str) -> float:
        """0.0 when ``key`` may go ahead now (and counts the request), else seconds to wait."""
        now = self._clock()
        return self._bucket(key, now).take(now)

    def would_wait(self, key: str) -> float:
        """What :meth:`wait_for` would answer, without counting a request."""
        now = self._clock()
        return self._bucket(key, now).wait(now) if key in self._buckets else 0.0

    def _bucket(self, key: str, now: float) -> TokenBucket:
        bucket = self._buckets.pop(key, None)
        if bucket is None:
            bucket = TokenBucket(self._rate, self._burst, now)
            if self._max_keys is not None and len(self._buckets) >= self._max_keys:
                del self._buckets[next(iter(self._buckets))]
        self._buckets[key] = bucket  # (re)inserted last: the most recently used
        return bucket


def too_many(who: str, wait_s: float, why: str = "is over its rate limit") -> web.Response:
    retry_after = max(1, math.ceil(wait_s))
    reply = problem(429, "Too Many Requests", f"{who} {why}; retry in {retry_after} s")
    reply.headers["Retry-After"] = str(retry_after)
    return reply


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
UNAUTHENTICATED = PUBLIC - {"/v1/webhooks/{partner}"}
"""Routes nobody authenticates on (probes, metrics, docs): the failure limit does not apply."""


def _address(text: str | None) -> Address | None:
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:1.2.3.4 is 1.2.3.4
    return mapped if mapped is not None else address


def client_ip(request: web.Request, trusted_proxies: Sequence[Network]) -> Address | None:
    """Who the client is: the peer address, unless the peer is a trusted proxy: then
    ``X-Forwarded-For`` is read from the right (each proxy appends the address it saw),
    skipping trusted proxies, and the first address that is not one is the client. An entry
    that is not an address stops the walk at the last trusted hop. Without trusted proxies the
    header is never read. ``None`` when the peer address is unknown."""
    address = _address(request.remote)
    if address is None:
        return None
    forwarded = [
        hop for value in request.headers.getall("X-Forwarded-For", ())
        for hop in value.split(",") if hop.strip()
    ]  # fmt: skip
    while forwarded and any(address in network for network in trusted_proxies):
        hop = _address(forwarded.pop())
        if hop is None:
            break
        address = hop
    return address


def client_address(request: web.Request, trusted_proxies: Sequence[Network]) -> str:
    """Who the client is (:func:`client_ip`), as a rate-limit key: its IPv4 address, or its
    IPv6 /64."""
    address = client_ip(request, trusted_proxies)
    if address is None:
        return "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network((address, 64), strict=False))
    return str(address)


def client_limit_middleware(
    every: RateLimiter, failures: RateLimiter, trusted_proxies: Sequence[Network],
    open_routes: frozenset[str] = UNAUTHENTICATED,
) -> Any:  # fmt: skip
    """Counts every request per client address, and its failed authentications, before any
    authentication (so it goes before ``auth_middleware``).

    An address out of ``failures`` is refused every route but ``open_routes`` (its
    next request would look a token up, or check a signature, again); an address over
    ``every`` is refused everything. A response 401 (from the token check or the webhook
    signature check) counts one failure.
    """

    @web.middleware
    async def limit(request: web.Request, handler: Any) -> web.StreamResponse:
        client = client_address(request, trusted_proxies)
        route = request.match_info.route.resource
        authenticated = request.match_info.http_exception is None and (
            route is None or route.canonical not in open_routes
        )
        wait_s = failures.would_wait(client) if authenticated else 0.0
        if wait_s > 0:
            return too_many(f"client {client}", wait_s, "has failed authentication too often")
        wait_s = every.wait_for(client)
        if wait_s > 0:
            return too_many(f"client {client}", wait_s)
        response: web.StreamResponse = await handler(request)
        if response.status == 401:
            failures.wait_for(client)
        return response

    return limit


class ClientLimitSettings(BaseSettings):
    """The per-client-address limits, before authentication (a base of the API's and the codec
    server's settings: both look tokens up in the store)."""

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_")

    client_rate_limit_per_s: float = Field(default=500.0, gt=0)
    """Requests per second per client address, every request, counted before authentication
    (generous: above what one process serves, so that one address cannot take all of it)."""
    client_rate_limit_burst: int = Field(default=1000, ge=1)
    client_failure_limit_per_s: float = Field(default=5.0, gt=0)
    """Failed authentications (401: bad token, bad webhook signature) per second per client
    address; an address out of them is answered 429 before any token lookup."""
    client_failure_limit_burst: int = Field(default=100, ge=1)
    client_limit_max_addresses: int = Field(default=100_000, ge=1)
    """Client addresses whose buckets are kept (per limit; least recently used forgotten)."""
    trusted_proxies: list[IPvAnyNetwork] = Field(default_factory=list)
    """Reverse proxies (addresses or networks, JSON list) whose ``X-Forwarded-For`` names the
    client; empty: the header is ignored and the peer address is the client."""


def client_limits(
    settings: ClientLimitSettings, open_routes: frozenset[str] = UNAUTHENTICATED
) -> Any:
    """:func:`client_limit_middleware` with the limits ``settings`` name."""
    addresses = settings.client_limit_max_addresses
    return client_limit_middleware(
        RateLimiter(settings.client_rate_limit_per_s, settings.client_rate_limit_burst,
                    max_keys=addresses),
        RateLimiter(settings.client_failure_limit_per_s, settings.client_failure_limit_burst,
                    max_keys=addresses),
        settings.trusted_proxies, open_routes,
    )  # fmt: skip


def rate_limit_middleware(tokens: RateLimiter) -> Any:
    """Counts authenticated requests per token.

    Runs after authentication (it needs the token, and a caller without one must not use up
    anyone's rate). Webhooks are counted per partner by their route, once the signature has
    been verified, for the same reason (``api/webhooks.py``).
    """

    @web.middleware
    async def limit(request: web.Request, handler: Any) -> web.StreamResponse:
        token = request.get(TOKEN_KEY)
        if token is not None:
            wait_s = tokens.wait_for(token.id)
            if wait_s > 0:
                return too_many(f"token {token.id}", wait_s)
        response: web.StreamResponse = await handler(request)
        return response

    return limit


def timeout_middleware(seconds: float) -> Any:
    """Answers 504 when the handler has not finished within ``seconds`` (and cancels it)."""

    @web.middleware
    async def bounded(request: web.Request, handler: Any) -> web.StreamResponse:
        try:
            async with asyncio.timeout(seconds):
                response: web.StreamResponse = await handler(request)
                return response
        except TimeoutError:
            return problem(504, "Gateway Timeout",
                           f"the request took longer than {seconds:g} s")  # fmt: skip

    return bounded
