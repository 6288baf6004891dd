"""The liveness interceptor (``workers.liveness``) heartbeats only once an interval has passed.

An attempt runs through the interceptor in Temporal's activity test environment, which counts
every ``activity.heartbeat()``: a call that answers within the interval costs no heartbeat (no
RPC), a longer one is heartbeaten while it runs.
"""

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from temporalio.testing import ActivityEnvironment
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput

from workers.liveness import LivenessInterceptor, beat_interval

HEARTBEAT_TIMEOUT = timedelta(milliseconds=300)  # beats every 0.1 s


class _Call(ActivityInboundInterceptor):
    """The end of the interceptor chain: the activity function itself."""

    def __init__(self) -> None:  # no next interceptor
        pass

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        return await input.fn(*input.args)


async def heartbeats_of(
    fn: Callable[[], Coroutine[Any, Any, str]], heartbeat_timeout: timedelta | None
) -> list[tuple[Any, ...]]:
    """Run ``fn`` as an attempt through the interceptor; the heartbeats it recorded."""
    beats: list[tuple[Any, ...]] = []
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, heartbeat_timeout=heartbeat_timeout)
    env.on_heartbeat = lambda *details: beats.append(details)
    chain = LivenessInterceptor().intercept_activity(_Call())
    call = ExecuteActivityInput(fn=fn, args=[], executor=None, headers={})

    async def attempt() -> str:
        return str(await chain.execute_activity(call))

    assert await env.run(attempt) == "done"
    return beats


async def quick_call() -> str:
    await asyncio.sleep(0)  # a partner's quick answer: the event loop runs meanwhile
    return "done"


async def slow_call() -> str:
    await asyncio.sleep(5 * beat_interval(HEARTBEAT_TIMEOUT))
    return "done"


async def test_an_attempt_that_answers_within_the_interval_never_heartbeats() -> None:
    assert await heartbeats_of(quick_call, HEARTBEAT_TIMEOUT) == []


async def test_an_attempt_longer_than_the_interval_is_heartbeaten_while_it_runs() -> None:
    assert len(await heartbeats_of(slow_call, HEARTBEAT_TIMEOUT)) >= 1


async def test_an_attempt_without_a_heartbeat_timeout_is_never_heartbeaten() -> None:
    assert await heartbeats_of(slow_call, None) == []
