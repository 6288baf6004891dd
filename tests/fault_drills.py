"""What the fault drills (tests/faults/) share: orders, shipments, and the partners' side.

Everything goes through HTTP (the API, the simulators' ``/_sim/`` helpers, Odoo's JSON-RPC)
or the ``temporal`` command, as an operator would look.
"""

import hashlib
import hmac
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from odoo_rpc import execute_kw
from running_platform import BORDERFLOW, Platform

PACKAGE = {"weight_kg": "1.2", "length_cm": "30", "width_cm": "20", "height_cm": "10"}
DAP = 5
"""The seeded Incoterm DAP: one (export) declaration, filed by the seller."""
FINAL = ("invoiced", "rejected", "cancelled")


def sim(platform: Platform, partner: str) -> str:
    return f"http://127.0.0.1:{platform.ports[f'sim_{partner}']}"


def set_faults(platform: Platform, partner: str, faults: dict[str, Any]) -> None:
    httpx.post(f"{sim(platform, partner)}/_sim/faults", json=faults, timeout=10).raise_for_status()


def injected(platform: Platform, partner: str) -> dict[str, int]:
    return dict(httpx.get(f"{sim(platform, partner)}/_sim/faults", timeout=10).json()["injected"])


def clear_faults(platform: Platform, *partners: str) -> None:
    for partner in partners:
        httpx.delete(f"{sim(platform, partner)}/_sim/faults", timeout=10).raise_for_status()


def odoo_password(platform: Platform) -> str:
    return platform.local_env()["BORDERFLOW_ODOO_PASSWORD"]


def create_order(platform: Platform) -> str:
    """A new DAP sale order in the Odoo simulator (a quotation); its name."""
    password = odoo_password(platform)
    order_id = execute_kw(platform.odoo_url, password, "sale.order", "create", [{
        "partner_id": 7, "partner_shipping_id": 7, "incoterm": DAP,
        "order_line": [[0, 0, {"product_id": 1, "product_uom_qty": 1, "price_unit": 899.0}]],
    }])  # fmt: skip
    (order,) = execute_kw(platform.odoo_url, password, "sale.order", "read", [[order_id]],
                          {"fields": ["name"]})  # fmt: skip
    return str(order["name"])


def start_shipment(platform: Platform, order_ref: str, **extra: Any) -> str:
    reply = httpx.post(
        f"{platform.api_url}/v1/shipments",
        headers=platform.headers,
        json={"order_ref": order_ref, "packages": [PACKAGE], **extra},
        timeout=30,
    )
    assert reply.status_code == 201, reply.text
    return str(reply.json()["shipment_id"])


def status(platform: Platform, shipment_id: str) -> dict[str, Any]:
    reply = httpx.get(
        f"{platform.api_url}/v1/shipments/{shipment_id}", headers=platform.headers, timeout=30
    )
    assert reply.status_code == 200, reply.text
    return dict(reply.json())


