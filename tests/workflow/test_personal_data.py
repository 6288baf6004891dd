"""No personal data where Temporal keeps it in clear: search attributes, memo, user metadata.

Payload encryption covers inputs, results, queries and failures, but the server indexes search
attributes and shows memos, summaries and details (the UI's "current details") as they are.
A shipment whose consignee's name, email, phone and address are markers runs through the real
workflow (accepted, amended to another consignee, booked, cleared, delivered, invoiced); none
of the markers may appear in any of those, on the shipment or on its customs child.
"""

import asyncio
from collections.abc import Iterator
from typing import Any

from google.protobuf.message import Message
from stand_ins import SHIPMENT, StandInActivities, event, send, start, until
from temporalio import activity
from temporalio.api.common.v1 import Payload
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.models import AcceptedOrder, AcceptOrderInput, StepInput, TransportOrderRef
from canonical.milestones import Milestone, ProofOfDelivery
from canonical.parties import Address, Party
from canonical.shipment import References, Stage
from workflows.models import CUSTOMER, ShipmentStatus
from workflows.ops import Actor, AmendInput
from workflows.shipment import ShipmentWorkflow

MARKERS = ["Qzx Marker Person", "qzx.marker@example.org", "+1 617 555 0142", "42 Qzxmarker Lane",
           "Qzxmarkerville", "Qzx Second Consignee", "second.qzx@example.org"]  # fmt: skip
CONSIGNEE = Party(
    name=MARKERS[0], email=MARKERS[1], phone=MARKERS[2],
    address=Address(lines=[MARKERS[3]], city=MARKERS[4], postal_code="02110", country="US"),
)  # fmt: skip
AMENDED = Party(
    name=MARKERS[5], email=MARKERS[6],
    address=Address(lines=["1 Other St"], city="Boston", country="US"),
)  # fmt: skip
CUSTOMER_ID = 4242


class MarkedConsignee(StandInActivities):
    """The stand-ins, with a consignee made of markers; the TMS order waits for
    ``transport_gate``, so that the shipment can be amended before it is booked."""

    def __init__(self) -> None:
        super().__init__()
        self.transport_gate = asyncio.Event()

    @activity.defn(name="create_transport_order")
    async def create_transport_order(self, input: StepInput) -> TransportOrderRef:
        await self.transport_gate.wait()
        return await super().create_transport_order(input)

    @activity.defn(name="accept_order")
    async def accept_order(self, input: AcceptOrderInput) -> AcceptedOrder:
        self._ran("accept_order", input)
        shipment = SHIPMENT.model_copy(
            update={
                "order_ref": input.order_ref, "consignee": CONSIGNEE,
                "destination": CONSIGNEE.address,
                "references": References(customer_id=CUSTOMER_ID),
            }
        )  # fmt: skip
        return AcceptedOrder(shipment=shipment, sale_order_id=7, picking_id=11)


def clear_text_payloads(message: Message, inside: bool = False) -> Iterator[Payload]:
    """Every payload under a ``search_attributes``, ``memo`` or ``user_metadata`` field."""
    if isinstance(message, Payload):
        if inside:
            yield message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        here = inside or field.name in ("search_attributes", "memo", "user_metadata")
        if field.message_type.GetOptions().map_entry:
            items = [item for item in value.values() if isinstance(item, Message)]
        else:
            items = [value] if isinstance(value, Message) else list(value)
        for item in items:
            yield from clear_text_payloads(item, here)


async def readable(client: Client, handle: WorkflowHandle[Any, Any]) -> list[str]:
    """What the server shows of ``handle`` in clear: describe(), its history's search
    attributes, memos and user metadata, and the current details."""
    same = client.get_workflow_handle(handle.id)
    described = await same.describe()
    texts = [
        str(described.typed_search_attributes), str(await described.memo()),
        str(await described.static_summary()), str(await described.static_details()),
    ]  # fmt: skip
    texts.append(str(await same.query("__temporal_workflow_metadata")))
    async for history_event in same.fetch_history_events():
        texts += [p.data.decode(errors="replace") for p in clear_text_payloads(history_event)]
    return texts


async def test_no_personal_data_in_search_attributes_memo_summaries_or_details(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = MarkedConsignee()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S00077")
        await until(handle, lambda s: s.stage is Stage.BOOK)
        amend = AmendInput(consignee=AMENDED, reason="customer moved",
                           actor=Actor(role="ops", token_id="t1"))  # fmt: skip
        await handle.execute_update(ShipmentWorkflow.amend, amend)
        stand_ins.transport_gate.set()
        await send(handle, event(Milestone.PICKED_UP, "evt_1"))
        released = event(Milestone.CUSTOMS_RELEASED, "bev_1", partner="broker")
        await send(handle, released)
        delivered = event(
            Milestone.DELIVERED, "evt_3", proof_of_delivery=ProofOfDelivery(signed_by="J. SMITH")
        )
        await send(handle, delivered)
        result: ShipmentStatus = await handle.result()
        assert result.stage == Stage.INVOICED
        shown = await readable(env.client, handle)

    leaks = [(marker, text) for marker in MARKERS for text in shown if marker in text]
    assert leaks == []
    # the customer is findable by its ERP id instead
    described = await handle.describe()
    assert described.typed_search_attributes.get(CUSTOMER) == str(CUSTOMER_ID)
    assert result.references.customer_id == CUSTOMER_ID
    # the check sees what it is meant to: the order ref is in the summaries and details
    assert any("S00077" in text for text in shown)
