"""A shipment that receives thousands of milestones continues as new and loses nothing.

Runs on the real dev server (the time-skipping server does not suggest continue-as-new), told
to suggest it after 1,000 history events so the test stays quick.
"""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from stand_ins import StandInActivities, event, start, until
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from canonical.milestones import Milestone, ProofOfDelivery
from canonical.shipment import Stage
from workflows.client import register_search_attributes
from workflows.models import ShipmentInput, ShipmentStatus
from workflows.shipment import KEEP_EVENTS, ShipmentWorkflow

MILESTONES = 5_000
SUGGEST_EARLY = ["--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=1000"]


@pytest.fixture(scope="module")
async def dev_env(temporal_cli: str) -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=temporal_cli,
        data_converter=pydantic_data_converter,
        dev_server_extra_args=SUGGEST_EARLY,
    ) as env:
        await register_search_attributes(env.client)
        yield env


async def test_thousands_of_milestones_continue_as_new_with_nothing_lost(
    dev_env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(dev_env.client):
        handle = await start(dev_env.client, "S30001")
        first_run = (await handle.describe()).run_id
        await until(handle, lambda s: s.stage is Stage.CUSTOMS)
        await handle.signal(ShipmentWorkflow.event, event(
            Milestone.CUSTOMS_RELEASED, "rel", partner="broker"))  # fmt: skip
        await until(handle, lambda s: s.stage is Stage.DELIVERY)
        scans = [
            event(Milestone.IN_TRANSIT, f"scan-{n}", at=event(Milestone.IN_TRANSIT, "x").occurred_at
                  + timedelta(minutes=n))
            for n in range(MILESTONES)
        ]  # fmt: skip
        gate = asyncio.Semaphore(32)

        async def send(scan: object) -> None:
            async with gate:
                await handle.signal(ShipmentWorkflow.event, scan)

        await asyncio.gather(*(send(scan) for scan in scans))
        await asyncio.gather(*(send(scan) for scan in scans[:100]))  # redeliveries: ignored
        latest = dev_env.client.get_workflow_handle_for(ShipmentWorkflow.run, handle.id)
        await until(latest, lambda s: s.earlier_events + len(s.events) >= MILESTONES + 1,
                    attempts=240, every_s=0.5)  # fmt: skip
        await latest.signal(
            ShipmentWorkflow.event,
            event(
                Milestone.DELIVERED, "d-1", proof_of_delivery=ProofOfDelivery(signed_by="J. SMITH")
            ),
        )
        result: ShipmentStatus = await latest.result()
        last_run = (await latest.describe()).run_id
    assert last_run != first_run  # it continued as new at least once
    assert result.stage is Stage.INVOICED
    assert result.earlier_events + len(result.events) == MILESTONES + 2  # release + scans + POD
    carried = await events_carried_into_each_run(dev_env.client, handle.id, last_run)
    assert carried[0] == 0 and len(carried) >= 2  # the chain reaches back to the first run
    assert all(n <= KEEP_EVENTS for n in carried[1:])  # bounded state across every CAN
    assert stand_ins.calls["release_invoice"] == 1 and stand_ins.calls["book_carrier"] == 1
    assert [s.stage for s in result.stages] == [
        Stage.ACCEPT,
        Stage.BOOK,
        Stage.CUSTOMS,
        Stage.DELIVERY,
        Stage.INVOICE,
        Stage.INVOICED,
    ]


async def events_carried_into_each_run(
    client: Client, workflow_id: str, last_run: str
) -> list[int]:
    """How many events each run of the chain started with, first run first.

    Read from each run's recorded input (``WorkflowExecutionStarted``), following
    ``continued_execution_run_id`` back from ``last_run``.
    """
    carried: list[int] = []
    run_id = last_run
    while run_id:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        [input] = await client.data_converter.decode(started.input.payloads, [ShipmentInput])
        carried.append(len(input.resume.log.events) if input.resume else 0)
        run_id = started.continued_execution_run_id
    return carried[::-1]
