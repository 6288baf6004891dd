"""The whole platform, as `make run` starts it: real dev server, simulators, worker, API.

Everything here goes through HTTP (the API, Odoo's JSON-RPC) or the `borderflow` command.
The tests run in file order: the last one stops the platform and starts it again.
"""

import asyncio
import hashlib
import hmac
import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from odoo_rpc import execute_kw
from prometheus_client.parser import text_string_to_metric_families
from running_platform import BORDERFLOW, Platform, alive, child_running, children_of

PACKAGE = {"weight_kg": "1.2", "length_cm": "30", "width_cm": "20", "height_cm": "10"}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    running = Platform(
        tmp_path_factory.mktemp("platform") / ".data", demo_shipments=1, ports=Platform.free_ports()
    )
    try:
        running.wait_for("running:", timeout_s=150)
        yield running
    finally:
        running.stop()


def follow(platform: Platform, shipment_id: str, timeout_s: float = 60) -> dict:
    api_url, headers = platform.api_url, platform.headers
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        reply = httpx.get(f"{api_url}/v1/shipments/{shipment_id}", headers=headers, timeout=15)
        if reply.status_code == 200 and reply.json()["stage"] in ("invoiced", "rejected"):
            return reply.json()
        time.sleep(0.3)
    raise AssertionError(f"{shipment_id} not final after {timeout_s} s")


def create_order(platform: Platform) -> str:
    password = platform.local_env()["BORDERFLOW_ODOO_PASSWORD"]
    customers = execute_kw(
        platform.odoo_url,
        password,
        "res.partner",
        "search_read",
        [[["is_company", "=", True], ["country_id.code", "!=", "DE"]]]
        if False
        else [[["is_company", "=", True]]],
        {"fields": ["name", "country_id"], "order": "id desc", "limit": 1},
    )
    products = execute_kw(
        platform.odoo_url,
        password,
        "product.product",
        "search_read",
        [[]],
        {"fields": ["list_price"], "limit": 1},
    )
    incoterm = execute_kw(
        platform.odoo_url, password, "account.incoterms", "search", [[["code", "=", "DDP"]]]
    )
    order_id = execute_kw(
        platform.odoo_url,
        password,
        "sale.order",
        "create",
        [
            {
                "partner_id": customers[0]["id"],
                "partner_shipping_id": customers[0]["id"],
                "incoterm": incoterm[0],
                "order_line": [
                    [
                        0,
                        0,
                        {
                            "product_id": products[0]["id"],
                            "product_uom_qty": 3,
                            "price_unit": products[0]["list_price"],
                        },
                    ]
                ],
            }
        ],
    )
    (order,) = execute_kw(
        platform.odoo_url, password, "sale.order", "read", [[order_id]], {"fields": ["name"]}
    )
    return str(order["name"])


def test_make_run_ships_the_demo_order_to_invoice_and_prints_its_ui_link(
    platform: Platform,
) -> None:
    out = platform.output
    assert "demo: every shipment invoiced" in out, out
    for stage in ("accept", "book", "customs", "delivery", "invoice", "invoiced"):
        assert f": {stage} " in out, (stage, out)
    ui = f"http://localhost:{platform.ports['temporal_ui']}/namespaces/default/workflows/shipment-S"
    assert ui in out
    # The UI itself answers (the dev server serves it).
    assert httpx.get(f"http://localhost:{platform.ports['temporal_ui']}/", timeout=10).is_success


