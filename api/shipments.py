"""``/v1/shipments``: start a shipment and read its status."""

import asyncio
from datetime import datetime, timedelta

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.engine import Engine
from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import TOKEN_KEY
from api.problems import PROBLEM_JSON, bad_idempotency_key, problem, validation_problem
from api.unavailable import service_unavailable, unavailable
from canonical.codes import Rfc3339
from canonical.events import (
    EventClassifier,
    EventLocation,
)
from canonical.milestones import Milestone, ProofOfDelivery
from canonical.shipment import Stage, shipment_id_for
from store.idempotency import (
    IdempotencyState,
    StoredResponse,
    finish,
    release,
    request_digest,
    reserve,
    valid_key,
)
from workflows.client import ui_link
from workflows.models import ORDER_REF, SHIPMENT_STATUS, TASK_QUEUE, ShipmentInput, ShipmentStatus
from workflows.ops import ORDER_REJECTED
from workflows.shipment import ShipmentWorkflow

QUERY_TIMEOUT = timedelta(seconds=10)
ACCEPT_TIMEOUT = timedelta(seconds=30)
"""How long POST /v1/shipments waits for the order to be read and confirmed in Odoo."""


class ShipmentRoutes:
    def __init__(self, client: Client, store: Engine, *, namespace: str, ui_url: str) -> None:
        self._client = client
        self._store = store
        self._namespace = namespace
        self._ui_url = ui_url

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/v1/shipments", self.start)
        app.router.add_get("/v1/shipments/{shipment_id}", self.show)
        app.router.add_get("/v1/shipments/{shipment_id}/timeline", self.timeline)

    def _links(self, shipment_id: str) -> dict[str, str]:
        return {
            "status_url": f"/v1/shipments/{shipment_id}",
            "ui_url": ui_link(self._ui_url, self._namespace, shipment_id),
        }

    async def start(self, request: web.Request) -> web.Response:
        """Start the order's shipment; 201 when new, 200 with the same shipment when it exists.

        With an ``Idempotency-Key`` the key is reserved before anything starts
        (``store/idempotency.py``): while its first request runs, a repeat is 409 (with
        ``Retry-After``); once answered, a repeat with the same body gets that answer again
        (``Idempotent-Replayed: true``) and another body is 422. An answer in 5xx, a crash or a
        cancellation frees the key, so a retry may run.
        """
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return await self._start(request)
        if not valid_key(key):
            return bad_idempotency_key()
        scope = request[TOKEN_KEY].id
        digest = request_digest(request.method, request.path, await request.read())
        record, mine = await asyncio.to_thread(
            reserve, self._store, scope=scope, key=key, request_sha256=digest
        )
        if not mine:
            return _repeat(record, key, digest)
        assert record is not None
        try:
            response = await self._start(request)
        except BaseException:  # a crash or a cancellation (the request time limit)
            await asyncio.shield(asyncio.to_thread(release, self._store, record))
            raise
        if response.status >= 500:
            await asyncio.to_thread(release, self._store, record)  # a retry may succeed
            return response
        assert response.text is not None
        await asyncio.to_thread(
            finish, self._store, record, status=response.status, body=response.text
        )
        return response

    async def _start(self, request: web.Request) -> web.Response:
        """Update-with-start: the order is read and confirmed before the answer.

        201 with the accepted shipment when this request started it, 200 when it existed,
        422 with the reason when the order cannot ship (the shipment ends ``rejected``).
        """
        try:
            input = ShipmentInput.model_validate_json(await request.read())
        except ValidationError as err:
            return validation_problem(err)
        if input.resume is not None:
            return problem(422, "Invalid request", "resume: set by the workflow itself only")
        shipment_id = shipment_id_for(input.order_ref)
        start = WithStartWorkflowOperation(
            ShipmentWorkflow.run,
            input,
            id=shipment_id,
            task_queue=TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes(  # from the start: the workflow upserts changes
                [
                    SearchAttributePair(ORDER_REF, input.order_ref),
                    SearchAttributePair(SHIPMENT_STATUS, Stage.ACCEPT.value),
                ]
            ),
            static_summary=f"Shipment of sale order {input.order_ref}",
            static_details=(
                f"Carrier {input.carrier}, {input.service_level.value} service, "
                f"{len(input.packages)} package(s)."
            ),
        )
        try:
            accepted = await self._client.execute_update_with_start_workflow(
                ShipmentWorkflow.accept, start_workflow_operation=start, rpc_timeout=ACCEPT_TIMEOUT
            )
            status, code = accepted.status, 201 if accepted.first else 200
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == ORDER_REJECTED:
                return problem(422, "Order rejected", cause.message)
            raise
        except WorkflowAlreadyStartedError:  # the shipment of this order has ended
            found = await self._status(shipment_id)
            if isinstance(found, web.Response):
                return found
            if found.stage is Stage.REJECTED:
                return problem(422, "Order rejected", found.rejection or "the order cannot ship")
            status, code = found, 200
        except WorkflowUpdateRPCTimeoutOrCancelledError:
            return service_unavailable(
                "Shipment not accepted yet",
                "the order is still being read and confirmed; retry with the same "
                "Idempotency-Key, or read GET /v1/shipments/{id}",
            )
        except RPCError as err:
            not_now = unavailable(err, "Shipment not accepted yet",
                                  "Temporal or the worker did not answer in time; retry with the "
                                  "same Idempotency-Key")  # fmt: skip
            if not_now is None:
                raise
            return not_now
        body = {**status.model_dump(mode="json"), **self._links(shipment_id)}
        return web.json_response(
            body, status=code, headers={"Location": f"/v1/shipments/{shipment_id}"}
        )

    async def _status(self, shipment_id: str) -> ShipmentStatus | web.Response:
        """The shipment's status, or the problem response saying why there is none."""
        handle = self._client.get_workflow_handle(shipment_id)
        try:
            return await handle.query(ShipmentWorkflow.status, rpc_timeout=QUERY_TIMEOUT)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return problem(404, "Unknown shipment", f"no shipment {shipment_id}")
            not_now = unavailable(err, "Shipment status unavailable",
                                  f"no worker answered for {shipment_id} now")  # fmt: skip
            if not_now is None:
                raise
            return not_now
        except WorkflowQueryFailedError as err:
            return problem(502, "Shipment status failed", str(err))

    async def show(self, request: web.Request) -> web.Response:
        shipment_id = request.match_info["shipment_id"]
        status = await self._status(shipment_id)
        if isinstance(status, web.Response):
            return status
        body = status.model_dump(mode="json")
        body.update(self._links(shipment_id))
        return web.json_response(body)

    async def timeline(self, request: web.Request) -> web.Response:
        """Stages reached and partner events, merged in time order (events by occurred_at)."""
        shipment_id = request.match_info["shipment_id"]
        status = await self._status(shipment_id)
        if isinstance(status, web.Response):
            return status
        return web.json_response({"shipment_id": shipment_id, "entries": timeline(status)})


