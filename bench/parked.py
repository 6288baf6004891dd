"""Benchmark 6: real shipments parked in delivery, as most live shipments are, and what the
worker's memory and the workflow cache cost.

The carrier simulator is told to drop its webhooks (``webhooks.drop_rate`` 1), so no delivery
ever comes: ``BENCH_PARKED_N`` (default 2,000) shipments are started through the API and each
parks in stage ``delivery``, waiting on its SLA timers. They are parked in two halves; after
each, once the worker is idle, the worker's and the Temporal dev server's resident memory is
read: ``worker_rss_mib_per_1k`` is the slope between the half and the whole (the first half's
slope, from before any, is beside it). With the default cache
(``max_cached_workflows``), workflows beyond the cache are evicted and cost no memory but a
replay; the price of a miss is measured too: the cost of a query on one cached shipment,
then the worker is restarted (``borderflow up`` starts it again) and ``BENCH_PARKED_REPLAYS``
shipments are queried once each, every one a replay of its whole history;
``cache_miss_cpu_ms_per_shipment`` is the worker CPU per replayed query minus a cached one's.
This benchmark leaves its shipments live: run it last.
"""

import asyncio
import time
from typing import Any

import httpx

from bench.platform import Platform, cpu_seconds, restart_worker, rss_mb
from bench.stats import BenchResult, env_int
from cli.demo import DEMO_PACKAGE, create_demo_order
from workers.settings import WorkerTuning

PARKED = "WorkflowType = 'ShipmentWorkflow' AND ExecutionStatus = 'Running' " \
         "AND ShipmentStatus = 'delivery'"  # fmt: skip
IDLE_CPU_SHARE = 0.05
"""The worker counts as idle once it uses less than this share of a core over a second."""


async def _gather(concurrency: int, jobs: list[Any]) -> list[Any]:
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Any) -> Any:
        async with gate:
            return await job

    return await asyncio.gather(*(one(job) for job in jobs))


async def _park(platform: Platform, api: httpx.AsyncClient, first: int, count: int,
                concurrency: int) -> dict[str, float]:  # fmt: skip
    """``count`` more shipments parked in delivery; seconds spent on each phase."""
    client = platform.temporal
    before = (await client.count_workflows(PARKED)).count
    began = time.monotonic()
    odoo = platform.odoo()
    try:
        orders = await _gather(concurrency, [create_demo_order(odoo, 5000 + first + i)
                                             for i in range(count)])  # fmt: skip
    finally:
        await odoo.aclose()
    ordered = time.monotonic()

    async def start(order_ref: str) -> None:
        response = await api.post(
            "/v1/shipments", json={"order_ref": order_ref, "packages": [DEMO_PACKAGE]}
        )
        if response.status_code != 201:
            raise RuntimeError(f"{order_ref}: HTTP {response.status_code} {response.text[:200]}")

    await _gather(concurrency, [start(order) for order in orders])
    started = time.monotonic()
    deadline = started + max(120.0, count / 2)
    while (await client.count_workflows(PARKED)).count < before + count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"fewer than {count} new shipments reached delivery in time")
        await asyncio.sleep(1.0)
    parked = time.monotonic()
    await _idle(platform)
    return {"orders_s": ordered - began, "starts_s": started - ordered,
            "to_delivery_s": parked - started, "total_s": time.monotonic() - began}  # fmt: skip


