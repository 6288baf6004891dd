"""Each activity against the simulators: it does its job, and running it twice changes nothing.

Temporal retries activities after timeouts and crashes, so "twice" is a normal case.
"""

from decimal import Decimal

import httpx
import pytest
from activity_partners import Partners
from sqlmodel import Session
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.models import (
    AcceptOrderInput,
    FileCustomsInput,
    NotifyFinanceInput,
    ReleaseInvoiceInput,
    StepInput,
    WriteTrackingRefInput,
)
from canonical.goods import Package
from canonical.shipment import Incoterm
from store.tracking import TrackingLink, shipment_for_tracking

PACKAGE = Package(
    weight_kg=Decimal("2"), length_cm=Decimal(30), width_cm=Decimal(20), height_cm=Decimal(10)
)
CUSTOMER = 7  # seeded: Northwind Robotics Inc. (US)


async def new_order(partners: Partners, product_id: int = 1, incoterm: int | None = 4) -> str:
    values = {
        "partner_id": CUSTOMER,
        "partner_shipping_id": CUSTOMER,
        "order_line": [
            [0, 0, {"product_id": product_id, "product_uom_qty": 2, "price_unit": 899.0}]
        ],
    }
    if incoterm:
        values["incoterm"] = incoterm
    order_id = await partners.odoo.create("sale.order", values)
    return str((await partners.odoo.read_one("sale.order", order_id, ["name"]))["name"])


def accept_input(order_ref: str) -> AcceptOrderInput:
    return AcceptOrderInput(
        order_ref=order_ref, carrier="easypost", service_level="standard", packages=[PACKAGE]
    )


async def test_accept_builds_the_shipment_from_odoo_and_confirms_once(partners: Partners) -> None:
    order_ref = await new_order(partners)
    env = ActivityEnvironment()
    first = await env.run(partners.activities.accept_order, accept_input(order_ref))
    second = await env.run(partners.activities.accept_order, accept_input(order_ref))

    assert first == second
    shipment = first.shipment
    assert shipment.order_ref == order_ref
    assert shipment.shipper.address.country == "DE"
    assert shipment.consignee.address.country == "US"
    # the ordering customer's Odoo id: what the `Customer` search attribute shows (no name)
    assert shipment.references.customer_id == CUSTOMER
    assert shipment.incoterm is Incoterm.CIP
    (line,) = shipment.commodities
    assert (line.hs6, line.origin_country, line.unit) == ("847130", "CN", "C62")
    assert line.value.amount == Decimal("1798") and line.value.currency == "EUR"
    assert first.picking_id is not None
    assert first.order is not None and first.order.erp_reference == order_ref
    assert first.order.lines[0].unit_price.amount == Decimal("899")
    confirms = await partners.calls("action_confirm")
    assert len(confirms) == 1


@pytest.mark.parametrize(
    ("order_ref", "error_type", "message"),
    [("S99999", "OrderNotFound", "S99999 not found")],
)
async def test_accept_refuses_an_unknown_order(
    partners: Partners, order_ref: str, error_type: str, message: str
) -> None:
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(partners.activities.accept_order, accept_input(order_ref))
    assert caught.value.non_retryable and caught.value.type == error_type
    assert message in caught.value.message


async def test_accept_names_what_odoo_lacks_and_confirms_nothing(partners: Partners) -> None:
    bare = await partners.odoo.create("product.product", {"name": "Mystery box"})
    order_ref = await new_order(partners, product_id=bare, incoterm=None)
    with pytest.raises(ApplicationError) as caught:
        await ActivityEnvironment().run(partners.activities.accept_order, accept_input(order_ref))
    assert caught.value.non_retryable and caught.value.type == "InvalidOrder"
    for field in ("incoterm", "commodities.0.hs6", "commodities.0.origin_country"):
        assert field in caught.value.message
    assert await partners.calls("action_confirm") == []


