"""Signed webhook delivery with retries, in the background.

Guarantees:

* :meth:`WebhookSender.submit` never blocks: delivery runs in a background task.
* Deliveries that share an ``ordering_key`` (one shipment, one declaration) are attempted in
  submission order; a later event waits until the earlier one was delivered or given up.
* Each delivery is retried with exponential backoff until the receiver answers 2xx or the
  ``give_up_after`` budget is spent. Headers (signatures) are computed afresh per attempt.
* Every attempt is recorded (for ``/_sim/webhooks``); signatures and secrets are not.
* :meth:`WebhookSender.close` cancels pending deliveries and closes the HTTP session.
"""

import asyncio
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import aiohttp

from simulators.background import BackgroundTasks
from simulators.clock import iso_now

logger = logging.getLogger(__name__)

HeaderFactory = Callable[[bytes], Mapping[str, str]]
"""Computes the extra headers (signature) for one attempt from the exact body bytes sent."""


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``initial_delay`` doubling up to ``max_delay``, for at most
    ``give_up_after`` seconds of wall-clock time per delivery."""

    initial_delay: float
    max_delay: float
    give_up_after: float = 120.0

    @classmethod
    def for_time_scale(cls, time_scale: float) -> "RetryPolicy":
        """Start at ``0.2 × time_scale`` s, double up to 5 s, give up after 2 minutes."""
        initial = max(0.2 * time_scale, 0.001)
        return cls(initial_delay=initial, max_delay=max(5.0, initial), give_up_after=120.0)


@dataclass(frozen=True)
class DeliveryAttempt:
    """One HTTP attempt at delivering one event."""

    event_id: str
    url: str
    attempt: int
    status: int | None
    error: str | None
    delivered: bool
    at: str
    payload: Any


class WebhookSender:
    """Posts JSON events to one URL, signed by ``headers``, retrying until 2xx."""

    def __init__(
        self,
        *,
        name: str,
        url: str,
        headers: HeaderFactory,
        policy: RetryPolicy,
        request_timeout: float = 10.0,
    ) -> None:
        self._name = name
        self._url = url
        self._headers = headers
        self._policy = policy
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._tasks = BackgroundTasks(f"webhooks:{name}")
        self._tails: dict[str, asyncio.Task[Any]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._attempts: list[DeliveryAttempt] = []

    @property
    def attempts(self) -> list[dict[str, Any]]:
        """Every attempt so far, oldest first, as JSON-ready dicts."""
        return [asdict(a) for a in self._attempts]

    def submit(self, *, event_id: str, payload: Mapping[str, Any], ordering_key: str) -> None:
        """Schedule delivery of ``payload`` (serialised once; the same bytes on every retry)."""
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        previous = self._tails.get(ordering_key)
        task = self._tasks.spawn(
            self._deliver(event_id, dict(payload), body, previous),
            name=f"webhook:{self._name}:{event_id}",
        )
        self._tails[ordering_key] = task
        task.add_done_callback(lambda t: self._forget_tail(ordering_key, t))

    def _forget_tail(self, ordering_key: str, task: asyncio.Task[Any]) -> None:
        if self._tails.get(ordering_key) is task:
            del self._tails[ordering_key]

    async def _deliver(
        self,
        event_id: str,
        payload: dict[str, Any],
        body: bytes,
        previous: asyncio.Task[Any] | None,
    ) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait({previous})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._policy.give_up_after
        delay = self._policy.initial_delay
        attempt = 0
        while True:
            attempt += 1
            status, error = await self._post_once(body)
            delivered = status is not None and 200 <= status < 300
            self._attempts.append(
                DeliveryAttempt(
                    event_id=event_id,
                    url=self._url,
                    attempt=attempt,
                    status=status,
                    error=error,
                    delivered=delivered,
                    at=iso_now(),
                    payload=payload,
                )
            )
            if delivered:
                logger.info("%s: delivered %s (attempt %d)", self._name, event_id, attempt)
                return
            if loop.time() + delay > deadline:
                logger.warning(
                    "%s: giving up on %s after %d attempts (last: %s)",
                    self._name,
                    event_id,
                    attempt,
                    status if status is not None else error,
                )
                return
            logger.info(
                "%s: %s attempt %d failed (%s), retrying in %.3fs",
                self._name,
                event_id,
                attempt,
                status if status is not None else error,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._policy.max_delay)

    async def _post_once(self, body: bytes) -> tuple[int | None, str | None]:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        headers = {"Content-Type": "application/json", **self._headers(body)}
        try:
            async with self._session.post(self._url, data=body, headers=headers) as response:
                await response.read()
                return response.status, None
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, f"{type(exc).__name__}: {exc}"

    async def close(self) -> None:
        """Cancel pending deliveries and close the HTTP session."""
        await self._tasks.close()
        self._tails.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
