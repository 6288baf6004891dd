"""Reconciliation on the whole platform, as `make run` starts it: dev server, simulators, worker
(which creates the schedule), API and the `borderflow` command.

Two shipments are stuck in ``delivery``: an EasyPost one whose tracking webhooks the carrier
simulator drops (all of them, the DELIVERED one included), and a DHL one (DHL pushes nothing).
Odoo drifts on both: the EasyPost delivery loses its tracking ref, the DHL order gets an invoice
posted by hand. One `borderflow reconcile run` must deliver both shipments' tracking by polling
(with the ids the webhooks would have had), repair the tracking ref and report the invoice;
both shipments then leave ``delivery`` (the EasyPost one all the way to invoiced).
"""

import asyncio
import hashlib
import hmac
import json
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from odoo_rpc import execute_kw
from running_platform import BORDERFLOW, Platform
from temporalio.worker import Replayer

from canonical.dialects import normalize
from workflows.client import connect
from workflows.reconciliation import ReconciliationWorkflow
from workflows.reconciliation_schedule import SCHEDULE_ID

PACKAGE = {"weight_kg": "1.2", "length_cm": "30", "width_cm": "20", "height_cm": "10"}
RECONCILE_ENV = {
    # Runs are triggered by the test; a scheduled one must not fall in the middle.
    "BORDERFLOW_RECONCILE_EVERY_MIN": "100000",
    "BORDERFLOW_RECONCILE_STALE_AFTER_MIN": json.dumps({"book": 0, "customs": 0, "delivery": 0}),
}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    running = Platform(
        tmp_path_factory.mktemp("reconcile") / ".data",
        demo_shipments=0,
        ports=Platform.free_ports(),
        extra_env=RECONCILE_ENV,
    )
    try:
        running.wait_for("running:", timeout_s=150)
        yield running
    finally:
        running.stop()


def sign(secret: bytes, body: bytes) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


def sim(platform: Platform, partner: str) -> str:
    return f"http://127.0.0.1:{platform.ports[f'sim_{partner}']}"


def odoo(
    platform: Platform, model: str, method: str, args: list, kwargs: dict | None = None
) -> Any:
    password = platform.local_env()["BORDERFLOW_ODOO_PASSWORD"]
    return execute_kw(platform.odoo_url, password, model, method, args, kwargs)


def new_order(platform: Platform) -> str:
    order_id = odoo(
        platform,
        "sale.order",
        "create",
        [
            {
                "partner_id": 7,
                "partner_shipping_id": 7,
                "incoterm": 5,
                "order_line": [
                    [0, 0, {"product_id": 1, "product_uom_qty": 1, "price_unit": 899.0}]
                ],
            }
        ],
    )
    (order,) = odoo(platform, "sale.order", "read", [[order_id]], {"fields": ["name"]})
    return str(order["name"])


def start(platform: Platform, order_ref: str, carrier: str) -> str:
    reply = httpx.post(
        f"{platform.api_url}/v1/shipments",
        headers=platform.headers,
        timeout=15,
        json={"order_ref": order_ref, "packages": [PACKAGE], "carrier": carrier},
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["shipment_id"])


def status(platform: Platform, shipment_id: str) -> dict:
    reply = httpx.get(
        f"{platform.api_url}/v1/shipments/{shipment_id}", headers=platform.headers, timeout=15
    )
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def wait_until(what: str, check: Any, timeout_s: float = 90) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"not {what} after {timeout_s} s")


def at_stage(platform: Platform, shipment_id: str, stage: str) -> dict:
    return dict(
        wait_until(
            f"{shipment_id} at {stage}",
            lambda: (s := status(platform, shipment_id))["stage"] == stage and s,
        )
    )


def dropped(platform: Platform, tracking_number: str) -> list[dict]:
    """The EasyPost webhooks of one tracker the simulator dropped, oldest first."""
    attempts = httpx.get(f"{sim(platform, 'easypost')}/_sim/webhooks", timeout=10).json()
    mine = [a for a in attempts if a["payload"]["result"]["tracking_code"] == tracking_number]
    assert all(a["dropped"] for a in mine), mine
    return [a["payload"] for a in mine]


def deliver_by_hand(platform: Platform, payload: dict) -> None:
    """What the carrier would have sent: the payload, signed, to our webhook endpoint."""
    body = json.dumps(payload).encode()
    secret = platform.local_env()["BORDERFLOW_EASYPOST_WEBHOOK_SECRET"].encode()
    reply = httpx.post(
        f"{platform.api_url}/v1/webhooks/easypost",
        content=body,
        timeout=15,
        headers={"X-Hmac-Signature": "hmac-sha256-hex=" + sign(secret, body)},
    )
    assert reply.status_code == 200, reply.text


