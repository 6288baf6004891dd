"""ShipmentWorkflow in the time-skipping test server, with stand-in activities.

The stand-ins carry the real activities' names and types; what they do to partners is tested
against the simulators elsewhere. Here: stage order, milestone waits and deduplication,
rejection, and that each side effect is asked for exactly once.
"""

import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.models import (
    AcceptedOrder,
    AcceptOrderInput,
    CarrierBooking,
    FileCustomsInput,
    FiledDeclaration,
    LinkTrackingInput,
    NotifyFinanceInput,
    PostedInvoice,
    ReleaseInvoiceInput,
    StepInput,
    TransportOrderRef,
    WriteTrackingRefInput,
)
from canonical.events import EventClassifier, EventSource, ShipmentEvent, event_id_for
from canonical.milestones import Milestone, ProofOfDelivery
from canonical.shipment import Shipment, Stage
from workflows.client import register_search_attributes
from workflows.legacy import MilestoneEventV1
from workflows.models import TASK_QUEUE, ShipmentInput, ShipmentStatus
from workflows.partners import PARTNERS
from workflows.shipment import ShipmentWorkflow

SHIPMENT = Shipment.model_validate_json(
    json.dumps(
        {
            "order_ref": "S00001",
            "shipper": {
                "name": "Borderflow Demo GmbH",
                "address": {"lines": ["Am Sandtorkai 1"], "city": "Hamburg", "country": "DE"},
            },
            "consignee": {
                "name": "Acme Inc.",
                "address": {"lines": ["1 Main St"], "city": "Boston", "country": "US"},
            },
            "incoterm": "DAP",
            "currency": "EUR",
            "commodities": [
                {
                    "description": "Laptop",
                    "hs6": "847130",
                    "origin_country": "CN",
                    "quantity": "2",
                    "unit_value": {"amount": "899", "currency": "EUR"},
                }
            ],
            "packages": [{"weight_kg": "2.5", "length_cm": 40, "width_cm": 30, "height_cm": 20}],
            "carrier": "easypost",
        }
    )
)


class StandInActivities:
    """Records every call; accepts every order except ``S-REJECT``."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.queues: dict[str, str] = {}

    def _ran(self, name: str) -> None:
        self.calls[name] += 1
        self.queues[name] = activity.info().task_queue

    @activity.defn(name="accept_order")
    async def accept_order(self, input: AcceptOrderInput) -> AcceptedOrder:
        self._ran("accept_order")
        if input.order_ref == "S-REJECT":
            raise ApplicationError(
                "odoo: sale order S-REJECT not found", type="OrderNotFound", non_retryable=True
            )
        return AcceptedOrder(
            shipment=SHIPMENT.model_copy(update={"order_ref": input.order_ref}),
            sale_order_id=7,
            picking_id=11,
        )

    @activity.defn(name="create_transport_order")
    async def create_transport_order(self, input: StepInput) -> TransportOrderRef:
        self._ran("create_transport_order")
        return TransportOrderRef(transport_order_id="TO-000001")

    @activity.defn(name="book_carrier")
    async def book_carrier(self, input: StepInput) -> CarrierBooking:
        self._ran("book_carrier")
        return CarrierBooking(
            carrier="easypost", carrier_shipment_id="shp_1", tracking_number="EZ1", label_url=None
        )

    @activity.defn(name="link_tracking")
    async def link_tracking(self, input: LinkTrackingInput) -> None:
        assert input.tracking_number == "EZ1"
        self._ran("link_tracking")

    @activity.defn(name="write_tracking_ref")
    async def write_tracking_ref(self, input: WriteTrackingRefInput) -> None:
        assert (input.tracking_number, input.picking_id) == ("EZ1", 11)
        self._ran("write_tracking_ref")

    @activity.defn(name="file_customs")
    async def file_customs(self, input: FileCustomsInput) -> FiledDeclaration:
        self._ran("file_customs")
        return FiledDeclaration(declaration_id="DEC-000001", lrn="LRN-1")

    @activity.defn(name="release_invoice")
    async def release_invoice(self, input: ReleaseInvoiceInput) -> PostedInvoice:
        self._ran("release_invoice")
        return PostedInvoice(
            invoice_id=3,
            invoice_name="INV/2026/00003",
            amount_total=Decimal("1798.00"),
            currency="EUR",
        )

    @activity.defn(name="notify_finance")
    async def notify_finance(self, input: NotifyFinanceInput) -> None:
        assert input.invoice.invoice_name == "INV/2026/00003"
        self._ran("notify_finance")

    @asynccontextmanager
    async def running(self, client: Client) -> AsyncIterator[None]:
        """Workers on the workflow's queue and on every partner queue, as in production."""
        async with AsyncExitStack() as stack:
            for queue in [TASK_QUEUE, *(calls.task_queue or TASK_QUEUE for calls in PARTNERS)]:
                await stack.enter_async_context(
                    Worker(
                        client,
                        task_queue=queue,
                        workflows=[ShipmentWorkflow],
                        activities=self.all(),
                    )
                )
            yield

    def all(self) -> list:
        return [
            self.accept_order,
            self.create_transport_order,
            self.book_carrier,
            self.link_tracking,
            self.write_tracking_ref,
            self.file_customs,
            self.release_invoice,
            self.notify_finance,
        ]


