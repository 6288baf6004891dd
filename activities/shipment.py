"""The shipment activities: every side effect of the lifecycle on a partner.

Every activity is safe to run more than once (Temporal retries and replays them):
- REST partners get an ``Idempotency-Key`` made of the shipment id and the step;
- Odoo, which has no keys, is searched before anything is created and its records' states
  are checked before any ``action_*`` call;
- the tracking link in our store is an idempotent insert, written by ``book_carrier`` before it
  returns: a carrier's first webhook can follow its answer within milliseconds, and the link
  must exist by then or the webhook waits for the inbox's redelivery loop.
Business refusals are raised as non-retryable errors; transient failures are retried.
"""

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from temporalio import activity

from activities.broker import BrokerClient
from activities.carriers.port import CarrierPort
from activities.errors import business_error
from activities.models import (
    AcceptedOrder,
    AcceptOrderInput,
    CarrierBooking,
    FileCustomsInput,
    FiledDeclaration,
    NotifyFinanceInput,
    PostedInvoice,
    ReleaseInvoiceInput,
    StepInput,
    TransportOrderRef,
    WriteTrackingRefInput,
)
from activities.notify import Channel, Notification, Notifier
from activities.odoo import OdooClient
from activities.odoo_sales import OdooSales
from activities.tms import TmsClient
from observability.metrics import record_invoice_lag
from store.tracking import link_tracking
from workflows.partners import BROKER, CARRIER_ACTIVITIES, NOTIFY, ODOO, TMS

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
        carriers: dict[str, CarrierPort],
        broker: BrokerClient,
        notifier: Notifier,
        store: Engine,
    ) -> None:
        self._odoo = odoo
        self._sales = OdooSales(odoo)
        self._tms = tms
        self._carriers = carriers
        self._broker = broker
        self._notifier = notifier
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
        """Book the shipment's carrier (once per booking: the carrier dedupes it by key), then
        link the tracking number to the shipment, so its webhooks find it from the first one."""
        name = input.shipment.carrier
        carrier = self._carriers.get(name)
        if carrier is None:
            known = ", ".join(sorted(self._carriers)) or "none"
            raise business_error(name, f"no such carrier is configured (configured: {known})",
                                 type="UnknownCarrier")  # fmt: skip
        step = "book" if input.booking_no == 1 else f"book-{input.booking_no}-{name}"
        booking = await carrier.book(
            input.shipment_id, input.shipment, idempotency_key=step_key(input.shipment_id, step)
        )
        try:
            await asyncio.to_thread(
                link_tracking, self._store, carrier.webhook_partner, booking.tracking_number,
                input.shipment_id,
            )  # fmt: skip
        except ValueError as err:
            raise business_error("store", str(err), type="TrackingConflict") from None
        return CarrierBooking(
            carrier=name,
            carrier_shipment_id=booking.booking_reference,
            tracking_number=booking.tracking_number,
            label_url=booking.label.uri if booking.label else None,
            charges=booking.charges,
        )

    @activity.defn
    async def write_tracking_ref(self, input: WriteTrackingRefInput) -> None:
        """Put the tracking number on the Odoo delivery."""
        await self._sales.write_tracking_ref(input.picking_id, input.tracking_number)

    # -- customs --------------------------------------------------------------------------

    @activity.defn
    async def file_customs(self, input: FileCustomsInput) -> FiledDeclaration:
        declaration = await self._broker.file_declaration(
            input.shipment_id,
            input.shipment,
            input.tracking_number,
            input.direction,
            idempotency_key=step_key(input.shipment_id, f"customs-{input.direction.value}"),
        )
        return FiledDeclaration(declaration_id=declaration.id, lrn=declaration.lrn)

    # -- invoice --------------------------------------------------------------------------

    @activity.defn
    async def release_invoice(self, input: ReleaseInvoiceInput) -> PostedInvoice:
        """Create (once) and post (once) the customer invoice of the order."""
        return await self._sales.release_invoice(input)

    @activity.defn
    async def notify_finance(self, input: NotifyFinanceInput) -> None:
        """Tell finance the invoice is posted (once per shipment)."""
        invoice = input.invoice
        await self._notifier.send(
            Notification(
                channel=Channel.FINANCE,
                event="invoice.posted",
                shipment_id=input.shipment_id,
                order_ref=input.order_ref,
                title=f"Invoice {invoice.invoice_name} posted",
                text=f"{input.order_ref}: {invoice.amount_total} {invoice.currency}",
                details={
                    "invoice_id": str(invoice.invoice_id),
                    "invoice_name": invoice.invoice_name,
                    "amount_total": str(invoice.amount_total),
                    "currency": invoice.currency,
                },
            ),
            idempotency_key=step_key(input.shipment_id, "finance-notify"),
        )
        if input.delivered_at is not None:
            record_invoice_lag((datetime.now(UTC) - input.delivered_at).total_seconds())

    def by_partner(self) -> dict[str, list[Callable[..., Any]]]:
        """The activities each partner's task queue serves."""
        return {
            ODOO.partner: [self.accept_order, self.write_tracking_ref, self.release_invoice],
            TMS.partner: [self.create_transport_order],
            CARRIER_ACTIVITIES: [self.book_carrier],
            BROKER.partner: [self.file_customs],
            NOTIFY.partner: [self.notify_finance],
        }  # fmt: skip