def dhl_tracking(platform: Platform, tracking_number: str) -> httpx.Response:
    return httpx.get(
        f"{sim(platform, 'dhl')}/track/shipments",
        params={"trackingNumber": tracking_number},
        headers={"DHL-API-Key": platform.local_env()["BORDERFLOW_DHL_API_KEY"]},
        timeout=10,
    )


def borderflow(platform: Platform, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**platform.env, "BORDERFLOW_DATA_DIR": str(platform.data_dir)}
    return subprocess.run([BORDERFLOW, *args], env=env, capture_output=True, text=True, timeout=180)


def carrier_events(shipment: dict, partner: str) -> list[str]:
    """The ids of the shipment's events from ``partner``, in arrival order."""
    return [e["event_id"] for e in shipment["events"] if e["source"]["partner"] == partner]


def finding(report: dict, shipment_id: str) -> dict:
    (found,) = [f for f in report["findings"] if f["shipment_id"] == shipment_id]
    return dict(found)


def test_the_worker_created_the_schedule(platform: Platform) -> None:
    log = (platform.data_dir / "logs" / "worker.log").read_text()
    assert "reconciliation schedule created: every 100000 min" in log


def test_a_reconciliation_run_delivers_lost_and_unpushed_tracking_and_reports_odoo_drift(
    platform: Platform,
) -> None:
    httpx.post(
        f"{sim(platform, 'easypost')}/_sim/faults", json={"webhooks": {"drop_rate": 1.0}}
    ).raise_for_status()
    lost = start(platform, new_order(platform), "easypost")
    unpushed = start(platform, new_order(platform), "dhl")

    # Both wait in delivery while their carriers' stories reach "delivered", unheard.
    lost_status = at_stage(platform, lost, "delivery")
    unpushed_status = at_stage(platform, unpushed, "delivery")
    lost_number = lost_status["references"]["tracking_number"]
    unpushed_number = unpushed_status["references"]["tracking_number"]
    lost_webhooks = wait_until(
        "delivered at EasyPost",
        lambda: (
            (w := dropped(platform, lost_number)) and w[-1]["result"]["status"] == "delivered" and w
        ),
    )
    wait_until(
        "delivered at DHL",
        lambda: (
            dhl_tracking(platform, unpushed_number).json()["shipments"][0]["status"]["statusCode"]
            == "delivered"
        ),
    )
    assert carrier_events(status(platform, unpushed), "dhl") == []
    # Every EasyPost webhook but the delivery's reaches us after all: only DELIVERED is lost.
    *arrived, webhook = lost_webhooks
    for payload in arrived:
        deliver_by_hand(platform, payload)
    before = normalize("easypost", json.dumps(arrived[-1]).encode(), received_at=datetime.now(UTC))
    wait_until(
        "the arrived webhooks recorded",
        lambda: len(carrier_events(status(platform, lost), "easypost")) == len(before.events),
    )
    assert status(platform, lost)["stage"] == "delivery"

    # Odoo drifts: a tracking ref erased (repairable), an invoice posted by hand (report only).
    picking_id = lost_status["references"]["picking_id"]
    odoo(platform, "stock.picking", "write", [[picking_id], {"carrier_tracking_ref": False}])
    (order,) = odoo(
        platform,
        "sale.order",
        "search_read",
        [[["name", "=", unpushed_status["order_ref"]]]],
        {"fields": ["partner_id", "currency_id"]},
    )
    invoice_id = odoo(
        platform,
        "account.move",
        "create",
        [
            {
                "move_type": "out_invoice",
                "partner_id": order["partner_id"][0],
                "currency_id": order["currency_id"][0],
                "invoice_origin": unpushed_status["order_ref"],
                "invoice_line_ids": [
                    [0, 0, {"product_id": 1, "name": "by hand", "quantity": 1, "price_unit": 899.0}]
                ],
            }
        ],
    )
    odoo(platform, "account.move", "action_post", [[invoice_id]])

    ran = borderflow(platform, "reconcile", "run", "--json")
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    print(f"\nreconciliation report: {json.dumps(report, indent=1)}")

    # The lost DELIVERED webhook reached the workflow by polling, under the webhook's event id.
    expected = normalize("easypost", json.dumps(webhook).encode(), received_at=datetime.now(UTC))
    delivered_id = next(e.event_id for e in expected.events if e.milestone == "DELIVERED")
    lost_final = wait_until(
        "lost invoiced", lambda: (s := status(platform, lost))["stage"] == "invoiced" and s
    )
    assert delivered_id in carrier_events(lost_final, "easypost")
    assert carrier_events(lost_final, "easypost") == [e.event_id for e in expected.events]
    lost_found = finding(report, lost)
    assert lost_found["stale"]
    assert (lost_found["events_found"], lost_found["milestones"]) == (1, ["DELIVERED"])

    # DHL's tracking reached its workflow by polling, with the dialect's ids: it is delivered.
    # (It then waits up to the policy's charges window for DHL's final charges, which DHL's
    # API does not report, before it invoices: not within this test.)
    polled = normalize(
        "dhl", dhl_tracking(platform, unpushed_number).content, received_at=datetime.now(UTC)
    )
    unpushed_final = wait_until(
        "unpushed delivered",
        lambda: (s := status(platform, unpushed))["stage"] in ("invoice", "invoiced") and s,
    )
    assert carrier_events(unpushed_final, "dhl") == [e.event_id for e in polled.events]
    assert finding(report, unpushed)["events_found"] == len(polled.events)

    # Odoo: the erased ref was written back (reported as repaired); the hand-posted invoice is
    # reported only (and left alone: see the end).
    (picking,) = odoo(
        platform, "stock.picking", "read", [[picking_id]], {"fields": ["carrier_tracking_ref"]}
    )
    assert picking["carrier_tracking_ref"] == lost_number
    (repair,) = finding(report, lost)["drifts"]
    assert (repair["code"], repair["repaired"]) == ("tracking_ref_missing", True)
    (early,) = finding(report, unpushed)["drifts"]
    assert (early["code"], early["repaired"]) == ("invoice_posted_early", False)
    assert report["drifted"] == 2 and report["repaired"] == 1
    assert report["stale"] == report["shipments_checked"] == 2
    assert report["events_found"] == 1 + len(polled.events)

    # The report is there for support (API and CLI), not for ops.
    support = borderflow(platform, "token", "create", "--role", "support").stdout.strip()
    ops = borderflow(platform, "token", "create", "--role", "ops").stdout.strip()
    url = f"{platform.api_url}/v1/reconciliation"
    listed = httpx.get(url, headers={"Authorization": f"Bearer {support}"}, timeout=15)
    assert listed.status_code == 200
    assert listed.json()["items"][0] == report
    refused = httpx.get(url, headers={"Authorization": f"Bearer {ops}"}, timeout=15)
    assert refused.status_code == 403
    assert refused.headers["Content-Type"].startswith("application/problem+json")
    shown = borderflow(platform, "reconcile", "report")
    assert shown.returncode == 0, shown.stderr
    assert report["run_id"] in shown.stdout
    assert "drift tracking_ref_missing (repaired)" in shown.stdout
    assert "drift invoice_posted_early (report only)" in shown.stdout

    # A second run finds nothing new: both shipments are done, nothing is signalled twice.
    again = borderflow(platform, "reconcile", "run", "--json")
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)
    assert second["run_id"] != report["run_id"]
    assert second["events_found"] == 0
    assert {lost, unpushed}.isdisjoint(f["shipment_id"] for f in second["findings"])
    invoices = odoo(
        platform,
        "account.move",
        "search_read",
        [[["invoice_origin", "=", unpushed_status["order_ref"]]]],
        {"fields": ["id", "state"]},
    )
    assert [(i["id"], i["state"]) for i in invoices] == [(invoice_id, "posted")]


def test_the_runs_replay_deterministically_and_the_schedule_is_one(platform: Platform) -> None:
    async def check() -> None:
        client = await connect(f"127.0.0.1:{platform.ports['temporal']}", "default")
        runs = [w.id async for w in client.list_workflows("WorkflowType='ReconciliationWorkflow'")]
        assert len(runs) >= 2
        replayer = Replayer(
            workflows=[ReconciliationWorkflow], data_converter=client.data_converter
        )
        for run_id in runs:
            history = await client.get_workflow_handle(run_id).fetch_history()
            await replayer.replay_workflow(history)
        schedules = [s.id async for s in await client.list_schedules()]
        assert schedules.count(SCHEDULE_ID) == 1

    asyncio.run(check())
