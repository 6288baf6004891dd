"""How the workflow calls each partner: task queue, timeout and retry policy, per partner.

Every partner has a task queue of its own, served by workers that cap its calls with
``max_task_queue_activities_per_second``: the server enforces that limit across all workers,
so a partner's rate limit holds however far the worker fleet scales out. Every carrier has its
own queue too (:func:`for_carrier`, ``borderflow-carrier-<name>``), so one carrier's outage or
limit never holds up another's bookings; the same carrier activities serve every carrier's
queue (:data:`CARRIER_ACTIVITIES`), each dispatching by the carrier named in its input. The
workflow routes only to carriers its policy says are configured (``ShipmentPolicy.carriers``):
a queue no worker polls would hold a call for ever. Retry policies retry
transient failures without end (with backoff) and never retry business refusals, which the
activities raise as non-retryable errors; the listed types are a second guard. A short
heartbeat timeout (the worker heartbeats for every running attempt) lets a dead worker's
attempt run again within seconds, while ``start_to_close`` still bounds a call that hangs.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

from canonical.partner_descriptor import carrier_task_queue
from canonical.partners import BUILT_IN
from workers.regions import regional_task_queue

REFUSED = [
    "PartnerRejected",
    "PartnerContract",
    "OrderNotFound",
    "OrderNotConfirmable",
    "InvalidOrder",
    "TrackingConflict",
]
ODOO_REFUSED = [
    *REFUSED, "ValidationError", "UserError", "AccessError", "AccessDenied", "MissingError",
    "OdooRequestRefused", "PickingDone",
]  # fmt: skip


@dataclass(frozen=True)
class PartnerCalls:
    """Activity options for one partner."""

    partner: str
    task_queue: str | None
    """``None``: the workflow's own task queue."""
    start_to_close: timedelta
    retry: RetryPolicy
    heartbeat: timedelta | None = timedelta(seconds=10)
    """The worker heartbeats while an attempt runs (``workers.liveness``): when the worker
    dies, the attempt is retried after this long instead of after ``start_to_close``."""

    def activity_config(
        self, summary: str, region: str | None = None, retry: RetryPolicy | None = None
    ) -> workflow.ActivityConfig:
        """Options for one call to this partner: its queue (in ``region`` when given, from the
        workflow's input), timeouts, and its retry policy unless ``retry`` replaces it."""
        config = workflow.ActivityConfig(
            summary=summary,
            start_to_close_timeout=self.start_to_close,
            heartbeat_timeout=self.heartbeat,
            retry_policy=retry or self.retry,
        )
        if self.task_queue is not None:
            config["task_queue"] = regional_task_queue(self.task_queue, region)
        return config


ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")
Activity = Callable[[Any, ArgT], Awaitable[ResultT]]
"""An activity method, referenced typed (``ShipmentActivities.book_carrier``), never by name."""


async def call(
    partner: PartnerCalls, activity: Activity[ArgT, ResultT], arg: ArgT, summary: str,
    region: str | None = None,
) -> ResultT:  # fmt: skip
    """Run one partner activity with that partner's queue, timeouts and retry policy."""
    return await workflow.execute_activity_method(
        activity, arg, **partner.activity_config(summary, region)
    )


async def local(activity: Activity[ArgT, ResultT], arg: ArgT, summary: str) -> ResultT:
    """Run a cheap step of our own as a local activity: no task queue round trip, one marker
    in history. Only for steps whose repetition is harmless (a whole workflow task may run
    again): reading the policy file, writing the tracking link (an upsert)."""
    return await workflow.execute_local_activity_method(
        activity, arg, summary=summary, start_to_close_timeout=LOCAL.start_to_close,
        retry_policy=LOCAL.retry,
    )  # fmt: skip


def _retry(initial_s: float, maximum_s: float, refused: list[str]) -> RetryPolicy:
    return RetryPolicy(
        initial_interval=timedelta(seconds=initial_s),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(seconds=maximum_s),
        non_retryable_error_types=refused,
    )


def _built_in(name: str, start_to_close_s: float, retry: RetryPolicy) -> PartnerCalls:
    """Calls to a built-in partner on its registry queue (the registry's module is pure data;
    only :func:`canonical.partners.partners`, never called here, reads the plugins)."""
    queue = next(p.queue for p in BUILT_IN if p.name == name)
    assert queue is not None, f"{name} has no queue"
    return PartnerCalls(name, queue.name, timedelta(seconds=start_to_close_s), retry)


ODOO = _built_in("odoo", 60, _retry(2, 120, ODOO_REFUSED))
TMS = _built_in("tms", 30, _retry(1, 60, REFUSED))
CARRIER_ACTIVITIES = "carrier"
"""The group of activities every carrier's queue serves (``by_partner()`` key)."""
_CARRIER_RETRY = _retry(1, 60, REFUSED)


def for_carrier(carrier: str) -> PartnerCalls:
    """Calls to one carrier: its own queue (its own rate limit), the carriers' timeouts."""
    return PartnerCalls(carrier, carrier_task_queue(carrier), timedelta(seconds=60), _CARRIER_RETRY)


BROKER = _built_in("broker", 60, _retry(5, 300, REFUSED))
NOTIFY = _built_in("notify", 30, _retry(1, 30, REFUSED))
LOCAL = PartnerCalls("store", None, timedelta(seconds=30), _retry(1, 30, REFUSED))
"""Our own store, on the workflow's task queue."""

PARTNERS = (ODOO, TMS, BROKER, NOTIFY)
"""The partners other than carriers, each on its one queue."""
