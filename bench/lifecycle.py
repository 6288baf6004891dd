"""Benchmark 1: whole shipments against a bare workflow of five no-op activities.

A: ``BENCH_LIFECYCLE_N`` shipments started at once through our API (``POST /v1/shipments``,
update-with-start) and followed to their end (``invoiced``) on the real worker, with the
simulators' stories instant (tiny ``BORDERFLOW_SIM_TIME_SCALE``): accept, book, customs
(a child workflow, broker webhooks), delivery (six carrier webhooks), invoice. B:
``BENCH_LIFECYCLE_BARE_N`` :class:`BareWorkflow` runs started at once on the bare worker.
Each window is one batch, first start to last completion; the Odoo orders are created before
the windows (that is the sales team's work, not the shipment's).
"""

import asyncio
import time
import uuid
from typing import Any

import httpx

from bench.bare_workflows import TASK_QUEUE, BareWorkflow
from bench.platform import Platform
from bench.stats import BenchResult, Window, alternate, env_int, percentiles_ms
from cli.demo import DEMO_PACKAGE, create_demo_order


async def _shipments(platform: Platform, api: httpx.AsyncClient, orders: list[str]) -> Window:
    started = time.monotonic()
    window = Window(0, 0.0)

    async def one(order_ref: str) -> None:
        began = time.monotonic()
        response = await api.post(
            "/v1/shipments", json={"order_ref": order_ref, "packages": [DEMO_PACKAGE]}
        )
        if response.status_code not in (200, 201):
            window.errors += 1
            return
        handle = platform.temporal.get_workflow_handle(response.json()["shipment_id"])
        result: dict[str, Any] = await handle.result()
        if result["stage"] == "invoiced":
            window.count += 1
            window.latencies_s.append(time.monotonic() - began)
        else:
            window.errors += 1

    await asyncio.gather(*(one(order) for order in orders))
    window.seconds = time.monotonic() - started
    return window


async def _bare(platform: Platform, n: int) -> Window:
    started = time.monotonic()
    window = Window(0, 0.0)
    batch = uuid.uuid4().hex[:8]

    async def one(i: int) -> None:
        began = time.monotonic()
        await platform.temporal.execute_workflow(
            BareWorkflow.run, id=f"bench-bare-{batch}-{i}", task_queue=TASK_QUEUE
        )
        window.count += 1
        window.latencies_s.append(time.monotonic() - began)

    await asyncio.gather(*(one(i) for i in range(n)))
    window.seconds = time.monotonic() - started
    return window


async def run(platform: Platform) -> BenchResult:
    n = env_int("BENCH_LIFECYCLE_N", 20)
    bare_n = env_int("BENCH_LIFECYCLE_BARE_N", 100)
    pairs = env_int("BENCH_LIFECYCLE_PAIRS", 3)
    odoo = platform.odoo()
    try:
        orders = [await create_demo_order(odoo, i) for i in range(n * pairs)]
    finally:
        await odoo.aclose()
    batches = iter([orders[i * n : (i + 1) * n] for i in range(pairs)])
    async with httpx.AsyncClient(
        base_url=platform.url("api"), headers=platform.api_headers, timeout=120.0,
        limits=httpx.Limits(max_connections=n),
    ) as api:  # fmt: skip
        compared = await alternate(
            lambda: _shipments(platform, api, next(batches)),
            lambda: _bare(platform, bare_n),
            pairs,
        )
    lat_a = percentiles_ms([s for w in compared.a for s in w.latencies_s])
    lat_b = percentiles_ms([s for w in compared.b for s in w.latencies_s])
    metrics = {
        **compared.summary("shipments", "bare"),
        "shipment_latency": lat_a,
        "bare_latency": lat_b,
    }
    return BenchResult(
        "lifecycle",
        {"shipments_per_window": n, "bare_per_window": bare_n, "pairs": pairs},
        metrics,
        [
            ("shipments completed/s", f"{compared.a_rate:.2f} (p50 {lat_a['p50_ms']:.0f} ms)"),
            ("bare 5-activity workflows/s", f"{compared.b_rate:.1f} "
                                            f"(p50 {lat_b['p50_ms']:.0f} ms)"),
            ("ratio shipment/bare", f"{compared.ratio:.4f}"),
            ("errors", str(metrics["errors"])),
        ],
    )  # fmt: skip
