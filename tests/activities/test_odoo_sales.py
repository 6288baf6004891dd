"""Odoo side effects of a shipment, each run twice: the second run changes nothing."""

from datetime import date
from decimal import Decimal

import pytest
from activity_partners import Partners
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.models import AcceptOrderInput, ReleaseInvoiceInput
from activities.odoo_sales import OdooSales
from canonical.goods import Package

PACKAGE = Package(weight_kg=Decimal(1), length_cm=Decimal(10), width_cm=Decimal(10),
                  height_cm=Decimal(10))  # fmt: skip


async def accepted_order(partners: Partners) -> tuple[OdooSales, int, int | None, str]:
    odoo = partners.odoo
    order_id = await odoo.create("sale.order", {"partner_id": 8, "incoterm": 7, "order_line": [
        [0, 0, {"product_id": 2, "product_uom_qty": 1, "price_unit": 49.5}]]})  # fmt: skip
    name = (await odoo.read_one("sale.order", order_id, ["name"]))["name"]
    sales = OdooSales(odoo)
    accepted = await sales.accept(
        AcceptOrderInput(
            order_ref=name, carrier="easypost", service_level="standard", packages=[PACKAGE]
        )
    )
    return sales, order_id, accepted.picking_id, name


async def test_a_milestone_note_is_posted_once_per_event(partners: Partners) -> None:
    sales, order_id, _, _ = await accepted_order(partners)
    first = await sales.post_note(order_id, "evt-1", "Picked up in Hamburg")
    again = await sales.post_note(order_id, "evt-1", "Picked up in Hamburg")
    other = await sales.post_note(order_id, "evt-2", "Departed")
    assert first == again != other
    messages = await partners.odoo.search_read(
        "mail.message", [["model", "=", "sale.order"], ["res_id", "=", order_id]], ["body"]
    )
    assert sum("Picked up" in m["body"] for m in messages) == 1


async def test_an_escalation_activity_is_scheduled_once_per_key(partners: Partners) -> None:
    sales, order_id, _, _ = await accepted_order(partners)
    for _ in "ab":
        await sales.schedule_activity(
            order_id,
            "sla-book-breach",
            "SLA breach: booking",
            "Booking is overdue",
            date(2026, 12, 1),
        )
    activities = await partners.odoo.search_read(
        "mail.activity", [["res_model", "=", "sale.order"], ["res_id", "=", order_id]],
        ["summary", "date_deadline"])  # fmt: skip
    assert [a["summary"] for a in activities] == ["SLA breach: booking"]


async def test_cancelling_the_delivery_twice_cancels_it_once(partners: Partners) -> None:
    sales, _, picking_id, _ = await accepted_order(partners)
    assert picking_id is not None
    for _ in "ab":
        await sales.cancel_picking(picking_id)
    picking = await partners.odoo.read_one("stock.picking", picking_id, ["state"])
    assert picking["state"] == "cancel"
    assert len(await partners.calls("action_cancel")) == 1


async def test_a_posted_invoice_is_credited_once(partners: Partners) -> None:
    sales, order_id, _, name = await accepted_order(partners)
    invoice = await ActivityEnvironment().run(sales.release_invoice, ReleaseInvoiceInput(
        shipment_id=f"shipment-{name}", order_ref=name, sale_order_id=order_id))  # fmt: skip
    credits = {await sales.credit_invoice(invoice.invoice_id, "shipment cancelled")
               for _ in "ab"}  # fmt: skip
    assert len(credits) == 1
    (credit,) = await partners.odoo.read(
        "account.move", list(credits), ["move_type", "state", "reversed_entry_id"]
    )
    assert (credit["move_type"], credit["state"]) == ("out_refund", "posted")
    assert credit["reversed_entry_id"][0] == invoice.invoice_id


async def test_a_done_delivery_cannot_be_cancelled(partners: Partners) -> None:
    sales, _, picking_id, _ = await accepted_order(partners)
    assert picking_id is not None
    await partners.odoo.write("stock.picking", [picking_id], {"state": "done"})
    assert (await partners.odoo.read_one("stock.picking", picking_id, ["state"]))["state"] == "done"
    with pytest.raises(ApplicationError) as caught:
        await sales.cancel_picking(picking_id)
    assert caught.value.non_retryable and caught.value.type == "PickingDone"
