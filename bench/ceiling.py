"""Benchmark 5: the dev server's own ceiling on this machine.

Starts of :class:`EmptyWorkflow` (on a queue no worker polls) from
``BENCH_CEILING_CONCURRENCY`` concurrent callers, then the same workflow started and waited
for on the bare worker (start, one workflow task, completion). Every other result reads as a
fraction of these: nothing built on this server can start workflows faster.
"""

import uuid

from bench.bare_workflows import TASK_QUEUE, EmptyWorkflow
from bench.platform import Platform
from bench.stats import (
    BenchResult,
    Comparison,
    alternate,
    closed_loop,
    env_float,
    env_int,
)

UNPOLLED = "bench-unpolled"


async def run(platform: Platform) -> BenchResult:
    client = platform.temporal
    concurrency = env_int("BENCH_CEILING_CONCURRENCY", 32)
    seconds = env_float("BENCH_CEILING_WINDOW_S", 6.0)
    pairs = env_int("BENCH_CEILING_PAIRS", 2)
    run_id = uuid.uuid4().hex[:8]

    async def start_only(i: int) -> bool:
        # A queue nobody polls: these runs stay open (in the benchmark's throwaway data dir),
        # so no backlog of them slows the windows that follow.
        await client.start_workflow(
            EmptyWorkflow.run, id=f"bench-empty-{run_id}-s{uuid.uuid4().hex}", task_queue=UNPOLLED
        )
        return True

    async def start_and_finish(i: int) -> bool:
        await client.execute_workflow(
            EmptyWorkflow.run, id=f"bench-empty-{run_id}-e{uuid.uuid4().hex}", task_queue=TASK_QUEUE
        )
        return True

    compared: Comparison = await alternate(
        lambda: closed_loop(start_only, concurrency, seconds),
        lambda: closed_loop(start_and_finish, concurrency, seconds),
        pairs,
    )
    metrics = compared.summary("starts", "completed")
    return BenchResult(
        "ceiling",
        {"concurrency": concurrency, "window_s": seconds, "pairs": pairs},
        metrics,
        [
            ("empty workflow starts/s", f"{compared.a_rate:.1f}"),
            ("empty workflows started+completed/s", f"{compared.b_rate:.1f}"),
            ("started+completed / started", f"{1 / compared.ratio:.3f}"),
        ],
    )
