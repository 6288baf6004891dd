"""Lifecycle activities beyond the happy path: policy, final charges, escalation, compensation.

Same guarantees as ``activities.shipment``: each is safe to run more than once, refusals are
non-retryable, outages are retried. Compensations report what they undid (``Undone``) rather
than fail on what there is nothing left to undo, so a cancelled shipment's timeline says, step
by step, what happened to each partner record.
"""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.broker import BrokerClient
from activities.carriers.port import CarrierPort
from activities.errors import business_error
from activities.models import (
    CancelBookingInput,
    CancelDeclarationInput,
    CancelTransportInput,
    CarrierBooking,
    EscalationInput,
    FinalCharges,
    FinalChargesInput,
    NotifyInput,
    PolicyInput,
    ReverseOrderInput,
    Undone,
)
from activities.notify import Channel, Notification, Notifier
from activities.odoo import OdooClient
from activities.odoo_sales import OdooSales
from activities.tms import TmsClient
from canonical.booking import CarrierBooking as CanonicalBooking
from canonical.shipment import ServiceLevel
from observability.metrics import record_sla_breach
from workflows.partners import BROKER, CARRIER_ACTIVITIES, LOCAL, NOTIFY, ODOO, TMS
from workflows.policy import DEFAULT_POLICY_FILE, ShipmentPolicy, load_policy_file

POLICY_FILE_ENV = "BORDERFLOW_SLA_POLICY"


def policy_path() -> Path:
    """The policy file: ``BORDERFLOW_SLA_POLICY`` or the one shipped with the workflows."""
    return Path(os.environ.get(POLICY_FILE_ENV) or DEFAULT_POLICY_FILE)


def canonical_booking(booking: CarrierBooking) -> CanonicalBooking:
    return CanonicalBooking(
        carrier=booking.carrier,
        booking_reference=booking.carrier_shipment_id,
        tracking_numbers=[booking.tracking_number],
        charges=booking.charges,
    )


class LifecycleActivities:
    def __init__(
        self,
        *,
        odoo: OdooClient,
        tms: TmsClient,
        carriers: dict[str, CarrierPort],
        broker: BrokerClient,
        notifier: Notifier,
    ) -> None:
        self._sales = OdooSales(odoo)
        self._tms = tms
        self._carriers = carriers
        self._broker = broker
        self._notifier = notifier

    @activity.defn
    async def load_shipment_policy(self, input: PolicyInput) -> ShipmentPolicy:
        """The SLA policy and lane carriers for one shipment (read once, kept in history)."""
        try:
            policy = load_policy_file(policy_path())
        except (OSError, ValueError) as err:
            # Retried (not a business refusal): ops can fix the file and the shipment goes on.
            raise ApplicationError(
                f"the shipment policy file is unusable: {err}", type="PolicyUnusable"
            ) from None
        return policy.for_shipment(
            ServiceLevel(input.service_level), input.lane, input.carrier, self._carriers
        )

    @activity.defn
    async def final_charges(self, input: FinalChargesInput) -> FinalCharges:
        carrier = self._carrier(input.booking.carrier)
        charges = await carrier.final_charges(canonical_booking(input.booking))
        return FinalCharges(charges=charges or [], final=charges is not None)

    @activity.defn
    async def notify(self, input: NotifyInput) -> None:
        """Post one notification to ops, finance or the account team (once per key)."""
        await self._notifier.send(
            Notification(
                channel=Channel(input.channel), event=input.event, shipment_id=input.shipment_id,
                order_ref=input.order_ref, title=input.title, text=input.text,
                details=input.details,
            ),
            idempotency_key=input.key,
        )  # fmt: skip
        if input.event.startswith("sla.") and input.event.endswith(".breach"):
            record_sla_breach(input.event.split(".")[1])

    @activity.defn
    async def open_escalation(self, input: EscalationInput) -> None:
        """A to-do for the account team on the sale order (once per key)."""
        await self._sales.schedule_activity(
            input.sale_order_id, input.key, input.summary, input.note, input.deadline
        )

    # -- compensation -----------------------------------------------------------------------

    @activity.defn
    async def cancel_carrier_booking(self, input: CancelBookingInput) -> Undone:
        await self._carrier(input.booking.carrier).cancel(canonical_booking(input.booking))
        return Undone(outcome=f"{input.booking.carrier} booking "
                              f"{input.booking.carrier_shipment_id} cancelled")  # fmt: skip

    @activity.defn
    async def cancel_transport_order(self, input: CancelTransportInput) -> Undone:
        await self._tms.cancel_transport_order(
            input.transport_order_id, idempotency_key=f"{input.shipment_id}:cancel-transport"
        )
        return Undone(outcome=f"TMS order {input.transport_order_id} cancelled")

    @activity.defn
    async def cancel_customs_declaration(self, input: CancelDeclarationInput) -> Undone:
        await self._broker.cancel_declaration(
            input.declaration_id,
            idempotency_key=f"{input.shipment_id}:cancel-customs-{input.direction.value}",
        )
        return Undone(outcome=f"{input.direction.value} declaration {input.declaration_id} "
                              "withdrawn")  # fmt: skip

    @activity.defn
    async def reverse_odoo_order(self, input: ReverseOrderInput) -> Undone:
        """Cancel the delivery (unless done) and credit a posted invoice."""
        done = []
        if input.invoice_id is not None:
            credit = await self._sales.credit_invoice(input.invoice_id, input.reason)
            done.append(f"invoice {input.invoice_id} credited ({credit})")
        if input.picking_id is not None:
            try:
                await self._sales.cancel_picking(input.picking_id)
                done.append(f"delivery {input.picking_id} cancelled")
            except ApplicationError as err:
                if err.type != "PickingDone":
                    raise
                done.append(f"delivery {input.picking_id} already done: left as is")
        return Undone(outcome="; ".join(done) or "nothing to undo in Odoo")

    def _carrier(self, name: str) -> CarrierPort:
        carrier = self._carriers.get(name)
        if carrier is None:
            raise business_error(name, "no such carrier is configured", type="UnknownCarrier")
        return carrier

    def by_partner(self) -> dict[str, list[Callable[..., Any]]]:
        """The activities each partner's task queue serves."""
        return {
            ODOO.partner: [self.open_escalation, self.reverse_odoo_order],
            TMS.partner: [self.cancel_transport_order],
            CARRIER_ACTIVITIES: [self.final_charges, self.cancel_carrier_booking],
            BROKER.partner: [self.cancel_customs_declaration],
            NOTIFY.partner: [self.notify],
            LOCAL.partner: [self.load_shipment_policy],
        }
