"""Windows, ratios, percentiles and the printed table: what every benchmark shares.

A comparison runs its two sides in alternating windows (A, B, A, B, …) in one run: the load
of a shared machine changes over minutes, and alternating puts each change on both sides, so
the ratio holds even when the absolute numbers drift. The ratio reported is the median of
the per-pair ratios (robust to one disturbed window) beside the ratio of the totals.
"""

import asyncio
import itertools
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass
class Window:
    """One window of one side: how many operations completed in how many seconds."""

    count: int
    seconds: float
    latencies_s: list[float] = field(default_factory=list)
    errors: int = 0

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


Side = Callable[[], Awaitable[Window]]


@dataclass
class Comparison:
    a: list[Window]
    b: list[Window]

    @staticmethod
    def _total_rate(windows: list[Window]) -> float:
        seconds = sum(w.seconds for w in windows)
        return sum(w.count for w in windows) / seconds if seconds else 0.0

    @property
    def a_rate(self) -> float:
        return self._total_rate(self.a)

    @property
    def b_rate(self) -> float:
        return self._total_rate(self.b)

    @property
    def ratios(self) -> list[float]:
        return [a.rate / b.rate if b.rate else 0.0 for a, b in zip(self.a, self.b, strict=True)]

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios) if self.ratios else 0.0

    def summary(self, a_name: str, b_name: str) -> dict[str, Any]:
        return {
            f"{a_name}_per_s": round(self.a_rate, 2),
            f"{b_name}_per_s": round(self.b_rate, 2),
            "ratio": round(self.ratio, 4),
            "ratio_of_totals": round(self.a_rate / self.b_rate, 4) if self.b_rate else 0.0,
            "pair_ratios": [round(r, 4) for r in self.ratios],
            f"{a_name}_window_rates": [round(w.rate, 2) for w in self.a],
            f"{b_name}_window_rates": [round(w.rate, 2) for w in self.b],
            "errors": sum(w.errors for w in (*self.a, *self.b)),
        }


async def alternate(a: Side, b: Side, pairs: int) -> Comparison:
    """Run ``a`` then ``b``, ``pairs`` times."""
    result = Comparison([], [])
    for _ in range(pairs):
        result.a.append(await a())
        result.b.append(await b())
    return result


async def closed_loop(
    operation: Callable[[int], Awaitable[bool]], concurrency: int, seconds: float
) -> Window:
    """``concurrency`` callers repeat ``operation`` (given a sequence number) for ``seconds``;
    an operation answering ``False`` or raising counts as an error, not as done."""
    deadline = time.monotonic() + seconds
    counter = iter(range(1 << 62))
    window = Window(0, 0.0)

    async def caller() -> None:
        while time.monotonic() < deadline:
            began = time.monotonic()
            try:
                ok = await operation(next(counter))
            except Exception:
                ok = False
            if ok:
                window.count += 1
                window.latencies_s.append(time.monotonic() - began)
            else:
                window.errors += 1

    started = time.monotonic()
    await asyncio.gather(*(caller() for _ in range(concurrency)))
    window.seconds = time.monotonic() - started
    return window


async def open_loop(
    operation: Callable[[int], Awaitable[bool]], rate: float, seconds: float
) -> Window:
    """Send at ``rate``/s for ``seconds`` whatever the answers; latency from schedule."""
    window = Window(0, 0.0)
    started = time.monotonic()
    tasks = []

    async def one(i: int, scheduled: float) -> None:
        try:
            ok = await operation(i)
        except Exception:
            ok = False
        if ok:
            window.count += 1
            window.latencies_s.append(time.monotonic() - scheduled)
        else:
            window.errors += 1

    for i in itertools.count():
        scheduled = started + i / rate
        if scheduled - started >= seconds:
            break
        await asyncio.sleep(max(0.0, scheduled - time.monotonic()))
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    window.seconds = time.monotonic() - started
    return window


def percentiles_ms(samples_s: list[float]) -> dict[str, float]:
    """p50/p95/p99/max in milliseconds (nearest rank), empty samples give zeros."""
    if not samples_s:
        return {"p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
    ordered = sorted(samples_s)

    def rank(p: float) -> float:
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
        return round(ordered[index] * 1000, 2)

    return {"p50_ms": rank(50), "p95_ms": rank(95), "p99_ms": rank(99), "max_ms": rank(100)}


def table(title: str, rows: list[tuple[str, str]]) -> str:
    """A two-column table: metric and value."""
    width = max((len(name) for name, _ in rows), default=10)
    lines = [title, "-" * len(title)]
    lines += [f"  {name:<{width}}  {value}" for name, value in rows]
    return "\n".join(lines)


@dataclass
class BenchResult:
    """What one benchmark reports: its parameters, its numbers (JSON) and its table rows."""

    name: str
    params: dict[str, Any]
    metrics: dict[str, Any]
    rows: list[tuple[str, str]]
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"params": self.params, "metrics": self.metrics, "notes": self.notes}
