"""Round trips to Odoo per shipment, counted at the Odoo simulator: each one costs worker CPU.

Accepting an order reads reference data (company partner, countries, incoterms) once per
client; releasing an invoice posts the draft it just created, then reads it once.
"""

from decimal import Decimal

import httpx
from activity_partners import Partners
from temporalio.testing import ActivityEnvironment

from activities.models import AcceptOrderInput, ReleaseInvoiceInput
from activities.odoo import ReferenceCache
from activities.odoo_sales import OdooSales
from canonical.goods import Package

PACKAGE = Package(weight_kg=Decimal(1), length_cm=Decimal(10), width_cm=Decimal(10),
                  height_cm=Decimal(10))  # fmt: skip
ORDER_READS = [
    ("sale.order", "search_read"),
    ("res.partner", "read"),
    ("sale.order.line", "read"),
    ("product.product", "read"),
]
CONFIRM_AND_DELIVERY = [("sale.order", "action_confirm"), ("stock.picking", "search_read")]


async def calls_since(partners: Partners, start: int) -> list[dict]:
    async with httpx.AsyncClient() as http:
        calls: list[dict] = (await http.get(f"{partners.sims.url('odoo')}/_sim/calls")).json()
    return calls[start:]


async def call_count(partners: Partners) -> int:
    return len(await calls_since(partners, 0))


def trips(calls: list[dict]) -> list[tuple[str, str]]:
    return [(call["model"], call["method"]) for call in calls]


async def new_order(partners: Partners, customer: int, product: int, incoterm: int) -> str:
    odoo = partners.odoo
    order_id = await odoo.create("sale.order", {"partner_id": customer, "incoterm": incoterm,
        "order_line": [[0, 0, {"product_id": product, "product_uom_qty": 1,
                               "price_unit": 49.5}]]})  # fmt: skip
    return str((await odoo.read_one("sale.order", order_id, ["name"]))["name"])


async def accept(partners: Partners, name: str) -> tuple[list[dict], int, tuple[str, str]]:
    start = await call_count(partners)
    accepted = await OdooSales(partners.odoo).accept(
        AcceptOrderInput(
            order_ref=name, carrier="easypost", service_level="standard", packages=[PACKAGE]
        )
    )
    shipment = accepted.shipment
    assert shipment.incoterm is not None
    place = (str(shipment.consignee.address.country), shipment.incoterm.value)
    return await calls_since(partners, start), accepted.sale_order_id, place


async def test_accept_reads_reference_data_once_per_client(partners: Partners) -> None:
    first, _, place = await accept(partners, await new_order(partners, 8, 2, 7))
    assert place == ("GB", "DDP")
    assert trips(first) == [
        *ORDER_READS[:1],
        ("res.company", "read"),
        *ORDER_READS[1:],
        ("res.country", "read"),
        ("account.incoterms", "read"),
        *CONFIRM_AND_DELIVERY,
    ]
    again, _, place = await accept(partners, await new_order(partners, 8, 2, 7))
    assert place == ("GB", "DDP")
    assert trips(again) == [*ORDER_READS, *CONFIRM_AND_DELIVERY]  # 6 round trips, not 9
    # A new customer, product and incoterm: only what is missing, each model in one call.
    other, _, place = await accept(partners, await new_order(partners, 7, 1, 5))
    assert place == ("US", "DAP")
    assert trips(other) == [
        *ORDER_READS,
        ("res.country", "read"),
        ("account.incoterms", "read"),
        *CONFIRM_AND_DELIVERY,
    ]
    (countries,) = [c for c in other if c["model"] == "res.country"]
    assert len(countries["args"][0]) == 2  # US and CN; DE (company) and GB are known


async def test_a_repeated_accept_reads_and_does_not_confirm_again(partners: Partners) -> None:
    name = await new_order(partners, 9, 3, 9)
    await accept(partners, name)
    again, _, place = await accept(partners, name)
    assert place == ("CH", "FOB")
    assert trips(again) == [*ORDER_READS, ("stock.picking", "search_read")]


async def test_release_creates_posts_and_reads_the_invoice_once(partners: Partners) -> None:
    name = await new_order(partners, 8, 2, 7)
    _, order_id, _ = await accept(partners, name)
    release = ReleaseInvoiceInput(
        shipment_id=f"shipment-{name}", order_ref=name, sale_order_id=order_id
    )
    start = await call_count(partners)
    invoice = await ActivityEnvironment().run(OdooSales(partners.odoo).release_invoice, release)
    made = await calls_since(partners, start)
    assert trips(made) == [
        ("account.move", "search_read"),
        ("sale.order", "read"),
        ("sale.order.line", "read"),
        ("account.move", "create"),
        ("account.move", "action_post"),
        ("account.move", "read"),
    ]  # 6 round trips, not 7
    assert invoice.invoice_name and invoice.invoice_name != "/"
    start = await call_count(partners)
    again = await ActivityEnvironment().run(OdooSales(partners.odoo).release_invoice, release)
    assert again == invoice
    assert trips(await calls_since(partners, start)) == [("account.move", "search_read")]
    assert len(await partners.calls("action_post")) == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_an_edit_in_odoo_is_seen_once_the_ttl_has_passed(partners: Partners) -> None:
    clock = Clock()
    partners.odoo.reference = ReferenceCache(600, clock=clock)
    await accept(partners, await new_order(partners, 8, 2, 7))
    await partners.odoo.write("account.incoterms", [7], {"code": "DAP"})
    clock.now += 599
    assert (await accept(partners, await new_order(partners, 8, 2, 7)))[2] == ("GB", "DDP")
    clock.now += 1
    assert (await accept(partners, await new_order(partners, 8, 2, 7)))[2] == ("GB", "DAP")


def test_reference_values_expire_and_the_cache_stays_bounded() -> None:
    clock = Clock()
    cache = ReferenceCache(10, cap=3, clock=clock)
    cache.put("res.country", "code", {1: "AD", 2: "AE"})
    clock.now += 5
    cache.put("res.country", "code", {3: "AF"})
    assert cache.get("res.country", "code", [1, 2, 3, 4]) == {1: "AD", 2: "AE", 3: "AF"}
    assert cache.get("account.incoterms", "code", [1]) == {}
    cache.put("res.country", "code", {4: "AG"})  # full: the oldest goes
    assert len(cache) == 3 and cache.get("res.country", "code", [1]) == {}
    clock.now += 5  # 2 has expired, 3 and 4 have not
    assert cache.get("res.country", "code", [2, 3, 4]) == {3: "AF", 4: "AG"}
    clock.now += 5
    cache.put("res.country", "code", {5: "AI", 6: "AL"})  # expired ones go first
    assert len(cache) <= 3
    assert cache.get("res.country", "code", [3, 4, 5, 6]) == {5: "AI", 6: "AL"}
