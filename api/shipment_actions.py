"""Ops actions on a shipment, each a workflow update: cancel, amend, resolve, rebook, events.

The request body is the update's input (``workflows/ops.py``) without ``actor``: the API fills
it from the caller's token (its id and role), so no caller can act in another's name. An
accepted action answers 200 with the shipment's new status.

Every action maps its failures the same way:
- the body does not validate: 422 (400 when it is not JSON);
- no such shipment: 404; the shipment's workflow has ended: 409;
- the workflow's validator refuses: ``NotAllowedNow`` 409, ``InvalidUpdate`` 422; any other
  failure of the update: 409 with its message;
- Temporal unreachable, no worker answers within ``update_timeout``, or the workflow cannot
  take updates right now (its task failed): 503 with ``Retry-After`` (``api/unavailable.py``;
  the action may still be applied later; read the status before trying again).
"""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from temporalio.client import (
    Client,
    RPCTimeoutOrCancelledError,
    WorkflowExecutionStatus,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.auth import TOKEN_KEY
from api.problems import bad_idempotency_key, problem, validation_problem
from api.shipments import ManualEvent
from api.unavailable import service_unavailable, unavailable
from canonical.events import EventSource, ShipmentEvent, event_id_for
from store.idempotency import valid_key
from workflows.client import ui_link
from workflows.models import ShipmentStatus
from workflows.ops import (
    INVALID_UPDATE,
    NOT_ALLOWED_NOW,
    ORDER_REJECTED,
    Actor,
    AmendInput,
    CancelInput,
    ManualMilestoneInput,
    RebookInput,
    ResolveInput,
)

DESCRIBE_TIMEOUT = timedelta(seconds=5)
UNPROCESSABLE = frozenset({INVALID_UPDATE, ORDER_REJECTED})


def request_model(model: type[BaseModel]) -> type[BaseModel]:
    """``model`` without its ``actor`` field, refusing unknown fields (``actor`` included)."""
    fields: dict[str, Any] = {
        name: (info.annotation, info) for name, info in model.model_fields.items()
        if name != "actor"
    }  # fmt: skip
    name = model.__name__.removesuffix("Input") + "Request"
    config = ConfigDict(
        extra="forbid", json_schema_extra=model.model_config.get("json_schema_extra")
    )
    return create_model(name, __config__=config, __doc__=model.__doc__, **fields)


UPDATES: dict[str, type[BaseModel]] = {
    "cancel": CancelInput,
    "amend": AmendInput,
    "resolve": ResolveInput,
    "rebook": RebookInput,
}
"""Each action's update name (also its path segment) and the workflow's input model."""
REQUESTS: dict[str, type[BaseModel]] = {name: request_model(m) for name, m in UPDATES.items()}
"""Each action's request body."""


def refused(cause: BaseException) -> web.Response:
    """The problem for an update the workflow refused or failed."""
    if not isinstance(cause, ApplicationError):
        return problem(409, "Action failed", str(cause) or type(cause).__name__)
    if cause.type == NOT_ALLOWED_NOW:
        return problem(409, "Not allowed now", cause.message, code=cause.type)
    if cause.type in UNPROCESSABLE:
        return problem(422, "Invalid action", cause.message, code=cause.type)
    return problem(409, "Action refused", cause.message, code=cause.type)


class ShipmentActions:
    def __init__(
        self, client: Client, *, namespace: str, ui_url: str, update_timeout: timedelta
    ) -> None:
        self._client = client
        self._namespace = namespace
        self._ui_url = ui_url
        self._timeout = update_timeout

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/v1/shipments/{shipment_id}/cancel", self.cancel)
        app.router.add_post("/v1/shipments/{shipment_id}/amend", self.amend)
        app.router.add_post("/v1/shipments/{shipment_id}/resolve", self.resolve)
        app.router.add_post("/v1/shipments/{shipment_id}/rebook", self.rebook)
        app.router.add_post("/v1/shipments/{shipment_id}/events", self.record_event)

    async def cancel(self, request: web.Request) -> web.Response:
        """Cancel the shipment (``CancelInput``); the workflow undoes what was done."""
        return await self._act("cancel", request)

    async def amend(self, request: web.Request) -> web.Response:
        """Change the consignee, promised date or service level (``AmendInput``)."""
        return await self._act("amend", request)

    async def resolve(self, request: web.Request) -> web.Response:
        """Resolve an exception or a customs hold (``ResolveInput``)."""
        return await self._act("resolve", request)

    async def rebook(self, request: web.Request) -> web.Response:
        """Book another carrier (``RebookInput``)."""
        return await self._act("rebook", request)

    async def record_event(self, request: web.Request) -> web.Response:
        """Record a milestone by hand (update ``record_milestone``).

        With an ``Idempotency-Key`` the event's id derives from the key, so a retry records
        the milestone once (the workflow keeps each event id once) and answers the status again.
        """
        shipment_id = request.match_info["shipment_id"]
        key = request.headers.get("Idempotency-Key")
        if key is not None and not valid_key(key):
            return bad_idempotency_key()
        try:
            manual = ManualEvent.model_validate_json(await request.read())
        except ValidationError as err:
            return validation_problem(err)
        key = key or str(uuid.uuid4())
        now = datetime.now(UTC)
        event = ShipmentEvent(
            event_id=event_id_for("ops", key), dedupe_key=key, shipment_id=shipment_id,
            milestone=manual.milestone, classifier=manual.classifier,
            occurred_at=manual.occurred_at or now, recorded_at=now, reason=manual.reason,
            location=manual.location, proof_of_delivery=manual.proof_of_delivery,
            source=EventSource(partner="ops", partner_event_id=key),
        )  # fmt: skip
        update = ManualMilestoneInput(event=event, actor=self._actor(request))
        return await self._update(shipment_id, "record_milestone", update)

    async def _act(self, name: str, request: web.Request) -> web.Response:
        try:
            body = REQUESTS[name].model_validate_json(await request.read())
        except ValidationError as err:
            return validation_problem(err)
        update = UPDATES[name].model_validate({**dict(body), "actor": self._actor(request)})
        return await self._update(request.match_info["shipment_id"], name, update)

    @staticmethod
    def _actor(request: web.Request) -> Actor:
        token = request[TOKEN_KEY]
        return Actor(token_id=token.id, role=token.role)

    async def _update(self, shipment_id: str, name: str, update: BaseModel) -> web.Response:
        handle = self._client.get_workflow_handle(shipment_id)
        seconds = self._timeout.total_seconds()
        try:
            async with asyncio.timeout(seconds):
                status = await handle.execute_update(
                    name, update, result_type=ShipmentStatus, rpc_timeout=self._timeout
                )
        except WorkflowUpdateFailedError as err:
            return refused(err.cause)
        except RPCError as err:
            return await self._rpc_problem(handle, err)
        except (TimeoutError, RPCTimeoutOrCancelledError):
            return service_unavailable("Shipment did not answer",
                                       f"no answer from {shipment_id} within {seconds:g} s; the "
                                       "action may still be applied: read its status before "
                                       "trying again")  # fmt: skip
        body = status.model_dump(mode="json")
        body.update(status_url=f"/v1/shipments/{shipment_id}",
                    ui_url=ui_link(self._ui_url, self._namespace, shipment_id))  # fmt: skip
        return web.json_response(body)

    async def _rpc_problem(self, handle: WorkflowHandle[Any, Any], err: RPCError) -> web.Response:
        shipment_id = handle.id
        not_now = unavailable(err, "Shipment not ready",
                              f"{shipment_id} could not take the action now; read its status "
                              "before trying again")  # fmt: skip
        if not_now is not None:
            return not_now
        if err.status not in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
            raise err
        try:  # not running: ended, or never existed?
            described = await handle.describe(rpc_timeout=DESCRIBE_TIMEOUT)
        except RPCError as missing:
            if missing.status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT):
                return problem(404, "Unknown shipment", f"no shipment {shipment_id}")
            return service_unavailable(
                "Temporal unavailable", missing.message or f"could not describe {shipment_id}"
            )
        if described.status is WorkflowExecutionStatus.RUNNING:
            raise err  # running, yet refused for another reason: a bug, not the caller's
        state = described.status.name.lower() if described.status else "closed"
        return problem(409, "Shipment closed",
                       f"{shipment_id} has ended ({state}); it takes no more actions")  # fmt: skip