def test_a_shipment_started_over_http_is_invoiced_exactly_once(platform: Platform) -> None:
    order_ref = create_order(platform)
    body = {"order_ref": order_ref, "packages": [PACKAGE]}
    first = httpx.post(
        f"{platform.api_url}/v1/shipments", headers=platform.headers, json=body, timeout=15
    )
    assert first.status_code == 201, first.text
    shipment_id = first.json()["shipment_id"]
    assert shipment_id == f"shipment-{order_ref}"
    again = httpx.post(
        f"{platform.api_url}/v1/shipments", headers=platform.headers, json=body, timeout=15
    )
    assert again.status_code == 200 and again.json()["shipment_id"] == shipment_id

    status = follow(platform, shipment_id)
    assert status["stage"] == "invoiced", status
    milestones = [e["milestone"] for e in status["events"]]
    assert {"CUSTOMS_RELEASED", "DELIVERED"} <= set(milestones)
    assert len(milestones) == len(
        {(e["source"]["partner"], e["dedupe_key"]) for e in status["events"]}
    )
    refs = status["references"]

    # Odoo: order confirmed, tracking number on the delivery, one posted invoice.
    password = platform.local_env()["BORDERFLOW_ODOO_PASSWORD"]
    (order,) = execute_kw(
        platform.odoo_url,
        password,
        "sale.order",
        "search_read",
        [[["name", "=", order_ref]]],
        {"fields": ["state"]},
    )
    assert order["state"] == "sale"
    (picking,) = execute_kw(
        platform.odoo_url,
        password,
        "stock.picking",
        "read",
        [[refs["picking_id"]]],
        {"fields": ["carrier_tracking_ref"]},
    )
    assert picking["carrier_tracking_ref"] == refs["tracking_number"]
    invoices = execute_kw(
        platform.odoo_url,
        password,
        "account.move",
        "search_read",
        [[["invoice_origin", "=", order_ref]]],
        {"fields": ["state", "name"]},
    )
    assert [(i["state"], i["name"]) for i in invoices] == [("posted", refs["invoice_name"])]
    calls = httpx.get(f"{platform.odoo_url}/_sim/calls", timeout=10).json()
    posts = [
        c for c in calls if c["method"] == "action_post" and c["args"][0] == [refs["invoice_id"]]
    ]
    assert len(posts) == 1
    # Finance heard about it once.
    finance = f"http://127.0.0.1:{platform.ports['sim_notify']}/_sim/messages"
    messages = [m for m in httpx.get(finance, timeout=10).json() if order_ref in json.dumps(m)]
    assert len(messages) == 1


