"""The Temporal Schedule that runs :class:`ReconciliationWorkflow` every N minutes.

Guarantees of :func:`ensure_schedule` (the worker calls it at start-up, every worker of a fleet
may):
- one schedule, id :data:`SCHEDULE_ID`: creating it when it exists neither fails nor adds one;
- an existing schedule whose interval, overlap policy, task queue or input differ from the
  wanted ones is updated to them (its paused/unpaused state is kept); an identical one is left
  alone;
- overlap policy SKIP: a run never starts while the previous one is still running.

:func:`trigger_now` starts a run at once (``borderflow reconcile run``); it buffers one run
behind a running one instead of skipping, so that the caller always gets a fresh run.
"""

import dataclasses
from datetime import timedelta
from typing import Literal

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleUpdate,
    ScheduleUpdateInput,
)
from temporalio.service import RPCError, RPCStatusCode

from activities.reconcile_models import ReconcileInput
from workflows.models import TASK_QUEUE
from workflows.reconciliation import ReconciliationWorkflow

SCHEDULE_ID = "borderflow-reconciliation"
WORKFLOW_ID = "borderflow-reconciliation"
"""Prefix of the runs' workflow ids (the schedule appends each run's start time)."""
RUN_TIMEOUT = timedelta(hours=1)
Outcome = Literal["created", "updated", "unchanged"]


class ScheduleMissing(Exception):
    """No reconciliation schedule exists yet (no worker has started)."""


def wanted_schedule(every: timedelta, input: ReconcileInput) -> Schedule:
    """The schedule as the settings want it."""
    return Schedule(
        action=ScheduleActionStartWorkflow(
            ReconciliationWorkflow.run,
            input,
            id=WORKFLOW_ID,
            task_queue=TASK_QUEUE,
            execution_timeout=RUN_TIMEOUT,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=every)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
    )


async def _differs(
    client: Client, current: Schedule, every: timedelta, input: ReconcileInput
) -> bool:
    action = current.action
    if not isinstance(action, ScheduleActionStartWorkflow):
        return True
    intervals = [(i.every, i.offset or timedelta(0)) for i in current.spec.intervals]
    if intervals != [(every, timedelta(0))] or current.spec.calendars:
        return True
    if current.policy.overlap != ScheduleOverlapPolicy.SKIP:
        return True
    if (action.workflow, action.task_queue) != ("ReconciliationWorkflow", TASK_QUEUE):
        return True
    if action.execution_timeout != RUN_TIMEOUT:
        return True
    try:
        decoded = await client.data_converter.decode(list(action.args), [ReconcileInput])
    except Exception:  # an input of another shape: replace it
        return True
    return decoded != [input]


async def ensure_schedule(client: Client, every: timedelta, input: ReconcileInput) -> Outcome:
    """Create the schedule, or bring an existing one in line with ``every`` and ``input``."""
    wanted = wanted_schedule(every, input)
    try:
        await client.create_schedule(SCHEDULE_ID, wanted)
        return "created"
    except ScheduleAlreadyRunningError:
        pass
    changed = False

    async def update(existing: ScheduleUpdateInput) -> ScheduleUpdate | None:
        nonlocal changed
        current = existing.description.schedule
        changed = await _differs(client, current, every, input)
        if not changed:
            return None
        return ScheduleUpdate(schedule=dataclasses.replace(wanted, state=current.state))

    await client.get_schedule_handle(SCHEDULE_ID).update(update)
    return "updated" if changed else "unchanged"


async def trigger_now(client: Client) -> None:
    """Start a reconciliation run now (after the running one, if any)."""
    try:
        await client.get_schedule_handle(SCHEDULE_ID).trigger(
            overlap=ScheduleOverlapPolicy.BUFFER_ONE
        )
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise ScheduleMissing(SCHEDULE_ID) from None
        raise
