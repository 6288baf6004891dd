"""The reconciliation's partner activities against the simulators, each run twice.

Odoo's view of a shipment, the tracking-ref repair (written once, never over someone's edit)
and the broker poll (one stable event per status). The carrier polls reuse the carrier
adapters' ``track``, covered by their contract tests; the Temporal side runs end to end in
``tests/e2e/test_platform_reconciliation.py``.
"""

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import cast

import pytest
from activity_partners import SECRETS, Partners
from pydantic import SecretStr
from sim_admin import shipment
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.exceptions import ApplicationError

from activities.broker import BrokerClient
from activities.models import AcceptOrderInput, ReleaseInvoiceInput
from activities.odoo_sales import OdooSales
from activities.reconcile import ReconcileActivities
from activities.reconcile_models import (
    OdooRef,
    OdooViewInput,
    PollBrokerInput,
    RepairTrackingRefInput,
)
from canonical.goods import Package
from canonical.milestones import Milestone

PACKAGE = Package(
    weight_kg=Decimal(1), length_cm=Decimal(10), width_cm=Decimal(10), height_cm=Decimal(10)
)


@pytest.fixture
async def broker(partners: Partners) -> AsyncIterator[BrokerClient]:
    client = BrokerClient(partners.sims.url("broker"), SecretStr(SECRETS["broker_api_key"]))
    yield client
    await client.aclose()


@pytest.fixture
def activities(partners: Partners, broker: BrokerClient) -> ReconcileActivities:
    """Bound to the simulators; no Temporal client nor store (these activities use neither)."""
    return ReconcileActivities(
        client=cast(Client, None),
        odoo=partners.odoo,
        carriers={},
        broker=broker,
        store=cast(Engine, None),
    )


async def accepted(partners: Partners) -> tuple[str, int]:
    odoo = partners.odoo
    order_id = await odoo.create(
        "sale.order",
        {
            "partner_id": 8,
            "incoterm": 7,
            "order_line": [[0, 0, {"product_id": 2, "product_uom_qty": 1, "price_unit": 49.5}]],
        },
    )
    name = (await odoo.read_one("sale.order", order_id, ["name"]))["name"]
    done = await OdooSales(odoo).accept(
        AcceptOrderInput(
            order_ref=name, carrier="easypost", service_level="standard", packages=[PACKAGE]
        )
    )
    assert done.picking_id is not None
    return name, done.picking_id


async def test_odoo_view_reads_orders_deliveries_and_invoices_of_many_shipments(
    partners: Partners, activities: ReconcileActivities
) -> None:
    first, first_picking = await accepted(partners)
    second, second_picking = await accepted(partners)
    await partners.odoo.write("stock.picking", [first_picking], {"carrier_tracking_ref": "EZ1"})
    invoice = await OdooSales(partners.odoo).release_invoice(
        ReleaseInvoiceInput(
            shipment_id=f"shipment-{second}",
            order_ref=second,
            sale_order_id=(
                await partners.odoo.search_read("sale.order", [["name", "=", second]], ["id"])
            )[0]["id"],
        )
    )
    refs = [
        OdooRef(shipment_id=f"shipment-{first}", order_ref=first, picking_id=first_picking),
        OdooRef(
            shipment_id=f"shipment-{second}",
            order_ref=second,
            picking_id=second_picking,
            invoice_id=invoice.invoice_id,
        ),
        OdooRef(shipment_id="shipment-S99999", order_ref="S99999", picking_id=99999),
    ]
    view = await activities.odoo_view(OdooViewInput(shipments=refs))
    one, two, unknown = view.records
    assert (one.order_state, one.picking_found, one.tracking_ref, one.invoices) == (
        "sale",
        True,
        "EZ1",
        [],
    )
    assert two.tracking_ref is None
    assert [(i.id, i.state) for i in two.invoices] == [(invoice.invoice_id, "posted")]
    assert (unknown.order_state, unknown.picking_found) == (None, False)


async def test_the_tracking_ref_repair_writes_once_and_never_over_an_edit(
    partners: Partners, activities: ReconcileActivities
) -> None:
    _, picking_id = await accepted(partners)
    repair = RepairTrackingRefInput(shipment_id="s", picking_id=picking_id, tracking_number="EZ7")
    first = await activities.repair_tracking_ref(repair)
    again = await activities.repair_tracking_ref(repair)
    assert first.repaired and again.repaired
    writes = [
        c
        for c in await partners.calls("write")
        if c["model"] == "stock.picking" and c["args"][0] == [picking_id]
    ]
    assert len(writes) == 1
    await partners.odoo.write("stock.picking", [picking_id], {"carrier_tracking_ref": "1Z-HAND"})
    kept = await activities.repair_tracking_ref(repair)
    assert not kept.repaired and "1Z-HAND" in kept.detail
    (picking,) = await partners.odoo.read("stock.picking", [picking_id], ["carrier_tracking_ref"])
    assert picking["carrier_tracking_ref"] == "1Z-HAND"


async def test_a_broker_poll_gives_the_status_as_one_stable_event(
    broker: BrokerClient, activities: ReconcileActivities
) -> None:
    filed = await broker.file_export_declaration(
        "shipment-S00042", shipment("easypost"), "EZ1", idempotency_key="k-1"
    )
    poll = PollBrokerInput(shipment_id="shipment-S00042", declaration_id=filed.id)
    first = (await activities.poll_broker(poll)).events
    again = (await activities.poll_broker(poll)).events
    assert [e.milestone for e in first] == [Milestone.CUSTOMS_SUBMITTED]  # one step per hour
    assert [e.event_id for e in first] == [e.event_id for e in again]
    with pytest.raises(ApplicationError, match="belongs to shipment-S00042") as refused:
        await activities.poll_broker(poll.model_copy(update={"shipment_id": "shipment-S00043"}))
    assert refused.value.non_retryable
