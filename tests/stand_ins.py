"""Stand-in activities for ShipmentWorkflow tests: the real activities' names and types, with
behaviour a test can set (carriers that refuse, charges that never settle) and a record of every
call. What the real activities do to partners is tested against the simulators elsewhere."""

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from temporalio import activity
from temporalio.client import Client, WorkflowHandle
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.models import (
    AcceptedOrder,
    AcceptOrderInput,
    CancelBookingInput,
    CancelDeclarationInput,
    CancelTransportInput,
    CarrierBooking,
    EscalationInput,
    FileCustomsInput,
    FiledDeclaration,
    FinalCharges,
    FinalChargesInput,
    NotifyFinanceInput,
    NotifyInput,
    PolicyInput,
    PostedInvoice,
    ReleaseInvoiceInput,
    ReverseOrderInput,
    StepInput,
    TransportOrderRef,
    Undone,
    WriteTrackingRefInput,
)
from canonical.billing import Charge, ChargeKind
from canonical.events import EventClassifier, EventSource, ShipmentEvent, event_id_for
from canonical.milestones import Milestone
from canonical.money import Money
from canonical.shipment import Shipment, Stage
from workers.regions import regional_task_queue
from workers.sandbox import workflow_runner
from workflows.models import TASK_QUEUE, EventBatch, ShipmentInput, ShipmentStatus
from workflows.partners import PARTNERS, for_carrier
from workflows.policy import DEFAULT_POLICY_FILE, load_policy_file
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
FREIGHT = Charge(kind=ChargeKind.FREIGHT, amount=Money(amount=Decimal("42.50"), currency="EUR"))


class StandInActivities:
    """Records every call. ``S-REJECT`` cannot ship; carriers in ``refusing`` refuse bookings;
    ``settled`` says whether the carrier has final charges; ``incoterm`` overrides the order's;
    ``carriers`` are the configured ones (each served on its own queue)."""

    def __init__(
        self,
        *,
        refusing: set[str] | None = None,
        settled: bool = True,
        incoterm: str = "DAP",
        policy_file: Any = DEFAULT_POLICY_FILE,
        carriers: tuple[str, ...] = ("easypost", "dhl"),
    ) -> None:
        self.carriers = carriers
        self.calls: Counter[str] = Counter()
        self.queues: dict[str, str] = {}
        self.inputs: dict[str, list[Any]] = {}
        self.refusing = refusing or set()
        self.settled = settled
        self.incoterm = incoterm
        self.policy_file = policy_file
        self.booking_gate: asyncio.Event | None = None
        """When set, bookings wait for it (a partner call in flight)."""

    def _ran(self, name: str, input: Any = None) -> None:
        self.calls[name] += 1
        self.queues[name] = activity.info().task_queue
        self.inputs.setdefault(name, []).append(input)

    @activity.defn(name="accept_order")
    async def accept_order(self, input: AcceptOrderInput) -> AcceptedOrder:
        self._ran("accept_order", input)
        if input.order_ref == "S-REJECT":
            raise ApplicationError(
                "odoo: sale order S-REJECT not found", type="OrderNotFound", non_retryable=True
            )
        shipment = SHIPMENT.model_copy(
            update={
                "order_ref": input.order_ref,
                "incoterm": self.incoterm,
                "carrier": input.carrier,
            }
        )
        return AcceptedOrder(shipment=shipment, sale_order_id=7, picking_id=11)

    @activity.defn(name="load_shipment_policy")
    async def load_shipment_policy(self, input: PolicyInput) -> Any:
        self._ran("load_shipment_policy", input)
        from canonical.shipment import ServiceLevel

        policy = load_policy_file(self.policy_file)
        return policy.for_shipment(
            ServiceLevel(input.service_level), input.lane, input.carrier, self.carriers
        )

    @activity.defn(name="create_transport_order")
    async def create_transport_order(self, input: StepInput) -> TransportOrderRef:
        self._ran("create_transport_order", input)
        return TransportOrderRef(transport_order_id="TO-000001")

    @activity.defn(name="book_carrier")
    async def book_carrier(self, input: StepInput) -> CarrierBooking:
        carrier = input.shipment.carrier
        self._ran("book_carrier", input)
        if self.booking_gate is not None:
            await self.booking_gate.wait()
        if carrier in self.refusing:
            raise ApplicationError(f"{carrier}: no service on this lane", type="PartnerRejected",
                                   non_retryable=True)  # fmt: skip
        number = "EZ1" if input.booking_no == 1 else f"{carrier.upper()}{input.booking_no}"
        return CarrierBooking(
            carrier=carrier, carrier_shipment_id=f"shp_{input.booking_no}",
            tracking_number=number, label_url=None, charges=[FREIGHT],
        )  # fmt: skip

    @activity.defn(name="write_tracking_ref")
    async def write_tracking_ref(self, input: WriteTrackingRefInput) -> None:
        assert input.picking_id == 11
        self._ran("write_tracking_ref", input)

    @activity.defn(name="file_customs")
    async def file_customs(self, input: FileCustomsInput) -> FiledDeclaration:
        self._ran("file_customs", input)
        number = self.calls["file_customs"]
        return FiledDeclaration(declaration_id=f"DEC-00000{number}", lrn=f"LRN-{number}")

    @activity.defn(name="final_charges")
    async def final_charges(self, input: FinalChargesInput) -> FinalCharges:
        self._ran("final_charges", input)
        if self.settled:
            return FinalCharges(charges=input.booking.charges, final=True)
        return FinalCharges(final=False)

    @activity.defn(name="release_invoice")
    async def release_invoice(self, input: ReleaseInvoiceInput) -> PostedInvoice:
        self._ran("release_invoice", input)
        return PostedInvoice(
            invoice_id=3, invoice_name="INV/2026/00003", amount_total=Decimal("1798.00"),
            currency="EUR",
        )  # fmt: skip

    @activity.defn(name="notify_finance")
    async def notify_finance(self, input: NotifyFinanceInput) -> None:
        assert input.invoice.invoice_name == "INV/2026/00003"
        self._ran("notify_finance", input)

    @activity.defn(name="notify")
    async def notify(self, input: NotifyInput) -> None:
        self._ran("notify", input)

    @activity.defn(name="open_escalation")
    async def open_escalation(self, input: EscalationInput) -> None:
        self._ran("open_escalation", input)

    @activity.defn(name="cancel_carrier_booking")
    async def cancel_carrier_booking(self, input: CancelBookingInput) -> Undone:
        self._ran("cancel_carrier_booking", input)
        return Undone(outcome=f"{input.booking.carrier} booking cancelled")

    @activity.defn(name="cancel_transport_order")
    async def cancel_transport_order(self, input: CancelTransportInput) -> Undone:
        self._ran("cancel_transport_order", input)
        return Undone(outcome="TMS order cancelled")

    @activity.defn(name="cancel_customs_declaration")
    async def cancel_customs_declaration(self, input: CancelDeclarationInput) -> Undone:
        self._ran("cancel_customs_declaration", input)
        return Undone(outcome="declaration withdrawn")

    @activity.defn(name="reverse_odoo_order")
    async def reverse_odoo_order(self, input: ReverseOrderInput) -> Undone:
        self._ran("reverse_odoo_order", input)
        return Undone(outcome="delivery cancelled")

    def notified(self) -> list[str]:
        """The ``event`` of every notification sent, in order."""
        return [n.event for n in self.inputs.get("notify", [])]

    @asynccontextmanager
    async def running(self, client: Client, region: str | None = None) -> AsyncIterator[None]:
        """Workers on the workflow's queue and on every partner queue, as in production (the
        partner queues of ``region`` only, as a regional worker polls)."""
        partner_queues = [
            regional_task_queue(calls.task_queue, region) if calls.task_queue else TASK_QUEUE
            for calls in (*PARTNERS, *(for_carrier(name) for name in self.carriers))
        ]
        async with AsyncExitStack() as stack:
            for queue in [TASK_QUEUE, *partner_queues]:
                await stack.enter_async_context(
                    Worker(
                        client,
                        task_queue=queue,
                        workflows=[ShipmentWorkflow],
                        workflow_runner=workflow_runner(),
                        activities=self.all(),
                    )
                )
            yield

    def all(self) -> list[Any]:
        return [
            getattr(self, name)
            for name in (
                "accept_order", "load_shipment_policy", "create_transport_order",
                "book_carrier", "write_tracking_ref", "file_customs",
                "final_charges", "release_invoice", "notify_finance", "notify",
                "open_escalation", "cancel_carrier_booking", "cancel_transport_order",
                "cancel_customs_declaration", "reverse_odoo_order",
            )
        ]  # fmt: skip


