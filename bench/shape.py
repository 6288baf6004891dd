"""A workflow's shape, read from its recorded history: what :class:`ShapedWorkflow` repeats.

:func:`shape_of` fetches a closed workflow's history and, recursively, its children's
(``ChildWorkflowExecutionStarted`` events), and counts events by kind into a :class:`Shape`.
Nothing about the shipment workflow is assumed: the shape follows whatever the workflow
records. Signals a child receives are taken to come from its parent and the signals a child
sends to go to its parent; every other signal a workflow receives came from outside (the API).
"""

from collections import Counter
from typing import Any

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

from bench.bare_workflows import Shape

LOCAL_ACTIVITY_MARKER = "core_local_activity"
PATCH_MARKER = "core_patch"
E = EventType


async def shape_of(client: Client, workflow_id: str) -> Shape:
    """The shape of ``workflow_id``'s latest run and of its children, depth first."""
    events = (await client.get_workflow_handle(workflow_id).fetch_history()).events
    kinds = Counter(event.event_type for event in events)
    markers = Counter(
        e.marker_recorded_event_attributes.marker_name
        for e in events
        if e.event_type == E.EVENT_TYPE_MARKER_RECORDED
    )
    signalled = [
        e.workflow_execution_signaled_event_attributes
        for e in events
        if e.event_type == E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED
    ]
    children = [
        await shape_of(client, e.child_workflow_execution_started_event_attributes
                       .workflow_execution.workflow_id)
        for e in events
        if e.event_type == E.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED
    ]  # fmt: skip
    for child in children:
        child.signals_from_parent, child.client_signals = child.client_signals, 0
    has_parent = _has_parent(events[0]) if events else False
    timers = kinds[E.EVENT_TYPE_TIMER_STARTED]
    cancelled = kinds[E.EVENT_TYPE_TIMER_CANCELED]
    from_children = sum(child.signals_to_parent for child in children)
    return Shape(
        activities=kinds[E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED],
        local_activities=markers[LOCAL_ACTIVITY_MARKER],
        patches=markers[PATCH_MARKER],
        timers_fired=timers - cancelled,
        timers_cancelled=cancelled,
        upserts=kinds[E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES],
        updates=kinds[E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED],
        client_signals=max(0, len(signalled) - from_children),
        signals_to_parent=(
            kinds[E.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED] if has_parent else 0
        ),
        signal_bytes=(
            round(sum(s.input.ByteSize() for s in signalled) / len(signalled)) if signalled else 0
        ),
        events=len(events),
        workflow_tasks=kinds[E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED],
        children=children,
    )


def _has_parent(first: HistoryEvent) -> bool:
    started = first.workflow_execution_started_event_attributes
    return bool(started.parent_workflow_execution.workflow_id)


def total_events(shape: Shape) -> int:
    """Events of the workflow and of all its children."""
    return shape.events + sum(total_events(child) for child in shape.children)


def total_tasks(shape: Shape) -> int:
    """Workflow tasks completed by the workflow and all its children."""
    return shape.workflow_tasks + sum(total_tasks(child) for child in shape.children)


def describe(shape: Shape) -> dict[str, Any]:
    """The shape as JSON (the results file keeps it beside the ratio it explains)."""
    fields = {k: v for k, v in vars(shape).items() if k != "children"}
    return {**fields, "children": [describe(child) for child in shape.children]}