def wait_until(what: str, check: Callable[[], Any], timeout_s: float, every_s: float = 0.1) -> Any:
    """``check()``'s first truthy answer; failing with ``what`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(every_s)
    raise AssertionError(f"{what}: not after {timeout_s} s")


def wait_for_stage(
    platform: Platform, shipment_id: str, stages: tuple[str, ...], timeout_s: float
) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        try:
            now = status(platform, shipment_id)
        except (httpx.HTTPError, AssertionError):
            return None  # the API or Temporal is restarting: ask again
        return now if now["stage"] in stages else None

    return dict(wait_until(f"{shipment_id} in {stages}", reached, timeout_s, every_s=0.3))


def follow(platform: Platform, shipment_id: str, timeout_s: float) -> dict[str, Any]:
    """The shipment once it has ended (invoiced, rejected or cancelled)."""
    return wait_for_stage(platform, shipment_id, FINAL, timeout_s)


def history(platform: Platform, workflow_id: str) -> list[dict[str, Any]]:
    """The workflow's event history, as ``temporal workflow show --output json`` prints it."""
    shown = subprocess.run(
        [str(Path(BORDERFLOW).parent / "temporal"), "workflow", "show", "--workflow-id",
         workflow_id, "--output", "json", "--address",
         f"127.0.0.1:{platform.ports['temporal']}"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    return list(json.loads(shown)["events"])


def activity_attempts(platform: Platform, workflow_id: str, activity_type: str) -> list[int]:
    """The attempt that completed (or last ran), per execution of ``activity_type``."""
    events = history(platform, workflow_id)
    scheduled = {
        e["eventId"]
        for e in events
        if e.get("activityTaskScheduledEventAttributes", {}).get("activityType", {}).get("name")
        == activity_type
    }
    return [
        int(e["activityTaskStartedEventAttributes"].get("attempt", 1))
        for e in events
        if e.get("activityTaskStartedEventAttributes", {}).get("scheduledEventId") in scheduled
    ]


def odoo_calls(platform: Platform) -> list[dict[str, Any]]:
    return list(httpx.get(f"{platform.odoo_url}/_sim/calls", timeout=10).json())


def invoice_creates(calls: list[dict[str, Any]], order_ref: str) -> list[dict[str, Any]]:
    return [c for c in calls if c["model"] == "account.move" and c["method"] == "create"
            and order_ref in json.dumps(c["args"])]  # fmt: skip


def sim_list(platform: Platform, partner: str, what: str) -> list[dict[str, Any]]:
    return list(httpx.get(f"{sim(platform, partner)}/_sim/{what}", timeout=10).json())


def assert_side_effects_once(platform: Platform, final: dict[str, Any]) -> None:
    """One TMS order, one carrier booking, one tracking-ref write, one invoice created and
    posted once, finance told once: whatever was retried on the way."""
    assert final["stage"] == "invoiced", final
    shipment_id, order_ref, refs = final["shipment_id"], final["order_ref"], final["references"]
    password = odoo_password(platform)
    transport = [
        o
        for o in sim_list(platform, "tms", "transport-orders")
        if o.get("reference") == shipment_id
    ]
    assert len(transport) == 1, transport
    bookings = [
        s for s in sim_list(platform, "easypost", "shipments") if s.get("reference") == shipment_id
    ]
    assert len(bookings) == 1, bookings
    assert bookings[0]["tracking_code"] == refs["tracking_number"]
    calls = odoo_calls(platform)
    tracking_writes = [
        c
        for c in calls
        if c["model"] == "stock.picking"
        and c["method"] == "write"
        and c["args"][0] == [refs["picking_id"]]
    ]
    assert len(tracking_writes) == 1, tracking_writes
    assert len(invoice_creates(calls, order_ref)) == 1
    posts = [
        c for c in calls if c["method"] == "action_post" and c["args"][0] == [refs["invoice_id"]]
    ]
    assert len(posts) == 1, posts
    invoices = execute_kw(
        platform.odoo_url, password, "account.move", "search_read",
        [[["invoice_origin", "=", order_ref]]], {"fields": ["state", "name"]},
    )  # fmt: skip
    assert [(i["state"], i["name"]) for i in invoices] == [("posted", refs["invoice_name"])]
    (picking,) = execute_kw(
        platform.odoo_url, password, "stock.picking", "read", [[refs["picking_id"]]],
        {"fields": ["carrier_tracking_ref"]},
    )  # fmt: skip
    assert picking["carrier_tracking_ref"] == refs["tracking_number"]
    finance = [
        m
        for m in notifications(platform, "finance")
        if m["message"].get("borderflow", {}).get("shipment_id") == shipment_id
    ]
    assert len(finance) == 1, finance


def notifications(platform: Platform, channel: str) -> list[dict[str, Any]]:
    messages = httpx.get(f"{sim(platform, 'notify')}/_sim/messages", timeout=10).json()
    return [m for m in messages if m["channel"] == channel]


def signed_easypost(platform: Platform, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """The body and headers of an EasyPost webhook, signed as the carrier signs it."""
    body = json.dumps(event).encode()
    secret = platform.local_env()["BORDERFLOW_EASYPOST_WEBHOOK_SECRET"].encode()
    digest = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return body, {"X-Hmac-Signature": f"hmac-sha256-hex={digest}"}


def signed_broker(
    platform: Platform, event: dict[str, Any], at: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a broker webhook, signed at ``at`` (default: now)."""
    body = json.dumps(event).encode()
    secret = platform.local_env()["BORDERFLOW_BROKER_WEBHOOK_SECRET"].encode()
    stamp = str(int(time.time()) if at is None else at)
    digest = hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return body, {"X-Broker-Signature": f"t={stamp},v1={digest}"}


def tracking_event(event_id: str, tracking: str, detail: str, at: str) -> dict[str, Any]:
    """An EasyPost ``tracker.updated`` event with one in-transit scan."""
    scan = {"object": "TrackingDetail", "status": "in_transit", "status_detail": detail,
            "message": detail, "datetime": at}  # fmt: skip
    return {
        "object": "Event", "id": event_id, "description": "tracker.updated",
        "result": {"object": "Tracker", "id": f"trk_{event_id}", "tracking_code": tracking,
                   "status": "in_transit", "status_detail": detail, "tracking_details": [scan]},
    }  # fmt: skip


def broker_event(
    event_id: str, shipment_id: str, declaration_id: str, state: str
) -> dict[str, Any]:
    return {
        "event_id": event_id, "type": "declaration.status_changed",
        "occurred_at": "2026-11-20T10:00:00+01:00",
        "declaration": {"id": declaration_id, "reference": shipment_id, "lrn": "L", "mrn": None,
                        "status": state, "hold_reason": None},
    }  # fmt: skip


def post_webhook(
    platform: Platform, partner: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return httpx.post(f"{platform.api_url}/v1/webhooks/{partner}", content=body,
                      headers=headers, timeout=30)  # fmt: skip


def inbox(platform: Platform, state: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        page = httpx.get(f"{platform.api_url}/v1/inbox", headers=platform.headers, timeout=30,
                         params={"state": state, "limit": 200, "after": after}).json()  # fmt: skip
        items += page["items"]
        if not page.get("next_after"):
            return items
        after = page["next_after"]
