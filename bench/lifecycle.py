"""Benchmark 1: whole shipments against a bare workflow of the same shape (and of five steps).

First one real shipment is run and its history (with its children's) is read into a
:class:`Shape` (``bench/shape.py``): its event count is ``events_per_shipment``. Then, in
alternating windows of ``BENCH_LIFECYCLE_N`` each (equal batch sizes), ``BENCH_LIFECYCLE_PAIRS``
times:

A: shipments started at once through our API (``POST /v1/shipments``, update-with-start) and
followed to their end (``invoiced``) on the real worker, the simulators' stories instant (tiny
``BORDERFLOW_SIM_TIME_SCALE``, state files in tmpfs: see ``bench/platform.py``);
B: :class:`ShapedWorkflow` runs of that shape on the bare worker, started with update-with-start
when the shipment was, each sent its client signals one by one as the API sends a webhook's;
C: ``BENCH_LIFECYCLE_BARE_N`` five-activity :class:`BareWorkflow` runs (the older ``ratio``).

``ratio_same_shape`` = A/s ÷ B/s (median of the pairs). Each window is one batch, first start
to last completion; the Odoo orders are created before the windows (the sales team's work).
The CPU each process used per shipment / per bare run is reported beside the rates.
"""

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from temporalio.client import Client, WithStartWorkflowOperation
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
)

from bench.bare_workflows import STATUS, TASK_QUEUE, BareWorkflow, Shape, ShapedWorkflow
from bench.platform import Platform
from bench.shape import describe, shape_of, total_events, total_tasks
from bench.stats import BenchResult, Comparison, Window, env_int, percentiles_ms
from cli.demo import DEMO_PACKAGE, create_demo_order

ORDER_REF = SearchAttributeKey.for_keyword("OrderRef")
PAYLOAD_OVERHEAD = 40
"""Bytes of a signal's recorded payload that are metadata, not the JSON string itself."""


async def _shipment(platform: Platform, api: httpx.AsyncClient, order_ref: str) -> str:
    """Start one shipment and wait for its end; its id, or raise with what went wrong."""
    response = await api.post(
        "/v1/shipments", json={"order_ref": order_ref, "packages": [DEMO_PACKAGE]}
    )
    if response.status_code not in (200, 201):
        raise RuntimeError(f"{order_ref}: HTTP {response.status_code} {response.text[:200]}")
    shipment_id: str = response.json()["shipment_id"]
    result: dict[str, Any] = await platform.temporal.get_workflow_handle(shipment_id).result()
    if result["stage"] != "invoiced":
        raise RuntimeError(f"{shipment_id} ended {result['stage']}")
    return shipment_id


async def _batch(n: int, one: Callable[[int], Awaitable[object]]) -> Window:
    """``n`` operations at once; the window from the first start to the last completion."""
    window = Window(0, 0.0)
    started = time.monotonic()

    async def timed(i: int) -> None:
        began = time.monotonic()
        try:
            await one(i)
        except Exception:
            window.errors += 1
            return
        window.count += 1
        window.latencies_s.append(time.monotonic() - began)

    await asyncio.gather(*(timed(i) for i in range(n)))
    window.seconds = time.monotonic() - started
    return window


async def run_shaped(client: Client, shape: Shape, workflow_id: str) -> None:
    """One :class:`ShapedWorkflow`: started as the API starts a shipment, signalled as the API
    signals it (one client signal per webhook, in turn), then followed to its end."""
    start = WithStartWorkflowOperation(
        ShapedWorkflow.run, shape, id=workflow_id, task_queue=TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        search_attributes=TypedSearchAttributes([
            SearchAttributePair(ORDER_REF, workflow_id), SearchAttributePair(STATUS, "accept")]),
    )  # fmt: skip
    if shape.updates:
        await client.execute_update_with_start_workflow(
            ShapedWorkflow.accept, start_workflow_operation=start
        )
        handle = await start.workflow_handle()
    else:
        handle = await client.start_workflow(
            ShapedWorkflow.run, shape, id=workflow_id, task_queue=TASK_QUEUE
        )
    payload = "s" * max(1, shape.signal_bytes - PAYLOAD_OVERHEAD)
    for _ in range(shape.client_signals):
        await handle.signal(ShapedWorkflow.event, payload)
    for _ in range(shape.updates - 1):
        await handle.execute_update(ShapedWorkflow.touch)
    await handle.result()


