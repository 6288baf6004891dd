"""Liveness heartbeats (``workers.liveness``) on the real dev server.

An attempt longer than its heartbeat timeout completes when the worker heartbeats for it, and
times out without: the heartbeat timeout is what lets a dead worker's attempt run again early.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio import activity, workflow
from temporalio.client import WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, TimeoutError, TimeoutType
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Interceptor, Worker

from workers.liveness import LivenessInterceptor, beat_interval

QUEUE = "liveness-test"


@activity.defn
async def slow_partner_call(seconds: float) -> str:
    await asyncio.sleep(seconds)  # a slow partner: no heartbeat of its own
    return "done"


@workflow.defn(sandboxed=False)
class SlowCall:
    @workflow.run
    async def run(self, seconds: float) -> str:
        return str(await workflow.execute_activity(
            slow_partner_call, seconds, start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(maximum_attempts=1),
        ))  # fmt: skip


@pytest.fixture(scope="module")
async def dev_server(temporal_cli: str) -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_cli) as env:
        yield env


async def run_slow_call(env: WorkflowEnvironment, interceptors: list[Interceptor]) -> str:
    async with Worker(env.client, task_queue=QUEUE, workflows=[SlowCall],
                      activities=[slow_partner_call], interceptors=interceptors):  # fmt: skip
        return await env.client.execute_workflow(
            SlowCall.run, 3.0, id=f"liveness-{uuid.uuid4()}", task_queue=QUEUE
        )


async def test_an_attempt_longer_than_its_heartbeat_timeout_completes_while_the_worker_lives(
    dev_server: WorkflowEnvironment,
) -> None:
    assert await run_slow_call(dev_server, [LivenessInterceptor()]) == "done"


async def test_without_liveness_heartbeats_the_same_attempt_times_out(
    dev_server: WorkflowEnvironment,
) -> None:
    with pytest.raises(WorkflowFailureError) as failed:
        await run_slow_call(dev_server, [])
    cause = failed.value.cause
    assert isinstance(cause, ActivityError) and isinstance(cause.cause, TimeoutError)
    assert cause.cause.type is TimeoutType.HEARTBEAT


def test_the_beat_is_a_third_of_the_timeout() -> None:
    assert beat_interval(timedelta(seconds=9)) == 3.0
    assert beat_interval(timedelta(milliseconds=30)) == 0.1
