"""The reconciliation schedule on the real Temporal dev server: created once, updated in place."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from temporalio.client import Client, ScheduleActionStartWorkflow, ScheduleOverlapPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from activities.reconcile_models import ReconcileInput
from canonical.shipment import Stage
from workflows.models import TASK_QUEUE
from workflows.reconciliation_schedule import (
    SCHEDULE_ID,
    ScheduleMissing,
    ensure_schedule,
    trigger_now,
)

FIVE_MIN = timedelta(minutes=5)


@pytest.fixture(scope="module")
async def client(temporal_cli: str) -> AsyncIterator[Client]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli, data_converter=pydantic_data_converter
    )
    async with env:
        yield env.client


async def listed(client: Client) -> list[str]:
    """Schedule ids in the (eventually consistent) list, once it shows ours."""
    for _ in range(100):
        ids = [s.id async for s in await client.list_schedules()]
        if SCHEDULE_ID in ids:
            return ids
        await asyncio.sleep(0.1)
    raise AssertionError(f"{SCHEDULE_ID} never listed")


async def test_creating_the_schedule_twice_keeps_one_and_a_new_interval_updates_it(
    client: Client,
) -> None:
    with pytest.raises(ScheduleMissing):
        await trigger_now(client)
    wanted = ReconcileInput()
    assert await ensure_schedule(client, FIVE_MIN, wanted) == "created"
    assert await ensure_schedule(client, FIVE_MIN, wanted) == "unchanged"
    assert (await listed(client)).count(SCHEDULE_ID) == 1

    handle = client.get_schedule_handle(SCHEDULE_ID)
    described = (await handle.describe()).schedule
    assert [i.every for i in described.spec.intervals] == [FIVE_MIN]
    assert described.policy.overlap == ScheduleOverlapPolicy.SKIP
    assert isinstance(described.action, ScheduleActionStartWorkflow)
    assert (described.action.workflow, described.action.task_queue) == (
        "ReconciliationWorkflow",
        TASK_QUEUE,
    )

    await handle.pause(note="maintenance")
    assert await ensure_schedule(client, timedelta(minutes=10), wanted) == "updated"
    described = (await handle.describe()).schedule
    assert [i.every for i in described.spec.intervals] == [timedelta(minutes=10)]
    assert described.state.paused  # an operator's pause survives the update
    assert (await listed(client)).count(SCHEDULE_ID) == 1

    stricter = ReconcileInput(stale_after_min={Stage.DELIVERY: 1.0}, poll_always=[])
    assert await ensure_schedule(client, timedelta(minutes=10), stricter) == "updated"
    action = (await handle.describe()).schedule.action
    assert isinstance(action, ScheduleActionStartWorkflow)
    decoded = await client.data_converter.decode(list(action.args), [ReconcileInput])
    assert decoded == [stricter]
    assert await ensure_schedule(client, timedelta(minutes=10), stricter) == "unchanged"