async def _idle(platform: Platform, timeout_s: float = 60.0) -> None:
    """Wait until the worker has (almost) nothing left to do."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pid = platform.worker_pid()
        if pid is None:
            return
        used = cpu_seconds(pid)
        await asyncio.sleep(1.0)
        if cpu_seconds(pid) - used < IDLE_CPU_SHARE:
            return


def _memory(platform: Platform) -> dict[str, float]:
    worker, server = platform.worker_pid(), platform.server_pid()
    return {"worker_mib": round(rss_mb(worker), 1) if worker else 0.0,
            "server_mib": round(rss_mb(server), 1) if server else 0.0}  # fmt: skip


async def _query_cpu_ms(platform: Platform, ids: list[str], concurrency: int) -> dict[str, float]:
    """Worker CPU and wall time per ``status`` query of each of ``ids``."""
    pid = platform.worker_pid()
    assert pid is not None
    used, began = cpu_seconds(pid), time.monotonic()
    client = platform.temporal
    await _gather(concurrency, [client.get_workflow_handle(i).query("status") for i in ids])
    wall = time.monotonic() - began
    return {"cpu_ms": round(1000 * (cpu_seconds(pid) - used) / len(ids), 2),
            "wall_ms": round(1000 * wall / len(ids), 2), "queries": len(ids)}  # fmt: skip


async def _cache_miss(platform: Platform, ids: list[str], replays: int) -> dict[str, Any]:
    cached = await _query_cpu_ms(platform, [ids[-1]] * 50, 1)
    await restart_worker(platform)
    await _query_cpu_ms(platform, [ids[0]], 1)  # the new worker's first task loads its code
    replayed = await _query_cpu_ms(platform, ids[1 : 1 + replays], 8)
    return {
        "cached_query": cached,
        "replayed_query": replayed,
        "cache_miss_cpu_ms_per_shipment": round(replayed["cpu_ms"] - cached["cpu_ms"], 2),
        "worker_after_replays": _memory(platform),
    }


async def run(platform: Platform) -> BenchResult:
    n = env_int("BENCH_PARKED_N", 2000)
    concurrency = env_int("BENCH_PARKED_CONCURRENCY", 16)
    replays = min(n - 1, env_int("BENCH_PARKED_REPLAYS", 200))
    half = n // 2
    cache = WorkerTuning().max_cached_workflows
    carrier = platform.sim_url("easypost")
    async with httpx.AsyncClient(base_url=carrier, timeout=10.0) as sim:
        (await sim.post("/_sim/faults", json={"webhooks": {"drop_rate": 1.0}})).raise_for_status()
    await _idle(platform)
    memory = [_memory(platform)]
    phases = []
    async with httpx.AsyncClient(
        base_url=platform.url("api"), headers=platform.api_headers, timeout=120.0,
        limits=httpx.Limits(max_connections=concurrency),
    ) as api:  # fmt: skip
        for first, count in ((0, half), (half, n - half)):
            phases.append(await _park(platform, api, first, count, concurrency))
            memory.append(_memory(platform))
    ids = [w.id async for w in platform.temporal.list_workflows(PARKED)][:n]
    miss = await _cache_miss(platform, list(reversed(ids)), replays)
    async with httpx.AsyncClient(base_url=carrier, timeout=10.0) as sim:
        await sim.delete("/_sim/faults")
    return _result(n, cache, memory, phases, miss)


def _slope(low: dict[str, float], high: dict[str, float], key: str, count: int) -> float:
    return round((high[key] - low[key]) / count * 1000, 1) if count else 0.0


def _result(n: int, cache: int, memory: list[dict[str, float]], phases: list[dict[str, float]],
            miss: dict[str, Any]) -> BenchResult:  # fmt: skip
    half = n // 2
    slope = _slope(memory[1], memory[2], "worker_mib", n - half)
    first = _slope(memory[0], memory[1], "worker_mib", half)
    server = _slope(memory[0], memory[2], "server_mib", n)
    park_s = sum(p["total_s"] for p in phases)
    notes = [f"{n} shipments > max_cached_workflows {cache}: the second half's slope counts "
             "evictions, not only live workflows"] if n > cache else []  # fmt: skip
    metrics = {
        "n": n,
        "worker_rss_mib_per_1k": slope,
        "worker_rss_mib_per_1k_first_half": first,
        "server_rss_mib_per_1k": server,
        "rss_mib": {"before": memory[0], "half": memory[1], "all": memory[2]},
        "cache_miss_cpu_ms_per_shipment": miss["cache_miss_cpu_ms_per_shipment"],
        "cache": miss,
        "max_cached_workflows": cache,
        "park_s": round(park_s, 1),
        "phases_s": [{k: round(v, 1) for k, v in p.items()} for p in phases],
        "goal_worker_rss_mib_per_1k_max": 120,
    }
    return BenchResult(
        "parked",
        {"n": n, "max_cached_workflows": cache},
        metrics,
        [
            (f"{n} shipments parked in delivery", f"in {park_s:.0f} s"),
            ("worker RSS before / N/2 / N", " / ".join(f"{m['worker_mib']:.0f}" for m in memory)
             + " MiB"),
            ("worker MiB per 1,000 (N/2→N; 0→N/2)", f"{slope:.1f}; {first:.1f} (goal <= 120)"),
            ("server RSS before / N/2 / N", " / ".join(f"{m['server_mib']:.0f}" for m in memory)
             + f" MiB ({server:.1f} per 1,000)"),
            ("worker CPU per query cached / replayed", f"{miss['cached_query']['cpu_ms']:.1f} / "
             f"{miss['replayed_query']['cpu_ms']:.1f} ms"),
            ("cache miss CPU per shipment", f"{miss['cache_miss_cpu_ms_per_shipment']:.1f} ms"),
        ],
        notes,
    )  # fmt: skip
