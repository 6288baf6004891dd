"""Signed webhook delivery with retries, in the background, with injectable faults.

Guarantees:

* :meth:`WebhookSender.submit` never blocks: delivery runs in a background task.
* Deliveries that share an ``ordering_key`` (one shipment, one declaration) are attempted in
  submission order; a later event waits until the earlier one was delivered or given up.
* Each delivery is retried with exponential backoff until the receiver answers 2xx or the
  ``give_up_after`` budget is spent. Headers (signatures) are computed afresh per attempt;
  the body bytes never change.
* Every attempt is recorded (for ``/_sim/webhooks``); signatures and secrets are not.
* Faults (``webhooks`` of :class:`~simulators.faults.Faults`): a dropped event is never sent
  and is recorded once with ``dropped: true``; a duplicated event is delivered, then the
  identical body is delivered again (attempts marked ``duplicate: true``); with ``reorder``
  an event is held back until the next event with the same ordering key, which is sent
  first (an event with no successor within ``reorder_window`` seconds is sent as is).
* :meth:`WebhookSender.pending` lists deliveries not finished yet (including held ones) and
  :meth:`WebhookSender.restore` resumes them after a restart, without drawing faults again;
  ``on_change`` is called whenever that list changes.
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
from simulators.faults import FaultState

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
    """One HTTP attempt at delivering one event (``attempt`` 0 and ``dropped`` when dropped)."""

    event_id: str
    url: str
    attempt: int
    status: int | None
    error: str | None
    delivered: bool
    at: str
    payload: Any
    dropped: bool = False
    duplicate: bool = False


@dataclass
class _Delivery:
    seq: int
    event_id: str
    ordering_key: str
    body: bytes
    payload: Any
    duplicate: bool = False
    twice: bool = False


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
        faults: FaultState | None = None,
        reorder_window: float = 1.0,
    ) -> None:
        self._name = name
        self._url = url
        self._headers = headers
        self._policy = policy
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._faults = faults
        self._reorder_window = reorder_window
        self._on_change: Callable[[], None] | None = None
        self._tasks = BackgroundTasks(f"webhooks:{name}")
        self._tails: dict[str, asyncio.Task[Any]] = {}
        self._held: dict[str, tuple[_Delivery, asyncio.Task[Any]]] = {}
        self._pending: dict[int, _Delivery] = {}
        self._seq = 0
        self._session: aiohttp.ClientSession | None = None
        self._attempts: list[DeliveryAttempt] = []

    @property
    def attempts(self) -> list[dict[str, Any]]:
        """Every attempt so far, oldest first, as JSON-ready dicts."""
        return [asdict(a) for a in self._attempts]

    def on_change(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever :meth:`pending` changes (e.g. to persist it)."""
        self._on_change = callback

    def _new(self, event_id: str, ordering_key: str, body: bytes, **flags: bool) -> _Delivery:
        self._seq += 1
        return _Delivery(self._seq, event_id, ordering_key, body, json.loads(body), **flags)

    def submit(self, *, event_id: str, payload: Mapping[str, Any], ordering_key: str) -> None:
        """Schedule delivery of ``payload`` (serialised once; the same bytes on every retry)."""
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        delivery = self._new(event_id, ordering_key, body)
        faults = self._faults
        if faults is not None:
            drop, duplicate = faults.draw_webhook()
            if drop:
                faults.count("webhook_drop")
                self._record(delivery, 0, None, "dropped (fault injection)", dropped=True)
                logger.info("%s: dropped %s (fault injection)", self._name, event_id)
                return
            if duplicate:
                faults.count("webhook_duplicate")
                delivery.twice = True
            if faults.faults.webhooks.reorder:
                self._reorder(delivery, faults)
                self._changed()
                return
        self._enqueue(delivery)
        self._changed()

    def _reorder(self, delivery: _Delivery, faults: FaultState) -> None:
        held = self._held.pop(delivery.ordering_key, None)
        if held is None:
            self._pending[delivery.seq] = delivery
            timer = self._tasks.spawn(
                self._release_later(delivery), name=f"webhook-hold:{self._name}:{delivery.seq}"
            )
            self._held[delivery.ordering_key] = (delivery, timer)
            return
        earlier, timer = held
        timer.cancel()
        faults.count("webhook_reorder")
        logger.info("%s: sending %s before %s", self._name, delivery.event_id, earlier.event_id)
        self._enqueue(delivery)
        self._enqueue(earlier)

    async def _release_later(self, delivery: _Delivery) -> None:
        await asyncio.sleep(self._reorder_window)
        held = self._held.get(delivery.ordering_key)
        if held is not None and held[0] is delivery:
            del self._held[delivery.ordering_key]
            self._enqueue(delivery)

    def _enqueue(self, delivery: _Delivery) -> None:
        self._pending[delivery.seq] = delivery
        key = delivery.ordering_key
        task = self._tasks.spawn(
            self._deliver(delivery, self._tails.get(key)),
            name=f"webhook:{self._name}:{delivery.event_id}",
        )
        self._tails[key] = task
        task.add_done_callback(lambda t: self._forget_tail(key, t))
        if delivery.twice:
            self._enqueue(self._new(delivery.event_id, key, delivery.body, duplicate=True))

    def _forget_tail(self, ordering_key: str, task: asyncio.Task[Any]) -> None:
        if self._tails.get(ordering_key) is task:
            del self._tails[ordering_key]

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    def pending(self) -> list[dict[str, Any]]:
        """Deliveries not finished yet, in submission order, as JSON-ready data."""
        return [
            {
                "event_id": d.event_id,
                "ordering_key": d.ordering_key,
                "body": d.body.decode("utf-8"),
                "duplicate": d.duplicate,
            }
            for d in self._pending.values()
        ]

    def restore(self, rows: list[dict[str, Any]]) -> None:
        """Resume the deliveries of :meth:`pending` (in a running loop; no fault draws)."""
        for row in rows:
            body = str(row["body"]).encode("utf-8")
            flags = {"duplicate": bool(row.get("duplicate", False))}
            self._enqueue(self._new(row["event_id"], row["ordering_key"], body, **flags))

    def _record(
        self, delivery: _Delivery, attempt: int, status: int | None, error: str | None, **kw: bool
    ) -> bool:
        delivered = status is not None and 200 <= status < 300
        self._attempts.append(
            DeliveryAttempt(
                event_id=delivery.event_id,
                url=self._url,
                attempt=attempt,
                status=status,
                error=error,
                delivered=delivered,
                at=iso_now(),
                payload=delivery.payload,
                duplicate=delivery.duplicate,
                **kw,
            )
        )
        return delivered

    async def _deliver(self, delivery: _Delivery, previous: asyncio.Task[Any] | None) -> None:
        if previous is not None and not previous.done():
            await asyncio.wait({previous})
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._policy.give_up_after
        delay = self._policy.initial_delay
        attempt = 0
        event_id = delivery.event_id
        while True:
            attempt += 1
            status, error = await self._post_once(delivery.body)
            outcome = status if status is not None else error
            if self._record(delivery, attempt, status, error):
                logger.info("%s: delivered %s (attempt %d)", self._name, event_id, attempt)
                break
            if loop.time() + delay > deadline:
                logger.warning(
                    "%s: giving up on %s after %d attempts (last: %s)",
                    self._name,
                    event_id,
                    attempt,
                    outcome,
                )
                break
            logger.info(
                "%s: %s attempt %d failed (%s), retrying in %.3fs",
                self._name,
                event_id,
                attempt,
                outcome,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._policy.max_delay)
        self._pending.pop(delivery.seq, None)
        self._changed()

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
        """Cancel pending deliveries and close the HTTP session (pending ones stay listed)."""
        self._on_change = None
        await self._tasks.close()
        self._tails.clear()
        self._held.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