@pytest.fixture(scope="module")
async def env(temporal_test_server: str) -> AsyncIterator[WorkflowEnvironment]:
    async with await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=temporal_test_server, data_converter=pydantic_data_converter
    ) as env:
        await register_search_attributes(env.client)
        yield env


def event(
    kind: Milestone,
    event_id: str,
    *,
    partner: str = "easypost",
    classifier: EventClassifier = EventClassifier.ACTUAL,
    **extra: object,
) -> ShipmentEvent:
    moment = datetime(2026, 11, 20, 10, tzinfo=UTC)
    return ShipmentEvent(
        event_id=event_id_for(partner, event_id),
        dedupe_key=event_id,
        milestone=kind,
        classifier=classifier,
        occurred_at=moment,
        recorded_at=moment,
        source=EventSource(partner=partner, partner_event_id=event_id),
        **extra,  # type: ignore[arg-type]
    )


async def start(env: WorkflowEnvironment, order_ref: str) -> WorkflowHandle:
    return await env.client.start_workflow(
        ShipmentWorkflow.run,
        ShipmentInput(order_ref=order_ref, packages=SHIPMENT.packages),
        id=f"shipment-{order_ref}-{uuid.uuid4().hex[:6]}",
        task_queue=TASK_QUEUE,
    )


async def stage_of(handle: WorkflowHandle) -> Stage:
    status: ShipmentStatus = await handle.query(ShipmentWorkflow.status)
    return status.stage


async def test_happy_path_waits_for_release_then_proof_and_dedupes_milestones(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env, "S00001")
        # Delivery news may come before customs news: it must be kept, not lost.
        delivered = event(
            Milestone.DELIVERED, "evt_3", proof_of_delivery=ProofOfDelivery(signed_by="J. SMITH")
        )
        await handle.signal(ShipmentWorkflow.event, event(Milestone.PICKED_UP, "evt_1"))
        await handle.signal(ShipmentWorkflow.event, event(Milestone.PICKED_UP, "evt_1"))
        await handle.signal(ShipmentWorkflow.event, delivered)
        await env.sleep(timedelta(days=3))  # nothing moves without customs release
        assert await stage_of(handle) == Stage.CUSTOMS

        released = event(Milestone.CUSTOMS_RELEASED, "bev_1", partner="broker")
        await handle.signal(ShipmentWorkflow.event, released)
        await handle.signal(ShipmentWorkflow.event, released)
        result: ShipmentStatus = await handle.result()

    assert result.stage == Stage.INVOICED
    assert [s.stage for s in result.stages] == [
        Stage.ACCEPT,
        Stage.BOOK,
        Stage.CUSTOMS,
        Stage.DELIVERY,
        Stage.INVOICE,
        Stage.INVOICED,
    ]
    assert [e.dedupe_key for e in result.events] == ["evt_1", "evt_3", "bev_1"]
    refs = result.references
    assert (refs.sale_order_id, refs.picking_id, refs.transport_order_id) == (7, 11, "TO-000001")
    assert (refs.tracking_number, refs.declaration_id) == ("EZ1", "DEC-000001")
    assert (refs.invoice_id, refs.invoice_name) == (3, "INV/2026/00003")
    assert set(stand_ins.calls.values()) == {1}
    assert len(stand_ins.calls) == 8
    assert stand_ins.queues == {
        "accept_order": "borderflow-odoo", "create_transport_order": "borderflow-tms",
        "book_carrier": "borderflow-carrier", "link_tracking": TASK_QUEUE,
        "write_tracking_ref": "borderflow-odoo", "file_customs": "borderflow-broker",
        "release_invoice": "borderflow-odoo", "notify_finance": "borderflow-notify",
    }  # fmt: skip


