"""``borderflow demo``: create sale orders in Odoo, ship them through the API, follow them.

It talks to the platform only over HTTP: Odoo's JSON-RPC API to create the orders (as a sales
user would) and the Borderflow API to start and follow the shipments.

A demo that fails says why in one line (:func:`failure_reason`): the error's message, or its
type's name when the message is empty (``httpx.ReadTimeout('')``), never an empty reason.
"""

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from activities.odoo import OdooClient, many2one_id
from canonical.shipment import Stage

DEMO_PACKAGE = {"weight_kg": "2.5", "length_cm": "40", "width_cm": "30", "height_cm": "20"}
POLL_INTERVAL_S = 0.5


async def create_demo_order(odoo: OdooClient, index: int) -> str:
    """Create a quotation for a foreign customer (DAP) and return its name, e.g. ``S00007``."""
    (company,) = await odoo.search_read("res.company", [], ["partner_id"], limit=1)
    customers = await odoo.search_read(
        "res.partner",
        [["is_company", "=", True], ["id", "!=", many2one_id(company["partner_id"])]],
        ["name"],
        order="id asc",
    )
    products = await odoo.search_read("product.product", [], ["list_price"], order="id asc")
    incoterms = await odoo.search_read("account.incoterms", [["code", "=", "DAP"]], ["code"])
    if not customers or not products or not incoterms:
        raise RuntimeError("Odoo has no customers, products or DAP Incoterm to build a demo order")
    customer = customers[index % len(customers)]
    product = products[index % len(products)]
    order_id = await odoo.create(
        "sale.order",
        {
            "partner_id": customer["id"],
            "partner_shipping_id": customer["id"],
            "incoterm": incoterms[0]["id"],
            "incoterm_location": "Consignee's door",
            "client_order_ref": f"DEMO-{index + 1}",
            "order_line": [
                [
                    0,
                    0,
                    {
                        "product_id": product["id"],
                        "product_uom_qty": 2,
                        "price_unit": product["list_price"],
                    },
                ]
            ],
        },
    )
    order = await odoo.read_one("sale.order", order_id, ["name"])
    return str(order["name"])


async def start_shipment(api: httpx.AsyncClient, order_ref: str) -> dict[str, Any]:
    response = await api.post(
        "/v1/shipments", json={"order_ref": order_ref, "packages": [DEMO_PACKAGE]}
    )
    if response.status_code not in (200, 201):
        raise RuntimeError(
            f"starting {order_ref} failed: HTTP {response.status_code} {response.text}"
        )
    result: dict[str, Any] = response.json()
    return result


class CustomsOffice:
    """The demo's exception path: the broker holds the first declaration, ops resolve the hold
    through the API, and the customs office (the broker simulator) then releases it."""

    def __init__(self, api: httpx.AsyncClient, broker_url: str, say: Callable[[str], None]):
        self._api = api
        self._broker = httpx.AsyncClient(base_url=broker_url, timeout=15.0)
        self._say = say
        self._resolved: set[str] = set()

    async def aclose(self) -> None:
        await self._broker.aclose()

    async def hold_next_declaration(self) -> None:
        faults = {"customs": {"hold_next": 1, "hold_reason": "customs_documentation"}}
        (await self._broker.post("/_sim/faults", json=faults)).raise_for_status()

    async def handle(self, status: dict[str, Any]) -> None:
        """Resolve a HELD declaration of ``status`` once, as ops would, then release it."""
        for declaration in status.get("customs", []):
            key = f"{status['shipment_id']}:{declaration['direction']}"
            if declaration["status"] != "HELD" or key in self._resolved:
                continue
            self._resolved.add(key)
            shipment_id = status["shipment_id"]
            self._say(f"  {shipment_id}: customs hold ({declaration['hold_reason']}): "
                      "ops send the documents and resolve it")  # fmt: skip
            body = {"kind": "customs_hold", "note": "commercial invoice sent to the broker"}
            response = await self._api.post(f"/v1/shipments/{shipment_id}/resolve", json=body)
            if response.status_code != 200:
                raise RuntimeError(f"resolving the hold of {shipment_id} failed: HTTP "
                                   f"{response.status_code} {response.text}")  # fmt: skip
            release = f"/_sim/declarations/{declaration['declaration_id']}/release"
            (await self._broker.post(release)).raise_for_status()
            self._say(f"  {shipment_id}: hold resolved, customs released the declaration")


