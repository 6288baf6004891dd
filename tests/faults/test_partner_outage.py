"""Fault drill: a shipment through flaky Odoo and a carrier outage, with no duplicate effect.

The whole platform runs as `make run` starts it. While the shipment runs, the Odoo simulator
fails 30% of calls (HTTP 503) and the carrier is down for a minute. The shipment must still be
invoiced, with exactly one carrier booking, one tracking-ref write and one posted invoice.
"""

import time
from collections.abc import Iterator

import httpx
import pytest
from odoo_rpc import execute_kw
from running_platform import Platform

PACKAGE = {"weight_kg": "1.2", "length_cm": "30", "width_cm": "20", "height_cm": "10"}
OUTAGE_S = 60


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    running = Platform(tmp_path_factory.mktemp("outage") / ".data", demo_shipments=0,
                       ports=Platform.free_ports())  # fmt: skip
    try:
        running.wait_for("running:", timeout_s=90)
        yield running
    finally:
        running.stop()


def sim(platform: Platform, partner: str) -> str:
    return f"http://127.0.0.1:{platform.ports[f'sim_{partner}']}"


def test_flaky_odoo_and_a_carrier_outage_delay_the_shipment_but_duplicate_nothing(
    platform: Platform,
) -> None:
    password = platform.local_env()["BORDERFLOW_ODOO_PASSWORD"]
    order_id = execute_kw(platform.odoo_url, password, "sale.order", "create", [{
        "partner_id": 7, "partner_shipping_id": 7, "incoterm": 5,
        "order_line": [[0, 0, {"product_id": 1, "product_uom_qty": 1, "price_unit": 899.0}]],
    }])  # fmt: skip
    (order,) = execute_kw(platform.odoo_url, password, "sale.order", "read", [[order_id]],
                          {"fields": ["name"]})  # fmt: skip
    order_ref = order["name"]

    httpx.post(
        f"{sim(platform, 'odoo')}/_sim/faults",
        json={"error_rate": 0.3, "error_status": 503, "seed": 11},
    ).raise_for_status()
    httpx.post(f"{sim(platform, 'carrier')}/_sim/faults",
               json={"down_for_s": OUTAGE_S}).raise_for_status()  # fmt: skip
    started = time.monotonic()
    reply = httpx.post(
        f"{platform.api_url}/v1/shipments",
        headers=platform.headers,
        json={"order_ref": order_ref, "packages": [PACKAGE]},
        timeout=15,
    )
    assert reply.status_code == 201, reply.text
    shipment_id = reply.json()["shipment_id"]

    status: dict = {}
    while time.monotonic() - started < OUTAGE_S + 150:
        got = httpx.get(
            f"{platform.api_url}/v1/shipments/{shipment_id}", headers=platform.headers, timeout=15
        )
        if got.status_code == 200:
            status = got.json()
            if status["stage"] in ("invoiced", "rejected"):
                break
        time.sleep(1)
    elapsed = time.monotonic() - started
    odoo_faults = httpx.get(f"{sim(platform, 'odoo')}/_sim/faults").json()
    carrier_faults = httpx.get(f"{sim(platform, 'carrier')}/_sim/faults").json()
    httpx.delete(f"{sim(platform, 'odoo')}/_sim/faults")
    print(f"\ninvoiced after {elapsed:.1f} s; injected: odoo {odoo_faults['injected']}, "
          f"carrier {carrier_faults['injected']}")  # fmt: skip

    assert status.get("stage") == "invoiced", status
    assert elapsed >= OUTAGE_S - 5  # the booking really waited for the carrier
    assert odoo_faults["injected"].get("error", 0) > 0  # Odoo really failed calls
    refs = status["references"]

    bookings = [s for s in httpx.get(f"{sim(platform, 'carrier')}/_sim/shipments").json()
                if s.get("reference") == shipment_id]  # fmt: skip
    assert len(bookings) == 1
    calls = httpx.get(f"{platform.odoo_url}/_sim/calls").json()
    tracking_writes = [
        c
        for c in calls
        if c["model"] == "stock.picking"
        and c["method"] == "write"
        and c["args"][0] == [refs["picking_id"]]
    ]
    assert len(tracking_writes) == 1
    invoices = execute_kw(
        platform.odoo_url,
        password,
        "account.move",
        "search_read",
        [[["invoice_origin", "=", order_ref]]],
        {"fields": ["state"]},
    )
    assert [i["state"] for i in invoices] == ["posted"]
    posts = [c for c in calls if c["method"] == "action_post"
             and c["args"][0] == [refs["invoice_id"]]]  # fmt: skip
    assert len(posts) == 1
