"""Payload shapes of released workflow code, kept so old histories still replay.

Version 1 (the first release) recorded an ``AcceptedOrder`` whose commodities carried
``hs_code`` and a line ``value``, and took milestones as ``MilestoneEvent`` signals. Shipments
started under version 1 (no ``canonical-v2`` patch marker in their history) read those payloads
with the models below and upgrade them to today's canonical models. Never change these models:
they describe history that exists.
"""

from datetime import datetime
from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from activities.models import AcceptedOrder
from canonical.events import EventLocation, EventSource, ShipmentEvent, event_id_for
from canonical.goods import Package
from canonical.milestones import Milestone, ProofOfDelivery
from canonical.shipment import Shipment

CANONICAL_V2 = "canonical-v2"
"""Patch id of the switch to the complete canonical model (strict commodities, events)."""


class _V1(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MoneyV1(_V1):
    amount: Decimal
    currency: str


class AddressV1(_V1):
    lines: list[str]
    city: str
    postal_code: str | None = None
    country: str


class PartyV1(_V1):
    name: str
    address: AddressV1
    vat: str | None = None
    email: str | None = None
    phone: str | None = None


class CommodityV1(_V1):
    description: str
    hs_code: str
    origin_country: str
    quantity: Decimal
    value: MoneyV1


class ShipmentV1(_V1):
    order_ref: str
    shipper: PartyV1
    consignee: PartyV1
    incoterm: str
    incoterm_place: str | None = None
    currency: str
    commodities: list[CommodityV1]
    packages: list[Package]
    carrier: str
    service_level: str

    def upgrade(self) -> Shipment:
        data = self.model_dump(exclude={"commodities"})
        data["commodities"] = [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_value": {
                    "amount": (line.value.amount / line.quantity).quantize(Decimal("0.000001")),
                    "currency": line.value.currency,
                },
                "hs6": line.hs_code[:6],
                "origin_country": line.origin_country,
            }
            for line in self.commodities
        ]
        return Shipment.model_validate(data, strict=False)


class AcceptedOrderV1(_V1):
    shipment: ShipmentV1
    sale_order_id: int
    picking_id: int | None

    def upgrade(self) -> AcceptedOrder:
        return AcceptedOrder(
            shipment=self.shipment.upgrade(),
            sale_order_id=self.sale_order_id,
            picking_id=self.picking_id,
        )


class MilestoneEventV1(_V1):
    milestone: Milestone
    occurred_at: AwareDatetime
    partner: str
    partner_event_id: str
    raw_code: str | None = None
    location: str | None = None
    description: str | None = None
    proof_of_delivery: ProofOfDelivery | None = None

    def upgrade(self, recorded_at: datetime) -> ShipmentEvent:
        return ShipmentEvent(
            event_id=event_id_for(self.partner, self.partner_event_id),
            dedupe_key=self.partner_event_id,
            milestone=self.milestone,
            occurred_at=self.occurred_at,
            recorded_at=recorded_at,
            location=EventLocation(name=self.location) if self.location else None,
            reason=self.description,
            source=EventSource(
                partner=self.partner,
                partner_event_id=self.partner_event_id,
                raw_code=self.raw_code,
            ),
            proof_of_delivery=self.proof_of_delivery,
        )
