"""Request limits: a rate per API token and per webhook partner, and a time limit per request.

Both are enforced inside each API process, in memory: with several processes behind a load
balancer, a caller gets up to that many times the configured rate. Limits answer RFC 9457
problems: 429 with ``Retry-After`` (whole seconds until the next request would pass), 504 when
a handler runs longer than the request time limit.
"""

import asyncio
import math
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from api.auth import TOKEN_KEY
from api.problems import problem


class TokenBucket:
    """``burst`` tokens, refilled at ``rate`` per second; each request takes one."""

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._tokens = float(burst)
        self._last = now

    def take(self, now: float) -> float:
        """Take a token: 0.0 when one was there, else the seconds until one will be."""
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._rate


class RateLimiter:
    """One token bucket per key (an API token id, a partner name), created on first use.

    Keys must come from a bounded set (tokens in the store, configured partners): nothing is
    ever evicted.
    """

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._rate = rate
        self._burst = burst
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}

    def wait_for(self, key: str) -> float:
        """0.0 when ``key`` may go ahead now (and counts the request), else seconds to wait."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, now)
        return bucket.take(now)


def too_many(who: str, wait_s: float) -> web.Response:
    retry_after = max(1, math.ceil(wait_s))
    reply = problem(429, "Too Many Requests",
                    f"{who} is over its rate limit; retry in {retry_after} s")  # fmt: skip
    reply.headers["Retry-After"] = str(retry_after)
    return reply


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