class CpuTally:
    """CPU seconds each platform process used during the windows of one side."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.seconds: dict[str, float] = {}
        self.operations = 0

    def wrap(self, side: Callable[[], Awaitable[Window]]) -> Callable[[], Awaitable[Window]]:
        async def measured() -> Window:
            before = self.platform.cpu_seconds()
            window = await side()
            for name, value in self.platform.cpu_seconds().items():
                self.seconds[name] = self.seconds.get(name, 0.0) + value - before.get(name, 0.0)
            self.operations += window.count
            return window

        return measured

    def per_operation_ms(self) -> dict[str, float]:
        ops = max(1, self.operations)
        return {name: round(1000 * s / ops, 1) for name, s in self.seconds.items()}


async def run(platform: Platform) -> BenchResult:
    n = env_int("BENCH_LIFECYCLE_N", 20)
    bare_n = env_int("BENCH_LIFECYCLE_BARE_N", 100)
    pairs = env_int("BENCH_LIFECYCLE_PAIRS", 3)
    client = platform.temporal
    odoo = platform.odoo()
    try:
        orders = [await create_demo_order(odoo, i) for i in range(n * pairs + 1)]
    finally:
        await odoo.aclose()
    batches = iter([orders[1 + i * n : 1 + (i + 1) * n] for i in range(pairs)])
    tag = uuid.uuid4().hex[:8]
    tallies = {side: CpuTally(platform) for side in ("shipment", "shaped", "five")}
    async with httpx.AsyncClient(
        base_url=platform.url("api"), headers=platform.api_headers, timeout=120.0,
        limits=httpx.Limits(max_connections=max(n, 10)),
    ) as api:  # fmt: skip
        shape = await shape_of(client, await _shipment(platform, api, orders[0]))
        await run_shaped(client, shape, f"bench-shaped-{tag}-probe")
        bare_shape = await shape_of(client, f"bench-shaped-{tag}-probe")

        async def shipments() -> Window:
            batch = next(batches)
            return await _batch(n, lambda i: _shipment(platform, api, batch[i]))

        async def shaped() -> Window:
            w = uuid.uuid4().hex[:8]
            return await _batch(n, lambda i: run_shaped(client, shape, f"bench-shaped-{w}-{i}"))

        async def five() -> Window:
            w = uuid.uuid4().hex[:8]
            return await _batch(bare_n, lambda i: client.execute_workflow(
                BareWorkflow.run, id=f"bench-bare-{w}-{i}", task_queue=TASK_QUEUE))  # fmt: skip

        sides = [tallies[name].wrap(f) for name, f in
                 (("shipment", shipments), ("shaped", shaped), ("five", five))]  # fmt: skip
        windows: list[list[Window]] = [[], [], []]
        for _ in range(pairs):
            for side, found in zip(sides, windows, strict=True):
                found.append(await side())
    same = Comparison(windows[0], windows[1])
    old = Comparison(windows[0], windows[2])
    return _result(n, bare_n, pairs, shape, bare_shape, same, old, tallies)


def _result(
    n: int, bare_n: int, pairs: int, shape: Shape, bare_shape: Shape,
    same: Comparison, old: Comparison, tallies: dict[str, CpuTally],
) -> BenchResult:  # fmt: skip
    sides = {"shipment": same.a, "shaped": same.b, "five": old.b}
    lat = {k: percentiles_ms([s for w in ws for s in w.latencies_s]) for k, ws in sides.items()}
    events, bare_events = total_events(shape), total_events(bare_shape)
    metrics = {
        "ratio_same_shape": round(same.ratio, 4),
        "events_per_shipment": events,
        "bare_events_per_run": bare_events,
        "workflow_tasks_per_shipment": total_tasks(shape),
        "bare_workflow_tasks_per_run": total_tasks(bare_shape),
        "same_shape": same.summary("shipments", "shaped"),
        **old.summary("shipments", "bare"),
        "shipment_latency": lat["shipment"],
        "shaped_latency": lat["shaped"],
        "bare_latency": lat["five"],
        "cpu_ms_per_shipment": tallies["shipment"].per_operation_ms(),
        "cpu_ms_per_shaped_run": tallies["shaped"].per_operation_ms(),
        "shape": describe(shape),
        "goals": {"ratio_same_shape_min": 0.7, "events_per_shipment_max": 120},
    }
    cpu = tallies["shipment"].per_operation_ms()
    notes = []
    if abs(events - bare_events) > max(5, events // 20):
        notes.append(f"the bare run recorded {bare_events} events, the shipment {events}: "
                     "the shapes differ by more than 5 %")  # fmt: skip
    return BenchResult(
        "lifecycle",
        {"shipments_per_window": n, "shaped_per_window": n, "bare_per_window": bare_n,
         "pairs": pairs},
        metrics,
        [
            ("events per shipment (bare same-shape)", f"{events} ({bare_events}); "
             f"workflow tasks {total_tasks(shape)} ({total_tasks(bare_shape)})"),
            ("shipments completed/s", f"{same.a_rate:.2f} "
                                      f"(p50 {lat['shipment']['p50_ms']:.0f} ms)"),
            ("same-shape bare workflows/s", f"{same.b_rate:.2f} "
                                            f"(p50 {lat['shaped']['p50_ms']:.0f} ms)"),
            ("ratio shipment/same-shape (goal >= 0.7)", f"{same.ratio:.4f}"),
            ("bare 5-activity workflows/s", f"{old.b_rate:.1f} "
                                            f"(p50 {lat['five']['p50_ms']:.0f} ms)"),
            ("ratio shipment/5-activity", f"{old.ratio:.4f}"),
            ("CPU ms per shipment", ", ".join(f"{k} {v:.0f}" for k, v in cpu.items())),
            ("errors", f"{same.summary('a', 'b')['errors'] + sum(w.errors for w in old.b)}"),
        ],
        notes,
    )  # fmt: skip
