"""``/v1/shipments``: start a shipment and read its status."""

from datetime import timedelta

from aiohttp import web
from pydantic import ValidationError
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import problem, validation_problem
from canonical.shipment import shipment_id_for
from workflows.client import ui_link
from workflows.models import ORDER_REF, SHIPMENT_STATUS, TASK_QUEUE, ShipmentInput
from workflows.shipment import ShipmentWorkflow

QUERY_TIMEOUT = timedelta(seconds=10)


class ShipmentRoutes:
    def __init__(self, client: Client, *, namespace: str, ui_url: str) -> None:
        self._client = client
        self._namespace = namespace
        self._ui_url = ui_url

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/v1/shipments", self.start)
        app.router.add_get("/v1/shipments/{shipment_id}", self.show)

    def _links(self, shipment_id: str) -> dict[str, str]:
        return {
            "status_url": f"/v1/shipments/{shipment_id}",
            "ui_url": ui_link(self._ui_url, self._namespace, shipment_id),
        }

    async def start(self, request: web.Request) -> web.Response:
        """Start the order's shipment; 201 when new, 200 with the same shipment when it exists."""
        try:
            input = ShipmentInput.model_validate_json(await request.read())
        except ValidationError as err:
            return validation_problem(err)
        shipment_id = shipment_id_for(input.order_ref)
        try:
            await self._client.start_workflow(
                ShipmentWorkflow.run,
                input,
                id=shipment_id,
                task_queue=TASK_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
                search_attributes=TypedSearchAttributes(
                    [
                        SearchAttributePair(ORDER_REF, input.order_ref),
                        SearchAttributePair(SHIPMENT_STATUS, "accept"),
                    ]
                ),
                static_summary=f"Shipment of sale order {input.order_ref}",
                static_details=(
                    f"Carrier {input.carrier}, {input.service_level.value} service, "
                    f"{len(input.packages)} package(s)."
                ),
            )
            status = 201
        except WorkflowAlreadyStartedError:
            status = 200
        body = {
            "shipment_id": shipment_id,
            "order_ref": input.order_ref,
            **self._links(shipment_id),
        }
        return web.json_response(
            body, status=status, headers={"Location": f"/v1/shipments/{shipment_id}"}
        )

    async def show(self, request: web.Request) -> web.Response:
        shipment_id = request.match_info["shipment_id"]
        handle = self._client.get_workflow_handle(shipment_id)
        try:
            status = await handle.query(ShipmentWorkflow.status, rpc_timeout=QUERY_TIMEOUT)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return problem(404, "Unknown shipment", f"no shipment {shipment_id}")
            if err.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.UNAVAILABLE):
                return problem(503, "Shipment status unavailable", "no worker answered in time")
            raise
        except WorkflowQueryFailedError as err:
            return problem(502, "Shipment status failed", str(err))
        body = status.model_dump(mode="json")
        body.update(self._links(shipment_id))
        return web.json_response(body)
