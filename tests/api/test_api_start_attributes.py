"""``POST /v1/shipments`` starts the workflow with its ``OrderRef`` and first ``ShipmentStatus``.

Read from the workflow's start event (what the start request carried, whatever the workflow
upserts later) and from ``describe()``, against the live API and the stand-in worker.
"""

import httpx
from api_support import PACKAGE, new_order_ref
from live import LiveApi
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.converter import PayloadConverter

from canonical.shipment import Stage
from workflows.models import ORDER_REF, SHIPMENT_STATUS


async def test_a_started_shipment_carries_its_order_ref_and_first_status_from_the_start(
    api: LiveApi, temporal: Client
) -> None:
    order_ref = new_order_ref()
    async with httpx.AsyncClient(base_url=api.url, timeout=60) as http:
        reply = await http.post("/v1/shipments", headers=api.headers(),
                                json={"order_ref": order_ref, "packages": [PACKAGE]})  # fmt: skip
    assert reply.status_code == 201, reply.text
    handle = temporal.get_workflow_handle(reply.json()["shipment_id"])

    history = await handle.fetch_history()
    started = history.events[0]
    assert started.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED
    fields = started.workflow_execution_started_event_attributes.search_attributes.indexed_fields
    assert {ORDER_REF.name, SHIPMENT_STATUS.name} <= set(fields)
    decode = PayloadConverter.default.from_payload
    assert decode(fields[ORDER_REF.name]) == order_ref
    assert decode(fields[SHIPMENT_STATUS.name]) == Stage.ACCEPT.value == "accept"

    described = await handle.describe()
    assert described.typed_search_attributes.get(ORDER_REF) == order_ref
    await handle.terminate()