async def test_booking_steps_twice_book_once(partners: Partners) -> None:
    env = ActivityEnvironment()
    accepted = await env.run(
        partners.activities.accept_order, accept_input(await new_order(partners))
    )
    step = StepInput(
        shipment_id=f"shipment-{accepted.shipment.order_ref}", shipment=accepted.shipment
    )
    orders = [await env.run(partners.activities.create_transport_order, step) for _ in "ab"]
    bookings = [await env.run(partners.activities.book_carrier, step) for _ in "ab"]
    assert orders[0] == orders[1]
    assert bookings[0] == bookings[1] and bookings[0].tracking_number

    # The booking linked its tracking number before it returned (webhooks can follow at once).
    assert shipment_for_tracking(partners.store, "easypost", bookings[0].tracking_number) == (
        step.shipment_id
    )
    write = WriteTrackingRefInput(
        picking_id=accepted.picking_id or 0, tracking_number=bookings[0].tracking_number
    )
    for _ in "ab":
        await env.run(partners.activities.write_tracking_ref, write)
    picking = await partners.odoo.read_one(
        "stock.picking", accepted.picking_id or 0, ["carrier_tracking_ref"]
    )
    assert picking["carrier_tracking_ref"] == bookings[0].tracking_number
    assert len(await partners.calls("write")) == 1

    customs = FileCustomsInput(
        shipment_id=step.shipment_id,
        shipment=accepted.shipment,
        tracking_number=bookings[0].tracking_number,
    )
    filings = [await env.run(partners.activities.file_customs, customs) for _ in "ab"]
    assert filings[0] == filings[1]


async def test_tracking_number_of_another_shipment_is_refused(partners: Partners) -> None:
    env = ActivityEnvironment()
    accepted = await env.run(
        partners.activities.accept_order, accept_input(await new_order(partners))
    )
    step = StepInput(shipment_id="shipment-A", shipment=accepted.shipment)
    booking = await env.run(partners.activities.book_carrier, step)
    # Another shipment owns the number by now (a carrier reusing numbers): the repeat of the
    # booking (the carrier dedupes it and answers the same number) refuses to re-link it.
    with Session(partners.store) as session:
        link = session.get(TrackingLink, ("easypost", booking.tracking_number))
        assert link is not None
        link.shipment_id = "shipment-B"
        session.add(link)
        session.commit()
    with pytest.raises(ApplicationError) as caught:
        await env.run(partners.activities.book_carrier, step)
    assert caught.value.non_retryable and caught.value.type == "TrackingConflict"
    assert shipment_for_tracking(partners.store, "easypost", booking.tracking_number) == (
        "shipment-B"
    )


async def test_invoice_is_created_and_posted_once_however_often_it_runs(
    partners: Partners,
) -> None:
    env = ActivityEnvironment()
    accepted = await env.run(
        partners.activities.accept_order, accept_input(await new_order(partners))
    )
    order_ref = accepted.shipment.order_ref
    release = ReleaseInvoiceInput(
        shipment_id=f"shipment-{order_ref}",
        order_ref=order_ref,
        sale_order_id=accepted.sale_order_id,
    )
    invoices = [await env.run(partners.activities.release_invoice, release) for _ in range(3)]
    assert invoices[0] == invoices[1] == invoices[2]
    assert invoices[0].invoice_name.startswith("INV/")
    assert invoices[0].amount_total == Decimal("1798") and invoices[0].currency == "EUR"
    moves = await partners.odoo.search_read(
        "account.move", [["invoice_origin", "=", order_ref]], ["state"]
    )
    assert [m["state"] for m in moves] == ["posted"]
    assert len(await partners.calls("action_post")) == 1

    notify = NotifyFinanceInput(
        shipment_id=release.shipment_id, order_ref=order_ref, invoice=invoices[0]
    )
    for _ in "ab":
        await env.run(partners.activities.notify_finance, notify)
    async with httpx.AsyncClient() as http:
        messages = (await http.get(f"{partners.sims.url('notify')}/_sim/messages")).json()
    assert [m["message"]["borderflow"]["invoice_name"] for m in messages] == [
        invoices[0].invoice_name
    ]


async def test_a_wrong_odoo_password_is_a_business_error(partners: Partners) -> None:
    from pydantic import SecretStr

    from activities.odoo import OdooClient

    wrong = OdooClient(partners.sims.url("odoo"), "borderflow", "admin", SecretStr("nope"))
    try:
        with pytest.raises(ApplicationError) as caught:
            await wrong.search_read("sale.order", [], ["name"])
        assert caught.value.non_retryable and caught.value.type == "AccessDenied"
        assert "nope" not in caught.value.message
    finally:
        await wrong.aclose()
