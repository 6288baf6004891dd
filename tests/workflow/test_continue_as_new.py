"""A shipment that receives 50,000 milestones continues as new, bounded, and loses nothing.

Runs on the real dev server (the time-skipping server does not suggest continue-as-new), told
to suggest it after 1,000 history events or 4 MB. The milestones come as carriers send them:
webhooks of up to 1,000 events, each repeating the last 100 of the one before. What each run
carries is bounded by design (``workflows.progress``), so no workflow task comes near the
SDK's deadlock timeout however many milestones came before: a failed task fails the test.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from stand_ins import StandInActivities, event, send, start, until
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from canonical.milestones import Milestone, ProofOfDelivery
from canonical.shipment import Stage
from workflows.client import register_search_attributes
from workflows.models import EventBatch, ShipmentInput, ShipmentStatus
from workflows.progress import KEEP_EVENTS
from workflows.shipment import ShipmentWorkflow

MILESTONES = 50_000
BATCH = 1_000
REPEATED = 100
"""Events per signal: the most one webhook may carry (``canonical.dialects.normalized``)."""
CARRIED_BYTES_MAX = 1_000_000
"""What one continue-as-new may carry at most: 500 events (~600 B each), the id windows (a few
thousand ids of 36 B) and the rest of the state; independent of how many events came before."""
SUGGEST_EARLY = [
    "--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=1000",
    "--dynamic-config-value", "limit.historySize.suggestContinueAsNew=4000000",
]  # fmt: skip


@pytest.fixture(scope="module")
async def dev_env(temporal_cli: str) -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli,
        data_converter=pydantic_data_converter,
        dev_server_extra_args=SUGGEST_EARLY,
    ) as env:
        await register_search_attributes(env.client)
        yield env


async def test_fifty_thousand_milestones_continue_as_new_bounded_with_nothing_lost(
    dev_env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(dev_env.client):
        handle = await start(dev_env.client, "S30001")
        first_run = (await handle.describe()).run_id
        await until(handle, lambda s: s.stage is Stage.CUSTOMS)
        await send(handle, event(Milestone.CUSTOMS_RELEASED, "rel", partner="broker"))
        await until(handle, lambda s: s.stage is Stage.DELIVERY)
        t0 = event(Milestone.IN_TRANSIT, "x").occurred_at
        scans = [
            event(Milestone.IN_TRANSIT, f"scan-{n}", at=t0 + timedelta(seconds=n))
            for n in range(MILESTONES)
        ]
        fresh = BATCH - REPEATED
        latest = dev_env.client.get_workflow_handle_for(ShipmentWorkflow.run, handle.id)
        for first in range(0, MILESTONES, fresh):
            # Cumulative, as carriers send them: each webhook repeats the last scans it sent;
            # one after the other, as one carrier's webhooks for one shipment come.
            batch = scans[max(0, first - REPEATED) : first + fresh]
            await latest.signal(
                ShipmentWorkflow.events, EventBatch(events=batch, partner="easypost")
            )
            count = min(first + fresh, MILESTONES) + 1
            await until(latest, lambda s: s.earlier_events + len(s.events) >= count,  # noqa: B023
                        attempts=600, every_s=0.05)  # fmt: skip
        await send(
            latest,
            event(
                Milestone.DELIVERED, "d-1", proof_of_delivery=ProofOfDelivery(signed_by="J. SMITH")
            ),
        )
        result: ShipmentStatus = await latest.result()
        last_run = (await latest.describe()).run_id
    assert last_run != first_run  # it continued as new at least once
    assert result.stage is Stage.INVOICED
    assert result.earlier_events + len(result.events) == MILESTONES + 2  # release + scans + POD
    runs = await runs_of(dev_env.client, handle.id, last_run)
    assert len(runs) >= 3 and runs[0].carried_events == 0
    for run in runs[1:]:  # bounded state across every continue-as-new, by design
        assert run.carried_events <= KEEP_EVENTS
        assert run.input_bytes <= CARRIED_BYTES_MAX, run
    print("runs:", runs)
    assert all(run.failed_tasks == 0 for run in runs), runs  # no task hit a deadline
    assert stand_ins.calls["release_invoice"] == 1 and stand_ins.calls["book_carrier"] == 1


@dataclass
class Run:
    carried_events: int
    input_bytes: int
    failed_tasks: int
    slowest_task_ms: float
    """Workflow task started → completed, the slowest of the run (reported, not asserted)."""


async def runs_of(client: Client, workflow_id: str, last_run: str) -> list[Run]:
    """Each run of the chain, first run first: the events its input carried, the input's
    size, and its failed or timed-out workflow tasks. Followed through
    ``continued_execution_run_id`` back from ``last_run``."""
    runs: list[Run] = []
    run_id = last_run
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        [input] = await client.data_converter.decode(started.input.payloads, [ShipmentInput])
        failed = sum(
            1 for e in history.events
            if e.event_type in (EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
                                EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT)
        )  # fmt: skip
        started_at: dict[int, float] = {}
        slowest = 0.0
        for e in history.events:
            moment = e.event_time.ToMicroseconds() / 1000
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
                started_at[e.event_id] = moment
            elif e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                began = started_at.get(e.workflow_task_completed_event_attributes.started_event_id)
                slowest = max(slowest, moment - (began or moment))
        runs.append(Run(
            carried_events=len(input.resume.log.events) if input.resume else 0,
            input_bytes=sum(len(p.data) for p in started.input.payloads), failed_tasks=failed,
            slowest_task_ms=slowest,
        ))  # fmt: skip
        run_id = started.continued_execution_run_id
    return runs[::-1]
