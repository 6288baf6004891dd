"""A partner added from one folder and one registry line, wired everywhere, on the platform as
`make run` starts it.

The toy carrier (``tests/plugins/toy_partner``: adapter, wire models, dialect, settings,
simulator) is installed as a plugin: its distribution's entry point in ``borderflow.partners``
is the registry line, nothing in Borderflow names it. ``borderflow up`` then serves its
simulator on its own port, gives the worker its URL and a generated key, polls its own task
queue, and the API takes its webhooks (token checked); ``borderflow partners list`` shows it.
A shipment asked for it is booked, tracked by its webhooks and invoiced.
"""

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fault_drills import create_order, start_shipment, status, wait_until
from plugin_support import install, registered
from running_platform import BORDERFLOW, Platform

TOY = "toy"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    pythonpath = install(tmp_path_factory.mktemp("site"))
    with registered(pythonpath):  # this process computes the ports, the toy's included
        ports = Platform.free_ports()
        running = Platform(
            tmp_path_factory.mktemp("toy") / ".data", demo_shipments=0, ports=ports,
            extra_env={"PYTHONPATH": pythonpath, "BORDERFLOW_RECONCILE_EVERY_MIN": "100000"},
        )  # fmt: skip
    try:
        running.wait_for("running:", timeout_s=150)
        yield running
    finally:
        running.stop()


def toy_sim(platform: Platform, path: str) -> Any:
    reply = httpx.get(f"http://127.0.0.1:{platform.ports['sim_toy']}{path}", timeout=10)
    reply.raise_for_status()
    return reply.json()


def test_partners_list_shows_the_plugin_with_its_queue_route_and_simulator(
    platform: Platform,
) -> None:
    done = subprocess.run([BORDERFLOW, "partners", "list", "--json"], env=platform.env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    (toy,) = [p for p in json.loads(done.stdout) if p["name"] == TOY]
    assert toy["kind"] == "carrier" and toy["queue"] == "borderflow-carrier-toy"
    assert toy["webhook_route"] == "/v1/webhooks/toy" and toy["auth_scheme"] == "header-token"
    assert toy["simulator_url"].startswith("http://127.0.0.1:")


def test_a_shipment_asked_for_the_plugin_is_booked_tracked_and_invoiced(
    platform: Platform,
) -> None:
    shipment_id = start_shipment(platform, create_order(platform), carrier=TOY)
    final = wait_until(
        "invoiced",
        lambda: (s := status(platform, shipment_id))["stage"] == "invoiced" and s,
        timeout_s=120,
    )
    (booking,) = [b for b in toy_sim(platform, "/_sim/bookings") if b["reference"] == shipment_id]
    assert final["carrier"] == TOY
    assert final["references"]["tracking_number"] == booking["tracking_number"]
    toy_events = [e for e in final["events"] if e["source"]["partner"] == TOY]
    assert [e["milestone"] for e in toy_events] == ["PICKED_UP", "DELIVERED"]
    done = subprocess.run([BORDERFLOW, "audit", shipment_id, "--json"], env=platform.env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    calls = [e for e in json.loads(done.stdout) if e["kind"] == "partner_call"]
    assert {e["operation"] for e in calls if e["partner"] == TOY} >= {
        "book_carrier",
        "final_charges",
    }


def test_the_plugin_s_webhook_route_checks_its_token(platform: Platform) -> None:
    event = {"event": {"id": "tev_forged", "booking_id": "TOY-999999", "tracking_number": "TOYX",
                       "status": "delivered", "at": "2026-12-04T10:00:00+00:00"}}  # fmt: skip
    url = f"{platform.api_url}/v1/webhooks/{TOY}"
    forged = httpx.post(url, json=event, headers={"X-Webhook-Token": "not-the-secret"}, timeout=10)
    assert forged.status_code == 401, forged.text
    assert forged.headers["content-type"].startswith("application/problem+json")
    secret = platform.local_env()["BORDERFLOW_TOY_WEBHOOK_SECRET"]
    taken = httpx.post(url, json=event, headers={"X-Webhook-Token": secret}, timeout=10)
    assert taken.status_code in (200, 202), taken.text
    assert taken.json()["inbox_id"] > 0