def test_no_secret_reaches_workflow_history(platform: Platform) -> None:
    history = subprocess.run(
        [str(Path(BORDERFLOW).parent / "temporal"), "workflow", "show", "--workflow-id",
         "shipment-S00001", "--output", "json", "--address",
         f"127.0.0.1:{platform.ports['temporal']}"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "accept_order" in history and "release_invoice" in history
    secrets = {k: v for k, v in platform.local_env().items()
               if k.endswith(("_PASSWORD", "_API_KEY", "_SECRET"))}  # fmt: skip
    assert len(secrets) >= 6
    leaked = [name for name, value in secrets.items() if value in history]
    assert leaked == []


def test_bad_input_gets_problem_json(platform: Platform) -> None:
    api = platform.api_url
    invalid = httpx.post(
        f"{api}/v1/shipments", headers=platform.headers, json={"order_ref": "S/1", "packages": []}
    )
    assert invalid.status_code == 422
    assert invalid.headers["content-type"].startswith("application/problem+json")
    fields = {e["field"] for e in invalid.json()["errors"]}
    assert {"order_ref", "packages"} <= fields
    assert (
        httpx.post(
            f"{api}/v1/shipments", headers=platform.headers, content=b"{not json"
        ).status_code
        == 400
    )
    assert (
        httpx.get(f"{api}/v1/shipments/shipment-NOPE", headers=platform.headers).status_code == 404
    )
    assert httpx.post(f"{api}/v1/webhooks/fedex", content=b"{}").status_code == 404
    forged = httpx.post(
        f"{api}/v1/webhooks/easypost",
        content=b'{"id": "evt_x"}',
        headers={"X-Hmac-Signature": "hmac-sha256-hex=00"},
    )
    assert forged.status_code == 401
    assert forged.json()["title"] == "Invalid signature"
    secret = platform.local_env()["BORDERFLOW_EASYPOST_WEBHOOK_SECRET"].encode()
    body = b'{"not": "an event"}'
    signed = "hmac-sha256-hex=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    malformed = httpx.post(
        f"{api}/v1/webhooks/easypost", content=body, headers={"X-Hmac-Signature": signed}
    )
    assert malformed.status_code == 422
    too_big = httpx.post(f"{api}/v1/webhooks/easypost", content=b"x" * (2 * 1024 * 1024))
    assert too_big.status_code == 413


def test_a_hundred_identical_webhooks_are_stored_once_and_signalled_once(
    platform: Platform,
) -> None:
    broker = f"http://127.0.0.1:{platform.ports['sim_broker']}"
    httpx.post(f"{broker}/_sim/faults", json={"customs": {"hold_next": 1}}).raise_for_status()
    order_ref = create_order(platform)
    shipment_id = httpx.post(
        f"{platform.api_url}/v1/shipments", headers=platform.headers, timeout=15,
                             json={"order_ref": order_ref, "packages": [PACKAGE]}
                             ).json()["shipment_id"]  # fmt: skip
    deadline = time.monotonic() + 30
    status: dict = {}
    while time.monotonic() < deadline:  # held in customs: it stays running
        status = httpx.get(
            f"{platform.api_url}/v1/shipments/{shipment_id}", headers=platform.headers, timeout=15
        ).json()
        if status.get("stage") == "customs" and status["references"]["tracking_number"]:
            break
        time.sleep(0.3)
    tracking = status["references"]["tracking_number"]
    event = {
        "object": "Event", "id": "evt_manual_0001", "description": "tracker.updated",
        "result": {"object": "Tracker", "id": "trk_manual", "tracking_code": tracking,
                   "status": "in_transit", "status_detail": "arrived_at_facility",
                   "tracking_details": [{"object": "TrackingDetail", "status": "in_transit",
                                         "status_detail": "arrived_at_facility",
                                         "message": "Sorted", "datetime":
                                         "2026-11-20T10:00:00+01:00"}]},
    }  # fmt: skip
    body = json.dumps(event).encode()
    secret = platform.local_env()["BORDERFLOW_EASYPOST_WEBHOOK_SECRET"].encode()
    headers = {"X-Hmac-Signature": "hmac-sha256-hex="
               + hmac.new(secret, body, hashlib.sha256).hexdigest()}  # fmt: skip

    async def send_all() -> list[httpx.Response]:
        async with httpx.AsyncClient(timeout=30) as client:
            return await asyncio.gather(*(
                client.post(f"{platform.api_url}/v1/webhooks/easypost", content=body,
                            headers=headers) for _ in range(100)))  # fmt: skip

    replies = asyncio.run(send_all())
    assert {r.status_code for r in replies} == {200}
    outcomes = sorted(r.json()["duplicate"] for r in replies)
    assert outcomes.count(False) == 1 and outcomes.count(True) == 99
    assert len({r.json()["inbox_id"] for r in replies}) == 1
    status = httpx.get(
        f"{platform.api_url}/v1/shipments/{shipment_id}", headers=platform.headers, timeout=15
    ).json()
    manual = [e for e in status["events"] if e["source"]["partner_event_id"] is None
              and e["source"]["raw_code"] == "in_transit/arrived_at_facility"]  # fmt: skip
    assert len(manual) == 1


def token(platform: Platform, role: str) -> dict[str, str]:
    done = subprocess.run([BORDERFLOW, "token", "create", "--role", role], env=platform.env,
                          capture_output=True, text=True, timeout=60, check=True)  # fmt: skip
    assert "shown only now" in done.stderr
    return {"Authorization": f"Bearer {done.stdout.strip()}"}


def test_every_route_checks_the_token_and_its_role(platform: Platform) -> None:
    api = platform.api_url
    support, ops = token(platform, "support"), token(platform, "ops")
    routes = [("GET", "/v1/shipments/shipment-S00001"),
              ("GET", "/v1/shipments/shipment-S00001/timeline"),
              ("POST", "/v1/shipments"), ("POST", "/v1/shipments/shipment-S00001/events"),
              ("GET", "/v1/inbox"), ("POST", "/v1/inbox/1/replay")]  # fmt: skip
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer bf_nope.nope"}, {"Authorization": "x"}):
            reply = httpx.request(method, f"{api}{path}", headers=headers, timeout=15)
            assert reply.status_code == 401, (method, path, headers)
            assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert httpx.get(f"{api}/v1/shipments/shipment-S00001", headers=support).status_code == 200
    for method, path in routes[2:]:
        reply = httpx.request(method, f"{api}{path}", headers=support, json={}, timeout=15)
        assert reply.status_code == 403, (method, path)
    assert httpx.get(f"{api}/v1/inbox", headers=ops).status_code == 403
    assert httpx.get(f"{api}/healthz").status_code == 200
    assert httpx.get(f"{api}/readyz", timeout=15).json() == {"status": "ready"}


def test_timeline_manual_events_and_the_inbox(platform: Platform) -> None:
    api, headers = platform.api_url, platform.headers
    timeline = httpx.get(f"{api}/v1/shipments/shipment-S00001/timeline", headers=headers,
                         timeout=15).json()["entries"]  # fmt: skip
    assert [e["stage"] for e in timeline if e["kind"] == "stage"][-1] == "invoiced"
    assert any(e["kind"] == "event" and e["milestone"] == "DELIVERED" for e in timeline)
    invalid = httpx.post(
        f"{api}/v1/shipments/shipment-S00001/events",
        headers=headers,
        json={"milestone": "TELEPORTED", "reason": "x"},
        timeout=15,
    )
    assert invalid.status_code == 422
    closed = httpx.post(
        f"{api}/v1/shipments/shipment-S00001/events",
        headers=headers,
        json={"milestone": "EXCEPTION", "reason": "damaged"},
        timeout=15,
    )
    assert closed.status_code == 409  # an invoiced shipment has ended: it takes no more events
    inbox = httpx.get(f"{api}/v1/inbox?state=delivered&limit=5", headers=headers,
                      timeout=15).json()  # fmt: skip
    assert len(inbox["items"]) == 5 and inbox["next_after"] == inbox["items"][-1]["id"]
    assert {item["state"] for item in inbox["items"]} == {"delivered"}
    first = inbox["items"][0]
    replayed = httpx.post(f"{api}/v1/inbox/{first['id']}/replay", headers=headers, timeout=15)
    assert replayed.status_code == 200
    assert httpx.get(f"{api}/v1/inbox?state=bogus", headers=headers).status_code == 400
    assert httpx.post(f"{api}/v1/inbox/999999/replay", headers=headers).status_code == 404


def test_idempotency_key_replays_the_first_response_and_refuses_another_body(
    platform: Platform,
) -> None:
    api, headers = platform.api_url, {**platform.headers, "Idempotency-Key": "start-42"}
    body = {"order_ref": create_order(platform), "packages": [PACKAGE]}
    first = httpx.post(f"{api}/v1/shipments", headers=headers, json=body, timeout=15)
    again = httpx.post(f"{api}/v1/shipments", headers=headers, json=body, timeout=15)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    other = httpx.post(f"{api}/v1/shipments", headers=headers, timeout=15,
                       json={**body, "service_level": "express"})  # fmt: skip
    assert other.status_code == 422 and "reused" in other.json()["title"]
    # keys are per caller: another token may use the same key for its own request
    mine = {**token(platform, "ops"), "Idempotency-Key": "start-42"}
    assert (
        httpx.post(f"{api}/v1/shipments", headers=mine, json=body, timeout=15).status_code == 200
    )  # the shipment exists already


def test_a_webhook_accepted_while_temporal_is_down_is_delivered_when_it_returns(
    platform: Platform,
) -> None:
    broker = f"http://127.0.0.1:{platform.ports['sim_broker']}"
    httpx.post(f"{broker}/_sim/faults", json={"customs": {"hold_next": 1}}).raise_for_status()
    order_ref = create_order(platform)
    shipment_id = httpx.post(f"{platform.api_url}/v1/shipments", headers=platform.headers,
                             json={"order_ref": order_ref, "packages": [PACKAGE]},
                             timeout=15).json()["shipment_id"]  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = httpx.get(f"{platform.api_url}/v1/shipments/{shipment_id}",
                           headers=platform.headers, timeout=15).json()  # fmt: skip
        if status.get("stage") == "customs":
            break
        time.sleep(0.3)
    event = {
        "event_id": "bev_while_down",
        "type": "declaration.status_changed",
        "occurred_at": "2026-11-20T10:00:00+01:00",
        "declaration": {
            "id": "DEC-X",
            "reference": shipment_id,
            "lrn": "L",
            "mrn": None,
            "status": "UNDER_REVIEW",
            "hold_reason": None,
        },
    }
    body = json.dumps(event).encode()
    secret = platform.local_env()["BORDERFLOW_BROKER_WEBHOOK_SECRET"].encode()
    temporal = child_running(platform.process.pid, "temporal server start-dev")
    os.kill(temporal, signal.SIGSTOP)  # the server stops answering, as in an outage
    try:
        stamp = str(int(time.time()))
        digest = hmac.new(secret, stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
        reply = httpx.post(
            f"{platform.api_url}/v1/webhooks/broker",
            content=body,
            timeout=30,
            headers={"X-Broker-Signature": f"t={stamp},v1={digest}"},
        )
        assert reply.status_code == 202, reply.text  # stored, not yet signalled
        assert reply.json()["state"] == "received"
    finally:
        os.kill(temporal, signal.SIGCONT)
    deadline = time.monotonic() + 60
    delivered: list = []
    while time.monotonic() < deadline and not delivered:
        status = httpx.get(f"{platform.api_url}/v1/shipments/{shipment_id}",
                           headers=platform.headers, timeout=15).json()  # fmt: skip
        delivered = [e for e in status.get("events", [])
                     if e["dedupe_key"] == "bev_while_down"]  # fmt: skip
        time.sleep(0.5)
    assert len(delivered) == 1
    inbox = httpx.get(f"{platform.api_url}/v1/inbox?state=delivered&limit=200",
                      headers=platform.headers).json()["items"]  # fmt: skip
    assert any(i["dedupe_key"] == "bev_while_down" and i["attempts"] >= 2 for i in inbox)


def test_ops_cancel_a_shipment_through_the_api_and_list_it(platform: Platform) -> None:
    """The real workflow's cancel update, through the API and the `borderflow` command.

    The declaration is held in customs, so the shipment waits there when ops cancel it.
    """
    api, headers = platform.api_url, platform.headers
    broker = f"http://127.0.0.1:{platform.ports['sim_broker']}"
    httpx.post(f"{broker}/_sim/faults", json={"customs": {"hold_next": 1}}).raise_for_status()
    order_ref = create_order(platform)
    started = httpx.post(f"{api}/v1/shipments", headers=headers, timeout=60,
                         json={"order_ref": order_ref, "packages": [PACKAGE]})  # fmt: skip
    assert started.status_code == 201, started.text
    shipment_id = started.json()["shipment_id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status = httpx.get(f"{api}/v1/shipments/{shipment_id}", headers=headers, timeout=15)
        if any(d["status"] == "HELD" for d in status.json().get("customs", [])):
            break
        time.sleep(0.3)
    cancel = {"reason": "the customer withdrew the order"}
    cancelled = httpx.post(f"{api}/v1/shipments/{shipment_id}/cancel", headers=headers,
                           json=cancel, timeout=60)  # fmt: skip
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["stage"] == "cancelled"
    log = cancelled.json()["log"]
    (note,) = [e for e in log if e["title"] == "cancellation requested"]
    assert note["details"]["role"] == "admin" and note["details"]["reason"] == cancel["reason"]
    assert "compensation started" in [e["title"] for e in log]
    again = httpx.post(f"{api}/v1/shipments/{shipment_id}/cancel", headers=headers,
                       json=cancel, timeout=60)  # fmt: skip
    assert again.status_code == 409 and again.headers["content-type"].startswith(
        "application/problem+json"
    )

    env = {**platform.env, "BORDERFLOW_API_URL": api}
    deadline = time.monotonic() + 30
    while True:  # visibility catches up with the stage
        listed = subprocess.run(
            [BORDERFLOW, "shipments", "list", "--status", "cancelled", "--json"],
            env=env, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        ids = [item["shipment_id"] for item in json.loads(listed.stdout)["items"]]
        if shipment_id in ids or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert shipment_id in ids


def test_an_unknown_order_is_rejected_with_the_reason(platform: Platform) -> None:
    reply = httpx.post(
        f"{platform.api_url}/v1/shipments",
        headers=platform.headers,
        json={"order_ref": "S99999", "packages": [PACKAGE]},
        timeout=15,
    )
    # Accepted synchronously (update-with-start): the caller learns the reason at once.
    assert reply.status_code == 422, reply.text
    assert reply.headers["Content-Type"].startswith("application/problem+json")
    assert "S99999 not found" in reply.json()["detail"]
    status = follow(platform, "shipment-S99999")
    assert status["stage"] == "rejected"
    assert "S99999 not found" in status["rejection"]


def test_borderflow_demo_against_the_running_platform_exits_0(platform: Platform) -> None:
    env = {
        **platform.env,
        "BORDERFLOW_API_URL": platform.api_url,
        "BORDERFLOW_ODOO_URL": platform.odoo_url,
    }
    done = subprocess.run(
        [BORDERFLOW, "demo", "--count", "2", "--timeout", "90"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count(" invoiced: INV/") == 2

    status = subprocess.run(
        [BORDERFLOW, "status", "shipment-S00001"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert status.returncode == 0 and "stage invoiced" in status.stdout
    missing = subprocess.run(
        [BORDERFLOW, "status", "shipment-NOPE"], env=env, capture_output=True, text=True, timeout=30
    )
    assert missing.returncode == 1
    assert missing.stderr.strip().count("\n") == 0 and "no shipment" in missing.stderr


def metric(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def test_metrics_health_and_audit_of_the_running_platform(platform: Platform) -> None:
    worker = f"http://127.0.0.1:{platform.ports['worker_metrics']}"
    assert httpx.get(f"{worker}/readyz", timeout=10).json()["status"] == "ready"
    ours = httpx.get(f"{worker}/metrics", timeout=10).text
    for partner in ("odoo", "tms", "easypost", "broker"):  # the demo shipment's calls
        assert metric(ours, "borderflow_partner_requests_total", partner=partner, outcome="ok")
    # Temporal's SDK metrics are bridged into the same endpoint
    assert 'task_queue="borderflow-tms"' in ours and "temporal_worker_task_slots_available" in ours
    api = httpx.get(f"{platform.api_url}/metrics", timeout=10).text
    assert metric(api, "borderflow_http_requests_total", route="/v1/shipments", status="201") >= 1
    delivered = [
        sample.value
        for family in text_string_to_metric_families(api)
        for sample in family.samples
        if sample.name == "borderflow_milestones_total"
    ]
    assert sum(delivered) >= 1  # the carrier's webhooks went through the inbox
    done = subprocess.run([BORDERFLOW, "audit", "shipment-S00001", "--json"], env=platform.env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout)
    # The demo started the shipment, then resolved its customs hold as ops would; an admin's
    # inbox replay of one of its webhooks (test_timeline_manual_events_and_the_inbox) is
    # audited under the shipment too.
    ops = [e for e in entries if e["kind"] == "ops_action"]
    start, resolve = [e for e in ops if e["operation"].startswith("shipment.")]
    assert {e["operation"] for e in ops} - {"shipment.start", "shipment.resolve"} <= {
        "inbox.replay"
    }
    assert start["operation"] == "shipment.start" and start["role"] == "admin"
    assert resolve["operation"] == "shipment.resolve" and resolve["after"]["request"]["kind"] == (
        "customs_hold"
    )
    partners = {e["partner"] for e in entries if e["kind"] == "partner_call"}
    assert {"odoo", "tms", "easypost", "broker"} <= partners


def test_stop_leaves_nothing_behind_and_a_restart_keeps_history(
    platform: Platform, tmp_path: Path
) -> None:
    children = children_of(platform.process.pid)
    assert len(children) == 4, children  # dev server, simulators, worker, API
    assert platform.stop() == 0
    assert "every process this run started has exited" in platform.output
    assert [pid for pid in children if alive(pid)] == []

    again = Platform(platform.data_dir, demo_shipments=0, ports=platform.ports)
    try:
        again.wait_for("running:", timeout_s=90)
        status = follow(again, "shipment-S00001", timeout_s=30)
        assert status["stage"] == "invoiced"
    finally:
        assert again.stop() == 0
