"""The bare workflows each benchmark compares against, and their one no-op activity.

A module of their own, importing only Temporal, so the workflow sandbox has nothing else to
load (the worker that runs them, ``bench/bare.py``, imports our settings and client).
"""

from datetime import UTC, datetime, timedelta

from temporalio import activity, workflow

TASK_QUEUE = "bench-bare"
NO_OP_ACTIVITIES = 5


@activity.defn
async def no_op(step: int) -> int:
    """Does nothing: the cost measured is Temporal's scheduling of an activity."""
    return step


@workflow.defn
class BareWorkflow:
    """Five no-op activities in a row: a shipment's skeleton without its work."""

    @workflow.run
    async def run(self) -> int:
        for step in range(NO_OP_ACTIVITIES):
            await workflow.execute_activity(
                no_op, step, start_to_close_timeout=timedelta(seconds=30)
            )
        return NO_OP_ACTIVITIES


@workflow.defn
class EmptyWorkflow:
    """Returns at once: the server's ceiling for a workflow's start and completion."""

    @workflow.run
    async def run(self) -> None:
        return None


@workflow.defn
class TimerWorkflow:
    """Sleeps until ``fire_at`` (epoch seconds) and returns how late it woke, in ms.

    The lateness is seen from the workflow: ``workflow.now()`` is when the worker started the
    task that follows the timer, so it includes the server firing the timer and the worker
    picking the task up, which is what an SLA escalation waits for.
    """

    @workflow.run
    async def run(self, fire_at: float) -> float:
        delay = fire_at - workflow.now().timestamp()
        if delay > 0:
            await workflow.sleep(delay)
        woke = workflow.now()
        return (woke - datetime.fromtimestamp(fire_at, UTC)).total_seconds() * 1000
