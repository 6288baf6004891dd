"""The worker's liveness heartbeats: a dead worker's activities are retried within seconds.

A partner call can take up to its start-to-close timeout (a minute for Odoo and the carriers).
When the worker running it dies (killed, out of memory, its machine lost), Temporal cannot
know: without heartbeats the attempt is retried only once that timeout has passed. The workflow
gives every partner activity a short heartbeat timeout (``workflows.partners``), and this
interceptor heartbeats for each running attempt that has one, every third of it, for as long
as the attempt runs. The first heartbeat comes one interval after the start, not at it: most
calls answer in well under a second and never heartbeat (no RPC for them), while a longer one
is heard from at a third of the timeout (Temporal counts it from the start) and then as often
as the SDK sends heartbeats (it throttles them to one per 80 % of the timeout). So the
heartbeat says "the worker is alive", the start-to-close timeout still bounds a call that
hangs, and a dead worker's attempt times out after the heartbeat timeout and runs again
elsewhere (every activity is safe to repeat).

Only ``async`` activities are heartbeaten here (all of Borderflow's are): the heartbeat task
runs on the worker's event loop, so a loop blocked for longer than the heartbeat timeout also
lets the attempt time out (it is then retried, idempotently).
"""

import asyncio
import contextlib
import inspect
from datetime import timedelta
from typing import Any

from temporalio import activity
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor


def beat_interval(heartbeat_timeout: timedelta) -> float:
    """Seconds between two liveness heartbeats: a third of the timeout (at least 0.1 s)."""
    return max(heartbeat_timeout.total_seconds() / 3, 0.1)


class LivenessInterceptor(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Heartbeating(next)


class _Heartbeating(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        timeout = activity.info().heartbeat_timeout
        if not timeout or not inspect.iscoroutinefunction(input.fn):
            return await super().execute_activity(input)
        beating = asyncio.create_task(_beat(beat_interval(timeout)))
        try:
            return await super().execute_activity(input)
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating


async def _beat(interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)  # first: an attempt shorter than that never heartbeats
        activity.heartbeat()
