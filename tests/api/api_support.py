"""Stand-in shipments for the API tests, started as the API would start them."""

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
from temporalio.client import Client, WorkflowHandle
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from workflows.models import (
    LANE,
    ORDER_REF,
    SHIPMENT_STATUS,
    SLA_BREACHED,
    TASK_QUEUE,
    ShipmentInput,
)

PACKAGE = {"weight_kg": "1.5", "length_cm": "30", "width_cm": "20", "height_cm": "10"}


def new_order_ref() -> str:
    return f"T{uuid.uuid4().hex[:10].upper()}"


async def start_shipment(
    client: Client,
    *,
    order_ref: str | None = None,
    carrier: str = "easypost",
    lane: str | None = None,
    breached: bool | None = None,
    task_queue: str = TASK_QUEUE,
) -> WorkflowHandle[object, object]:
    """Start a stand-in shipment as the API would, with the search attributes given."""
    order_ref = order_ref or new_order_ref()
    body = {"order_ref": order_ref, "carrier": carrier, "packages": [PACKAGE]}
    attributes = [SearchAttributePair(ORDER_REF, order_ref),
                  SearchAttributePair(SHIPMENT_STATUS, "book")]  # fmt: skip
    if lane is not None:
        attributes.append(SearchAttributePair(LANE, lane))
    if breached is not None:
        attributes.append(SearchAttributePair(SLA_BREACHED, breached))
    return await client.start_workflow(
        "ShipmentWorkflow", ShipmentInput.model_validate_json(json.dumps(body)),
        id=f"shipment-{order_ref}", task_queue=task_queue,
        search_attributes=TypedSearchAttributes(attributes),
        execution_timeout=timedelta(hours=1),
    )  # fmt: skip


async def inbox_item(
    http: httpx.AsyncClient, headers: dict[str, str], message_id: int
) -> dict[str, Any]:
    """One inbox message as ``GET /v1/inbox`` lists it (``headers``: an admin's)."""
    page = await http.get("/v1/inbox", params={"after": message_id - 1, "limit": 1},
                          headers=headers)  # fmt: skip
    (found,) = page.json()["items"]
    assert found["id"] == message_id
    return dict(found)
