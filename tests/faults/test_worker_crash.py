"""Fault drill: the worker is SIGKILLed in the middle of a partner call, and comes back.

The whole platform runs as `make run` starts it. A slow partner (the simulators' latency switch)
holds the call open; the drill kills the worker while the partner is working on it, once in
the middle of a carrier booking and once in the middle of an Odoo invoice (after the invoice
was created, before it was posted). `borderflow up` starts the worker again; the call's
attempt is retried (after its heartbeat timeout) and must find what the dead attempt did:
every shipment is invoiced with one carrier booking, one tracking-ref write and one invoice,
created and posted once.
"""

import os
import signal

import httpx
from fault_drills import (
    activity_attempts,
    assert_side_effects_once,
    clear_faults,
    create_order,
    follow,
    injected,
    invoice_creates,
    odoo_calls,
    set_faults,
    sim,
    start_shipment,
    status,
    wait_until,
)
from running_platform import Platform, alive, child_running


def kill_worker(platform: Platform) -> None:
    """SIGKILL the worker (no graceful shutdown), and wait until `borderflow up` restarted it."""
    restarts = sum("worker restarted" in line for line in platform.lines)
    worker = child_running(platform.process.pid, "-m workers")
    os.kill(worker, signal.SIGKILL)
    wait_until("the worker killed", lambda: not alive(worker), 10)
    wait_until("the worker restarted",
               lambda: sum("worker restarted" in line for line in platform.lines) > restarts,
               30)  # fmt: skip
    assert platform.process.poll() is None, platform.output  # the platform stayed up


def test_a_worker_killed_mid_booking_books_the_carrier_once(platform: Platform) -> None:
    set_faults(platform, "easypost", {"latency_ms": 4000, "paths": ["/v2/shipments"]})
    order_ref = create_order(platform)
    shipment_id = start_shipment(platform, order_ref)
    # The booking request has reached the carrier, which takes 4 s to answer it.
    wait_until("the booking request at the carrier",
               lambda: injected(platform, "easypost")["latency"] >= 1, 30)  # fmt: skip
    assert status(platform, shipment_id)["references"]["tracking_number"] is None
    kill_worker(platform)
    clear_faults(platform, "easypost")

    final = follow(platform, shipment_id, timeout_s=90)
    assert_side_effects_once(platform, final)
    # The dead attempt did not count: the booking was retried, under the same key.
    (attempt,) = activity_attempts(platform, shipment_id, "book_carrier")
    assert attempt >= 2
    requests = httpx.get(f"{sim(platform, 'easypost')}/_sim/requests", timeout=10).json()
    keys = {r["idempotency_key"] for r in requests
            if r["method"] == "POST" and r["path"] == "/v2/shipments"
            and r["body"]["shipment"]["reference"] == shipment_id}  # fmt: skip
    assert len(keys) == 1, keys


def test_a_worker_killed_mid_invoice_posts_one_invoice(platform: Platform) -> None:
    broker = sim(platform, "broker")
    set_faults(platform, "broker", {"customs": {"hold_next": 1}})
    order_ref = create_order(platform)
    shipment_id = start_shipment(platform, order_ref)
    held = wait_until("the declaration held",
                      lambda: [d for d in status(platform, shipment_id)["customs"]
                               if d["status"] == "HELD"], 60)  # fmt: skip
    # From now on every Odoo call takes a second: the invoice is created, read, then posted.
    set_faults(platform, "odoo", {"latency_ms": 1000})
    httpx.post(f"{broker}/_sim/declarations/{held[0]['declaration_id']}/release",
               timeout=10).raise_for_status()  # fmt: skip
    wait_until("the invoice created in Odoo",
               lambda: invoice_creates(odoo_calls(platform), order_ref), 90)  # fmt: skip
    assert status(platform, shipment_id)["references"]["invoice_id"] is None
    kill_worker(platform)
    clear_faults(platform, "odoo")

    final = follow(platform, shipment_id, timeout_s=90)
    assert_side_effects_once(platform, final)
    # The attempt that created the invoice died; the retry found the draft and posted it.
    (attempt,) = activity_attempts(platform, shipment_id, "release_invoice")
    assert attempt >= 2