async def follow(
    api: httpx.AsyncClient,
    shipment_ids: list[str],
    *,
    timeout_s: float,
    say: Callable[[str], None],
    office: CustomsOffice | None = None,
) -> dict[str, dict[str, Any]]:
    """Poll each shipment until it is final (or the time is up), reporting every new stage."""
    started = time.monotonic()
    reported: dict[str, int] = {shipment_id: 0 for shipment_id in shipment_ids}
    final: dict[str, dict[str, Any]] = {}
    while len(final) < len(shipment_ids) and time.monotonic() - started < timeout_s:
        for shipment_id in shipment_ids:
            if shipment_id in final:
                continue
            response = await api.get(f"/v1/shipments/{shipment_id}")
            if response.status_code != 200:
                continue  # not queryable yet (worker busy or starting): try again shortly
            status = response.json()
            for reached in status["stages"][reported[shipment_id] :]:
                elapsed = time.monotonic() - started
                say(f"  {shipment_id}: {reached['stage']:<9} (+{elapsed:5.1f} s)")
            reported[shipment_id] = len(status["stages"])
            if office is not None:
                await office.handle(status)
            if Stage(status["stage"]).is_final:
                final[shipment_id] = status
        await asyncio.sleep(POLL_INTERVAL_S)
    return final


def failure_reason(err: BaseException) -> str:
    """Why the demo failed, never empty: the first line of ``err``'s message, else its type."""
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__


def summary(status: dict[str, Any]) -> str:
    refs = status["references"]
    if status["stage"] == Stage.INVOICED:
        return (
            f"{status['shipment_id']} invoiced: {refs['invoice_name']}, tracking "
            f"{refs['tracking_number']}, {len(status['events'])} events"
        )
    return f"{status['shipment_id']} {status['stage']}: {status.get('rejection')}"


async def run_demo(
    *,
    api_url: str,
    token: str,
    odoo: OdooClient,
    count: int,
    timeout_s: float,
    say: Callable[[str], None],
    broker_url: str | None = None,
) -> bool:
    """Ship ``count`` demo orders to invoice. True when every one of them was invoiced.

    With ``broker_url`` (the broker simulator), the first declaration is held by customs and
    resolved by ops through the API: the demo shows an exception path, not only the happy one.
    """
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=api_url, timeout=15.0, headers=headers) as api:
        office = CustomsOffice(api, broker_url, say) if broker_url else None
        if office is not None:
            await office.hold_next_declaration()
        started = []
        for index in range(count):
            order_ref = await create_demo_order(odoo, index)
            shipment = await start_shipment(api, order_ref)
            say(f"started {shipment['shipment_id']} for sale order {order_ref}")
            say(f"  Temporal UI: {shipment['ui_url']}")
            started.append(shipment)
        ids = [shipment["shipment_id"] for shipment in started]
        try:
            final = await follow(api, ids, timeout_s=timeout_s, say=say, office=office)
        finally:
            if office is not None:
                await office.aclose()
    ok = True
    for shipment in started:
        status = final.get(shipment["shipment_id"])
        if status is None:
            say(f"{shipment['shipment_id']} not finished after {timeout_s:.0f} s")
            ok = False
            continue
        say(summary(status))
        say(f"  history: {shipment['ui_url']}")
        ok = ok and status["stage"] == Stage.INVOICED
    return ok


__all__ = [
    "CustomsOffice",
    "create_demo_order",
    "failure_reason",
    "follow",
    "run_demo",
    "start_shipment",
    "summary",
]
