"""The bare workflows each benchmark compares against, and their one no-op activity.

A module of their own, importing only Temporal, so the workflow sandbox has nothing else to
load (the worker that runs them, ``bench/bare.py``, imports our settings and client).

:class:`ShapedWorkflow` is a shipment's skeleton read from a real history (:class:`Shape`,
built by ``bench/shape.py``): the same number of activities, local activities, patch markers,
timers (fired or cancelled), search-attribute upserts, updates, signals and children, each a
no-op, so "real / same-shape bare" measures what our code adds to what Temporal must do for
that history.
"""

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from temporalio import activity, workflow
from temporalio.common import SearchAttributeKey

TASK_QUEUE = "bench-bare"
NO_OP_ACTIVITIES = 5
STATUS = SearchAttributeKey.for_keyword("ShipmentStatus")
"""A keyword attribute ``borderflow up`` registers: the bare upserts write it."""
NO_OP = timedelta(seconds=30)
TIMER_CANCELLED = timedelta(hours=1)
"""A timer started and then cancelled (as SLA timers are when their clock moves)."""


@activity.defn
async def no_op(step: int) -> int:
    """Does nothing: the cost measured is Temporal's scheduling of an activity."""
    return step


@dataclass
class Shape:
    """What one workflow's history holds, by kind; ``children`` are its child workflows.

    Signals: ``client_signals`` come from the bench client (as webhooks come from the API),
    ``signals_from_parent`` from the parent workflow, and ``signals_to_parent`` go to it.
    ``events`` and ``workflow_tasks`` are the real history's, reported beside the bare's.
    """

    activities: int = 0
    local_activities: int = 0
    patches: int = 0
    timers_fired: int = 0
    timers_cancelled: int = 0
    upserts: int = 0
    updates: int = 0
    client_signals: int = 0
    signals_from_parent: int = 0
    signals_to_parent: int = 0
    signal_bytes: int = 0
    events: int = 0
    workflow_tasks: int = 0
    children: list["Shape"] = field(default_factory=list)


def spread(total: int, slots: int) -> list[int]:
    """``total`` split as evenly as possible over ``slots`` (the first ones get the extra)."""
    if slots <= 0:
        return []
    return [total // slots + (1 if i < total % slots else 0) for i in range(slots)]


@workflow.defn
class ShapedWorkflow:
    """Does what ``shape`` counts, nothing else; returns the number of signals it received.

    Order: activities (cancelled timers started before and cancelled after them, upserts
    between them, the first update answered after the first), local activities, patches,
    fired 1 ms timers, children (sent their signals), then the wait for every signal and
    child. The bench client sends ``client_signals`` and the updates after the first.
    """

    def __init__(self) -> None:
        self._signals = 0
        self._accepted = False

    @workflow.run
    async def run(self, shape: Shape) -> int:
        steps = max(1, shape.activities)
        timers = spread(shape.timers_cancelled, steps)
        upserts = spread(shape.upserts, steps)
        for step in range(steps):
            pending = [asyncio.ensure_future(workflow.sleep(TIMER_CANCELLED))
                       for _ in range(timers[step])]  # fmt: skip
            if step < shape.activities:
                await workflow.execute_activity(no_op, step, start_to_close_timeout=NO_OP)
            else:
                await workflow.sleep(0.001)
            self._accepted = True
            for timer in pending:
                timer.cancel()
            for i in range(upserts[step]):
                workflow.upsert_search_attributes([STATUS.value_set(f"bare-{step}-{i}")])
        for step in range(shape.local_activities):
            await workflow.execute_local_activity(no_op, step, start_to_close_timeout=NO_OP)
        for patch in range(shape.patches):
            workflow.patched(f"bench-{patch}")
        for _ in range(shape.timers_fired):
            await workflow.sleep(0.001)
        await self._family(shape)
        return self._signals

    async def _family(self, shape: Shape) -> None:
        """Children first (they signal back), then this workflow's own signals."""
        info = workflow.info()
        children = [
            await workflow.start_child_workflow(
                ShapedWorkflow.run, child, id=f"{info.workflow_id}-child-{i}"
            )
            for i, child in enumerate(shape.children)
        ]
        for handle, child in zip(children, shape.children, strict=True):
            for _ in range(child.signals_from_parent):
                await handle.signal(ShapedWorkflow.event, "p" * max(1, child.signal_bytes))
        if info.parent is not None:
            parent = workflow.get_external_workflow_handle(info.parent.workflow_id)
            for _ in range(shape.signals_to_parent):
                await parent.signal(ShapedWorkflow.event, "c" * 500)
        expected = shape.client_signals + shape.signals_from_parent
        expected += sum(child.signals_to_parent for child in shape.children)
        await workflow.wait_condition(lambda: self._signals >= expected)
        for handle in children:
            await handle
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.signal
    def event(self, payload: str) -> None:
        self._signals += 1

    @workflow.update
    async def accept(self) -> bool:
        """Answered once the first activity is done (the real one: once the order is read)."""
        await workflow.wait_condition(lambda: self._accepted)
        return True

    @workflow.update
    def touch(self) -> bool:
        """The updates after the first (an ops action)."""
        return True


@workflow.defn
class SinkWorkflow:
    """Receives signals until told to stop: the bare receiver of the webhook benchmark."""

    def __init__(self) -> None:
        self._received = 0
        self._stop = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self._stop)
        return self._received

    @workflow.signal
    def events(self, payload: str) -> None:
        self._received += 1

    @workflow.signal
    def stop(self) -> None:
        self._stop = True


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