def event(
    kind: Milestone,
    event_id: str,
    *,
    partner: str = "easypost",
    classifier: EventClassifier = EventClassifier.ACTUAL,
    at: datetime = datetime(2026, 11, 20, 10, tzinfo=UTC),
    **extra: Any,
) -> ShipmentEvent:
    return ShipmentEvent(
        event_id=event_id_for(partner, event_id),
        dedupe_key=event_id,
        milestone=kind,
        classifier=classifier,
        occurred_at=at,
        recorded_at=at,
        source=EventSource(partner=partner, partner_event_id=event_id),
        **extra,
    )


async def send(handle: WorkflowHandle[Any, Any], *events: ShipmentEvent) -> None:
    """Signal ``events`` as one webhook's batch, the way the API does."""
    batch = EventBatch(events=list(events), partner=events[0].source.partner)
    await handle.signal(ShipmentWorkflow.events, batch)


async def start(client: Client, order_ref: str, **fields: Any) -> WorkflowHandle[Any, Any]:
    return await client.start_workflow(
        ShipmentWorkflow.run,
        ShipmentInput(order_ref=order_ref, packages=SHIPMENT.packages, **fields),
        id=f"shipment-{order_ref}-{uuid.uuid4().hex[:6]}",
        task_queue=TASK_QUEUE,
    )


async def status_of(handle: WorkflowHandle[Any, Any]) -> ShipmentStatus:
    status: ShipmentStatus = await handle.query(ShipmentWorkflow.status)
    return status


async def stage_of(handle: WorkflowHandle[Any, Any]) -> Stage:
    return (await status_of(handle)).stage


async def until(
    handle: WorkflowHandle[Any, Any], ready: Any, *, attempts: int = 200, every_s: float = 0.05
) -> ShipmentStatus:
    """Poll the status query (real time; the test server's clock does not move meanwhile)."""
    for _ in range(attempts):
        status = await status_of(handle)
        if ready(status):
            return status
        await asyncio.sleep(every_s)
    raise AssertionError(f"never ready; last status: stage {status.stage}, log {status.log}")
