"""The shipment activities: every side effect of the lifecycle on a partner.

Every activity is safe to run more than once (Temporal retries and replays them):
- REST partners get an ``Idempotency-Key`` made of the shipment id and the step;
- Odoo, which has no keys, is searched before anything is created and its records' states
  are checked before any ``action_*`` call;
- the tracking link in our store is an idempotent insert.
Business refusals are raised as non-retryable errors; transient failures are retried.
"""

import asyncio

from sqlalchemy.engine import Engine
from temporalio import activity

from activities.broker import BrokerClient
from activities.carrier import EasyPostClient
from activities.errors import business_error
from activities.finance import FinanceNotifier
from activities.models import (
    AcceptedOrder,
    AcceptOrderInput,
    CarrierBooking,
    FileCustomsInput,
    FiledDeclaration,
    NotifyFinanceInput,
    PostedInvoice,
    RecordTrackingInput,
    ReleaseInvoiceInput,
    StepInput,
    TransportOrderRef,
)
from activities.odoo import OdooClient
from activities.odoo_sales import OdooSales
from activities.tms import TmsClient
from store.tracking import link_tracking

PARTNER_FIELDS = ["name", "street", "street2", "city", "zip", "country_id", "vat", "email", "phone"]


def step_key(shipment_id: str, step: str) -> str:
    """The idempotency key of one side effect of one shipment."""
    return f"{shipment_id}:{step}"


class ShipmentActivities:
    """Activities bound to the partner clients of one worker."""

    def __init__(
        self,
        *,
        odoo: OdooClient,
        tms: TmsClient,
        carrier: EasyPostClient,
        broker: BrokerClient,
        finance: FinanceNotifier,
        store: Engine,
    ) -> None:
        self._odoo = odoo
        self._sales = OdooSales(odoo)
        self._tms = tms
        self._carrier = carrier
        self._broker = broker
        self._finance = finance
        self._store = store

    # -- accept ---------------------------------------------------------------------------

    @activity.defn
    async def accept_order(self, input: AcceptOrderInput) -> AcceptedOrder:
        """Read the sale order, check it can ship, and confirm it if still a quotation."""
        return await self._sales.accept(input)

    # -- book -----------------------------------------------------------------------------

    @activity.defn
    async def create_transport_order(self, input: StepInput) -> TransportOrderRef:
        order = await self._tms.create_transport_order(
            input.shipment_id,
            input.shipment,
            idempotency_key=step_key(input.shipment_id, "transport-order"),
        )
        return TransportOrderRef(transport_order_id=order.id)

    @activity.defn
    async def book_carrier(self, input: StepInput) -> CarrierBooking:
        bought = await self._carrier.buy_label(
            input.shipment_id, input.shipment, idempotency_key=step_key(input.shipment_id, "book")
        )
        return CarrierBooking(
            carrier=input.shipment.carrier,
            carrier_shipment_id=bought.id,
            tracking_number=bought.tracking_code,
            label_url=bought.postage_label.label_url if bought.postage_label else None,
        )

    @activity.defn
    async def record_tracking(self, input: RecordTrackingInput) -> None:
        """Link the tracking number to the shipment (for webhooks) and write it to Odoo."""
        try:
            await asyncio.to_thread(
                link_tracking, self._store, input.carrier, input.tracking_number, input.shipment_id
            )
        except ValueError as err:
            raise business_error("store", str(err), type="TrackingConflict") from None
        if input.picking_id is not None:
            await self._sales.write_tracking_ref(input.picking_id, input.tracking_number)

    # -- customs --------------------------------------------------------------------------

    @activity.defn
    async def file_customs(self, input: FileCustomsInput) -> FiledDeclaration:
        declaration = await self._broker.file_export_declaration(
            input.shipment_id,
            input.shipment,
            input.tracking_number,
            idempotency_key=step_key(input.shipment_id, "customs-export"),
        )
        return FiledDeclaration(declaration_id=declaration.id, lrn=declaration.lrn)

    # -- invoice --------------------------------------------------------------------------

    @activity.defn
    async def release_invoice(self, input: ReleaseInvoiceInput) -> PostedInvoice:
        """Create (once) and post (once) the customer invoice of the order."""
        return await self._sales.release_invoice(input)

    @activity.defn
    async def notify_finance(self, input: NotifyFinanceInput) -> None:
        invoice = input.invoice
        await self._finance.invoice_posted(
            text=(
                f"Invoice {invoice.invoice_name} posted for {input.order_ref}: "
                f"{invoice.amount_total} {invoice.currency}"
            ),
            details={
                "shipment_id": input.shipment_id,
                "order_ref": input.order_ref,
                "invoice_id": str(invoice.invoice_id),
                "invoice_name": invoice.invoice_name,
                "amount_total": str(invoice.amount_total),
                "currency": invoice.currency,
            },
            idempotency_key=step_key(input.shipment_id, "finance-notify"),
        )
