"""A whole shipment lifecycle booked and tracked through Karrio, on the platform as `make run`
starts it: the worker gets one Karrio connection as data (``BORDERFLOW_KARRIO_CARRIERS``,
Karrio's EasyPost extension pointed at the EasyPost simulator).

The simulator drops every tracking webhook, so each milestone the workflow sees came through
Karrio: a reconciliation run polls the shipment's carrier, the Karrio adapter, whose raw
tracker goes through our ``easypost`` dialect (the ids the webhooks would have had).
"""

import json
import secrets
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fault_drills import status, wait_until
from odoo_rpc import execute_kw
from running_platform import BORDERFLOW, Platform

from canonical.dialects import normalize

PACKAGE = {"weight_kg": "1.2", "length_cm": "30", "width_cm": "20", "height_cm": "10"}
CARRIER = "karrio-easypost"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    ports = Platform.free_ports()
    key = secrets.token_urlsafe(24)
    connection = {
        "name": CARRIER,
        "carrier": "easypost",
        "secrets": {"api_key": key},
        "server_url": f"http://127.0.0.1:{ports['sim_easypost']}/v2",
        "services": {"standard": "Standard", "express": "Express"},
        "tracking_carrier": "DHLExpress",
        "dialect": "easypost",
    }
    running = Platform(
        tmp_path_factory.mktemp("karrio") / ".data",
        demo_shipments=0,
        ports=ports,
        extra_env={
            "BORDERFLOW_CARRIER_API_KEY": key,
            "BORDERFLOW_KARRIO_CARRIERS": json.dumps([connection]),
            "BORDERFLOW_RECONCILE_EVERY_MIN": "100000",
            "BORDERFLOW_RECONCILE_STALE_AFTER_MIN": json.dumps({"delivery": 0}),
        },
    )
    try:
        running.wait_for("running:", timeout_s=150)
        yield running
    finally:
        running.stop()


def sim(platform: Platform, path: str) -> Any:
    reply = httpx.get(f"http://127.0.0.1:{platform.ports['sim_easypost']}{path}", timeout=10)
    reply.raise_for_status()
    return reply.json()


def new_order(platform: Platform) -> str:
    password = platform.local_env()["BORDERFLOW_ODOO_PASSWORD"]
    order_id = execute_kw(platform.odoo_url, password, "sale.order", "create", [{
        "partner_id": 7, "partner_shipping_id": 7, "incoterm": 5,
        "order_line": [[0, 0, {"product_id": 1, "product_uom_qty": 1, "price_unit": 899.0}]],
    }])  # fmt: skip
    (order,) = execute_kw(platform.odoo_url, password, "sale.order", "read", [[order_id]],
                          {"fields": ["name"]})  # fmt: skip
    return str(order["name"])


def test_a_shipment_is_booked_tracked_and_invoiced_through_karrio(platform: Platform) -> None:
    httpx.post(
        f"http://127.0.0.1:{platform.ports['sim_easypost']}/_sim/faults",
        json={"webhooks": {"drop_rate": 1.0}},
        timeout=10,
    ).raise_for_status()
    reply = httpx.post(
        f"{platform.api_url}/v1/shipments",
        headers=platform.headers,
        timeout=15,
        json={"order_ref": new_order(platform), "packages": [PACKAGE], "carrier": CARRIER},
    )
    assert reply.status_code == 201, reply.text
    shipment_id = reply.json()["shipment_id"]

    at_delivery = wait_until(
        "in delivery",
        lambda: (s := status(platform, shipment_id))["stage"] == "delivery" and s,
        timeout_s=90,
    )
    # Booked by Karrio's two-step flow: created rated, then bought; one label for the shipment.
    (bought,) = [s for s in sim(platform, "/_sim/shipments") if s["reference"] == shipment_id]
    assert bought["tracking_code"] == at_delivery["references"]["tracking_number"]
    paths = [r["path"] for r in sim(platform, "/_sim/requests")]
    assert f"/v2/shipments/{bought['id']}/buy" in paths

    def delivered() -> list[dict[str, Any]]:
        attempts = sim(platform, "/_sim/webhooks")
        mine = [
            a
            for a in attempts
            if a["payload"]["result"]["tracking_code"] == bought["tracking_code"]
        ]
        return mine if mine and mine[-1]["payload"]["result"]["status"] == "delivered" else []

    last = wait_until("delivered at the carrier", delivered, timeout_s=90)[-1]
    assert status(platform, shipment_id)["stage"] == "delivery"  # nothing heard: all dropped

    env = {**platform.env, "BORDERFLOW_DATA_DIR": str(platform.data_dir)}
    ran = subprocess.run([BORDERFLOW, "reconcile", "run", "--json"], env=env,
                         capture_output=True, text=True, timeout=180)  # fmt: skip
    assert ran.returncode == 0, ran.stderr

    final = wait_until(
        "invoiced",
        lambda: (s := status(platform, shipment_id))["stage"] == "invoiced" and s,
        timeout_s=90,
    )
    expected = normalize("easypost", json.dumps(last["payload"]).encode(),
                         received_at=datetime.now(UTC))  # fmt: skip
    polled = [e["event_id"] for e in final["events"] if e["source"]["partner"] == "easypost"]
    assert polled == [e.event_id for e in expected.events]
    assert "POST" in {r["method"] for r in sim(platform, "/_sim/requests")
                      if r["path"] == "/v2/trackers"}  # fmt: skip


def test_the_vendor_s_webhooks_reach_a_shipment_booked_through_karrio(platform: Platform) -> None:
    """The tracking number is linked under the vendor that pushes its scans (EasyPost), not
    the Karrio connection's name, so EasyPost's signed webhooks find the shipment."""
    httpx.delete(
        f"http://127.0.0.1:{platform.ports['sim_easypost']}/_sim/faults", timeout=10
    ).raise_for_status()
    reply = httpx.post(
        f"{platform.api_url}/v1/shipments",
        headers=platform.headers,
        timeout=15,
        json={"order_ref": new_order(platform), "packages": [PACKAGE], "carrier": CARRIER},
    )
    assert reply.status_code == 201, reply.text
    shipment_id = reply.json()["shipment_id"]
    final = wait_until(
        "invoiced",
        lambda: (s := status(platform, shipment_id))["stage"] == "invoiced" and s,
        timeout_s=90,
    )
    heard = {e["source"]["partner"] for e in final["events"]}
    assert "easypost" in heard
    assert final["references"]["tracking_number"]
    assert "DELIVERED" in {e["milestone"] for e in final["events"]}
