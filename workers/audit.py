"""The worker's activity interceptor: every activity attempt goes to the audit trail.

Registered on every worker of the process (``build_workers``), inside Temporal's tracing
interceptor, so each attempt runs within its ``RunActivity`` span. For each attempt it:
- finds the shipment: the input's ``shipment_id`` when it has one (activities of a child
  workflow, such as customs, carry their shipment's id), else the workflow id;
- tags the span with ``borderflow.shipment_id``, ``borderflow.order_ref`` and
  ``borderflow.partner``, and binds the shipment id to every log line of the attempt;
- appends an audit entry: partner (the one the worker serves, given by ``build_workers``: a
  carrier's calls under the carrier's name, calls on the workflow's queue as ``store``),
  operation (the activity type), idempotency key ``<workflow_id>:<activity_type>``, a short
  masked summary of the input, outcome (``ok`` or the error type), latency and trace id.

Guarantee: a successful attempt returns only once its entry is written. If the store cannot
take the entry, the attempt fails with the retryable ``AuditUnavailable`` error and Temporal
runs it again (activities are idempotent), so no completed side effect goes unrecorded. A
failed attempt whose entry cannot be written still fails with its own error (logged).
"""

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

from opentelemetry import trace
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import ActivityInboundInterceptor, ExecuteActivityInput, Interceptor

from observability.logs import bind
from observability.masking import summarize
from observability.tracing import PARTNER, current_trace_id, tag_shipment
from store.audit import record_partner_call

AUDIT_UNAVAILABLE = "AuditUnavailable"
log = logging.getLogger("borderflow.audit")


def error_type(err: BaseException) -> str:
    if isinstance(err, ApplicationError) and err.type:
        return err.type
    if isinstance(err, asyncio.CancelledError):
        return "Cancelled"
    return type(err).__name__


def _abridged(value: Any) -> Any:
    """``value`` without what :func:`summarize` would abridge anyway: a nested mapping is
    ``{…}``, a nested sequence ``[n item(s)]``, before masking, so nested values are never
    masked only to be dropped. The summary is the same as ``summarize(value)``'s."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {key: _nested(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_nested(item) for item in value]
    return value


def _nested(item: Any) -> Any:
    if isinstance(item, BaseModel | Mapping):
        return "{…}"
    if isinstance(item, list | tuple | set | frozenset):
        return f"[{len(item)} item(s)]"
    return item


def _summary(args: Any) -> str:
    return summarize(_abridged(args[0] if len(args) == 1 else list(args)))


def shipment_of(args: Any, workflow_id: str | None) -> str | None:
    """The shipment an activity acts for: its input's ``shipment_id``, else the workflow id."""
    found = getattr(args[0], "shipment_id", None) if len(args) == 1 else None
    return found if isinstance(found, str) and found else workflow_id


class AuditInterceptor(Interceptor):
    """Audits every activity attempt of the workers it is registered on."""

    def __init__(self, store: Engine, partner: str | None = None) -> None:
        """``partner``: the partner the worker serves (``None``: its task queue's name)."""
        self.store = store
        self.partner = partner

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _AuditedActivity(next, self.store, self.partner)


class _AuditedActivity(ActivityInboundInterceptor):
    def __init__(
        self, next: ActivityInboundInterceptor, store: Engine, partner: str | None
    ) -> None:
        super().__init__(next)
        self._store = store
        self._partner = partner

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        info = activity.info()
        partner = self._partner or info.task_queue
        shipment_id = shipment_of(input.args, info.workflow_id)
        span = trace.get_current_span()
        tag_shipment(shipment_id, span)
        span.set_attribute(PARTNER, partner)
        entry = {
            "shipment_id": shipment_id, "partner": partner,
            "operation": info.activity_type, "attempt": info.attempt,
            "idempotency_key": f"{info.workflow_id or info.activity_id}:{info.activity_type}",
            "request_summary": _summary(input.args), "trace_id": current_trace_id(),
        }  # fmt: skip
        started = time.perf_counter()
        try:
            with bind(shipment_id=shipment_id):
                result = await super().execute_activity(input)
        except BaseException as err:
            await self._record(entry, error_type(err), started, failed=True)
            raise
        await self._record(entry, "ok", started, failed=False)
        return result

    async def _record(
        self, entry: dict[str, Any], outcome: str, started: float, *, failed: bool
    ) -> None:
        latency_ms = round((time.perf_counter() - started) * 1000)
        try:
            await asyncio.to_thread(
                record_partner_call, self._store, outcome=outcome, latency_ms=latency_ms, **entry
            )
        except Exception as err:
            log.error("audit entry of %s not written: %s", entry["idempotency_key"], err)
            if not failed:
                raise ApplicationError(
                    f"audit trail unavailable: {type(err).__name__}", type=AUDIT_UNAVAILABLE
                ) from None
