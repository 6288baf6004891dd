"""The bare side of each comparison: workflows that do nothing but what Temporal must.

``python -m bench.bare <address>`` runs one worker for them on :data:`TASK_QUEUE`, in its own
process (as the real worker is), with the same tuning knobs (:class:`WorkerTuning`), so that
"ours vs bare" compares our code, not two different worker set-ups.
"""

import asyncio
import signal
import sys
from datetime import timedelta

from temporalio.worker import Worker

from bench.bare_workflows import (
    TASK_QUEUE,
    BareWorkflow,
    EmptyWorkflow,
    ShapedWorkflow,
    SinkWorkflow,
    TimerWorkflow,
    no_op,
)
from workers.settings import WorkerTuning
from workflows.client import connect


async def serve(address: str) -> None:
    client = await connect(address, "default")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    worker = Worker(
        client, task_queue=TASK_QUEUE,
        workflows=[BareWorkflow, EmptyWorkflow, ShapedWorkflow, SinkWorkflow, TimerWorkflow],
        activities=[no_op],
        graceful_shutdown_timeout=timedelta(seconds=5),
        **WorkerTuning().worker_options(),  # type: ignore[arg-type]
    )  # fmt: skip
    async with worker:
        print("bare worker ready", flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1]))