def _content_type(status: int) -> str:
    return "application/json" if status < 400 else PROBLEM_JSON


IN_FLIGHT_RETRY_S = 1
"""``Retry-After`` of the 409 answered while a key's first request runs."""


def _repeat(record: StoredResponse | None, key: str, digest: str) -> web.Response:
    """The answer to a request whose key another request reserved first."""
    if record is None or record.state == IdempotencyState.IN_FLIGHT:
        busy = problem(409, "Idempotency-Key in use",
                       f"a request with key {key!r} is still running; retry later")  # fmt: skip
        busy.headers["Retry-After"] = str(IN_FLIGHT_RETRY_S)
        return busy
    if record.request_sha256 != digest:
        return problem(422, "Idempotency-Key reused",
                       f"key {key!r} was first used with another request")  # fmt: skip
    assert record.status is not None and record.body is not None
    replay = web.Response(status=record.status, text=record.body,
                          content_type=_content_type(record.status))  # fmt: skip
    replay.headers["Idempotent-Replayed"] = "true"
    return replay


class ManualEvent(BaseModel):
    """What ops may record by hand: a milestone, when, and why."""

    model_config = ConfigDict(extra="forbid")

    milestone: Milestone
    occurred_at: Rfc3339 | None = None
    classifier: EventClassifier = EventClassifier.ACTUAL
    reason: str = Field(min_length=1, max_length=500)
    location: EventLocation | None = None
    proof_of_delivery: ProofOfDelivery | None = None


def timeline(status: ShipmentStatus) -> list[dict[str, object]]:
    retracted = {e.retracts_event_id for e in status.events if e.retracts_event_id}
    entries: list[dict[str, object]] = [
        {"at": reached.at.isoformat(), "kind": "stage", "stage": reached.stage.value}
        for reached in status.stages
    ]
    for event in status.events:
        entries.append({
            "at": event.occurred_at.isoformat(), "kind": "event",
            "milestone": event.milestone.value, "classifier": event.classifier.value,
            "partner": event.source.partner, "event_id": event.event_id,
            "reason": event.reason, "retracted": event.event_id in retracted,
            "retracts": event.retracts_event_id,
        })  # fmt: skip
    for entry in status.log:
        entries.append({"at": entry.at.isoformat(), "kind": entry.kind.value,
                        "title": entry.title, **entry.details})  # fmt: skip
    return sorted(entries, key=lambda entry: datetime.fromisoformat(str(entry["at"])))