async def test_delivery_without_proof_does_not_release_the_invoice(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env, "S00002")
        await handle.signal(ShipmentWorkflow.event, event(Milestone.CUSTOMS_RELEASED, "bev_9"))
        await handle.signal(ShipmentWorkflow.event, event(Milestone.DELIVERED, "evt_9"))
        await env.sleep(timedelta(days=10))
        assert await stage_of(handle) == Stage.DELIVERY
        assert stand_ins.calls["release_invoice"] == 0
        await handle.signal(
            ShipmentWorkflow.event,
            event(
                Milestone.POD_RECEIVED,
                "evt_10",
                proof_of_delivery=ProofOfDelivery(signed_by="R. ROE"),
            ),
        )
        result: ShipmentStatus = await handle.result()
    assert result.stage == Stage.INVOICED
    assert stand_ins.calls["release_invoice"] == 1


async def test_an_order_that_cannot_ship_is_rejected_with_the_reason(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env, "S-REJECT")
        result: ShipmentStatus = await handle.result()
    assert result.stage == Stage.REJECTED
    assert "S-REJECT not found" in (result.rejection or "")
    assert stand_ins.calls == Counter({"accept_order": 1})


async def test_estimates_and_retracted_events_do_not_move_the_shipment(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env, "S00003")
        proof = ProofOfDelivery(signed_by="J. SMITH")
        # An estimate of release, then an actual release that the broker withdraws.
        await handle.signal(
            ShipmentWorkflow.event,
            event(Milestone.CUSTOMS_RELEASED, "est-1", classifier=EventClassifier.ESTIMATED),
        )
        await handle.signal(ShipmentWorkflow.event, event(Milestone.CUSTOMS_RELEASED, "act-1"))
        await handle.signal(
            ShipmentWorkflow.event,
            event(
                Milestone.CUSTOMS_HELD,
                "retract-1",
                retracts_event_id=event_id_for("easypost", "act-1"),
            ),
        )
        await env.sleep(timedelta(days=2))
        assert await stage_of(handle) == Stage.CUSTOMS
        await handle.signal(ShipmentWorkflow.event, event(Milestone.CUSTOMS_RELEASED, "act-2"))
        await handle.signal(
            ShipmentWorkflow.event,
            event(
                Milestone.DELIVERED,
                "d-est",
                classifier=EventClassifier.PLANNED,
                proof_of_delivery=proof,
            ),
        )
        await env.sleep(timedelta(days=2))
        assert await stage_of(handle) == Stage.DELIVERY
        await handle.signal(
            ShipmentWorkflow.event, event(Milestone.DELIVERED, "d-1", proof_of_delivery=proof)
        )
        result: ShipmentStatus = await handle.result()
    assert result.stage == Stage.INVOICED
    assert len(result.events) == 6  # every event stays on the timeline


async def test_version_1_milestone_signals_are_still_understood(env: WorkflowEnvironment) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env, "S00004")
        for body in (
            {"milestone": "CUSTOMS_RELEASED", "partner": "broker", "partner_event_id": "b1"},
            {
                "milestone": "DELIVERED",
                "partner": "easypost",
                "partner_event_id": "e1",
                "proof_of_delivery": {"signed_by": "J. SMITH"},
            },
        ):
            v1 = MilestoneEventV1.model_validate({**body, "occurred_at": "2026-11-20T10:00:00Z"})
            await handle.signal(ShipmentWorkflow.milestone, v1)
        result: ShipmentStatus = await handle.result()
    assert result.stage == Stage.INVOICED
    assert [e.event_id for e in result.events] == [
        event_id_for("broker", "b1"),
        event_id_for("easypost", "e1"),
    ]
