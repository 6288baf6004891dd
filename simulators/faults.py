"""Fault injection: what to break (:class:`Faults`) and the live state of one simulator.

Guarantees:

* :class:`Faults` validates every field (rates in ``[0, 1]``, statuses ``400``–``599``, counts
  ``>= 0``) and refuses unknown ones, so a typo in ``BORDERFLOW_SIM_FAULTS`` or a
  ``POST /_sim/faults`` body fails loudly instead of injecting nothing.
* :class:`FaultState` is deterministic for a given ``seed``: request faults, Odoo partner
  errors and webhook faults each draw from their own ``random.Random`` seeded from it, so the
  outcome of the n-th request does not depend on how webhooks interleave with requests.
* "Next N" faults are consumed one per request (or booking, or declaration), never twice.
* Every injection is counted under ``injected`` (see :data:`COUNTERS`); replacing or clearing
  the faults resets the counters.
* ``/_sim/…`` paths are never faulted, so a test can always inspect and clear faults.
* The fault switches are keyed by partner name: :data:`PARTNERS` is exactly the registry's
  simulated partners (:func:`canonical.partners.simulated`), plugins included.

The HTTP side (middleware, ``/_sim/faults`` routes) lives in :mod:`simulators.fault_http`.
"""

import asyncio
import random
import time
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from canonical.partners import simulated

PARTNERS: tuple[str, ...] = tuple(partner.name for partner in simulated())
"""The keys of ``BORDERFLOW_SIM_FAULTS``, one per simulator: the simulated partners' names."""

SIM_PREFIX = "/_sim/"
COUNTERS = (
    "latency",
    "down",
    "rate_limited",
    "fail_next",
    "hang",
    "error",
    "partner_error",
    "reject_bookings",
    "customs_hold",
    "customs_reject",
    "webhook_drop",
    "webhook_duplicate",
    "webhook_reorder",
)
"""The keys of ``injected``: how many requests/bookings/declarations/webhooks were faulted."""

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Count = Annotated[int, Field(ge=0)]
NonNegative = Annotated[float, Field(ge=0.0)]
ErrorStatus = Annotated[int, Field(ge=400, le=599)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomsFaults(_Strict):
    """Broker only: the next declarations are held or rejected instead of released."""

    hold_next: Count = 0
    hold_reason: str = "customs_documentation"
    reject_next: Count = 0


class WebhookFaults(_Strict):
    """Outbound webhooks (EasyPost, broker): drop, duplicate or reorder them."""

    drop_rate: Rate = 0.0
    duplicate_rate: Rate = 0.0
    reorder: bool = False


class Faults(_Strict):
    """Every fault switch of ``docs/partners.md`` § Fault injection; all default to "off"."""

    latency_ms: NonNegative = 0
    error_rate: Rate = 0.0
    error_status: ErrorStatus = 503
    seed: int = 1
    fail_next: Count = 0
    fail_status: ErrorStatus = 503
    rate_limit_next: Count = 0
    retry_after_s: Count = 1
    hang_next: Count = 0
    hang_s: NonNegative = 30
    down_for_s: NonNegative = 0
    paths: list[str] | None = None
    partner_error_rate: Rate = 0.0
    partner_error_name: str = "odoo.exceptions.ConcurrencyError"
    reject_bookings: Count = 0
    customs: CustomsFaults = Field(default_factory=CustomsFaults)
    webhooks: WebhookFaults = Field(default_factory=WebhookFaults)


class FaultState:
    """The faults in force on one simulator, what is left of the "next N" ones, and counters."""

    def __init__(
        self,
        partner: str,
        faults: Faults | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.partner = partner
        self._clock = clock
        self.closing = asyncio.Event()
        """Set when the app shuts down: hangs and latencies end at once."""
        self.replace(faults or Faults())

    # -- configuration ------------------------------------------------------------------
    def replace(self, faults: Faults) -> None:
        """Put ``faults`` in force from now on: fresh counts, RNGs, outage window, counters."""
        self.faults = faults.model_copy(deep=True)
        self._down_until = self._clock() + faults.down_for_s
        self._requests_rng = random.Random(f"{faults.seed}:requests")
        self._partner_rng = random.Random(f"{faults.seed}:partner")
        self._webhooks_rng = random.Random(f"{faults.seed}:webhooks")
        self.injected = dict.fromkeys(COUNTERS, 0)

    def clear(self) -> None:
        """No faults at all (counters reset too)."""
        self.replace(Faults())

    def view(self) -> dict[str, Any]:
        """The faults as now in force (remaining counts and outage seconds) plus ``injected``."""
        data = self.faults.model_dump(mode="json")
        data["down_for_s"] = round(self.down_remaining(), 3)
        data["injected"] = dict(self.injected)
        return data

    # -- queries used by the middleware and the partners --------------------------------
    def applies(self, path: str) -> bool:
        """Whether request faults apply to ``path`` (never to ``/_sim/…``)."""
        if path.startswith(SIM_PREFIX):
            return False
        paths = self.faults.paths
        return paths is None or any(path.startswith(prefix) for prefix in paths)

    def down_remaining(self) -> float:
        """Seconds left in the ``down_for_s`` outage (0 when up)."""
        return max(0.0, self._down_until - self._clock())

    def count(self, counter: str) -> None:
        """Record one injection."""
        self.injected[counter] += 1

    def take(self, name: str) -> bool:
        """Consume one of the "next N" fault ``name`` (``fail_next``, ``reject_bookings``…)."""
        left = getattr(self.faults, name)
        if left <= 0:
            return False
        setattr(self.faults, name, left - 1)
        return True

    def take_customs(self) -> str | None:
        """``"hold"`` or ``"reject"`` for the next declaration filed, else ``None``."""
        customs = self.faults.customs
        if customs.hold_next > 0:
            customs.hold_next -= 1
            self.count("customs_hold")
            return "hold"
        if customs.reject_next > 0:
            customs.reject_next -= 1
            self.count("customs_reject")
            return "reject"
        return None

    def draw_error(self) -> bool:
        """Whether this request fails by ``error_rate`` (one draw per request when set)."""
        rate = self.faults.error_rate
        return rate > 0 and self._requests_rng.random() < rate

    def draw_partner_error(self, path: str) -> str | None:
        """The exception name to fail this Odoo call with, or ``None``."""
        rate = self.faults.partner_error_rate
        if rate <= 0 or not self.applies(path) or self._partner_rng.random() >= rate:
            return None
        self.count("partner_error")
        return self.faults.partner_error_name

    def draw_webhook(self) -> tuple[bool, bool]:
        """``(drop, duplicate)`` for the next outbound webhook (two draws, always)."""
        hooks = self.faults.webhooks
        drop = self._webhooks_rng.random() < hooks.drop_rate
        duplicate = self._webhooks_rng.random() < hooks.duplicate_rate
        return drop, duplicate and not drop

    async def pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less if the simulator shuts down meanwhile."""
        if seconds <= 0 or self.closing.is_set():
            return
        try:
            await asyncio.wait_for(self.closing.wait(), timeout=seconds)
        except TimeoutError:
            pass
