"""Fault drill: the Temporal dev server goes away mid-lifecycle and comes back from its file.

The whole platform runs as `make run` starts it (the dev server keeps its state in
`<data dir>/temporal.db`). A shipment waits in customs (the broker holds its declaration).
The dev server first stops answering (SIGSTOP), partner webhooks for the shipment arrive and
are stored in the inbox (202), then the server is killed outright and `borderflow up` starts
it again on the same SQLite file. Nothing is lost: the shipment's history is intact, the
stored webhooks are delivered once the server is back (each event recorded once), and the
shipment goes on to be invoiced with every side effect done once.
"""

import os
import signal
from datetime import UTC, datetime

import httpx
from fault_drills import (
    assert_side_effects_once,
    broker_event,
    create_order,
    follow,
    history,
    inbox,
    post_webhook,
    set_faults,
    signed_broker,
    signed_easypost,
    sim,
    start_shipment,
    status,
    tracking_event,
    wait_until,
)
from running_platform import Platform, alive, child_running

from canonical.dialects import normalize

SCAN_AT = "2026-11-20T09:00:00+01:00"


def test_a_dev_server_restart_loses_nothing_and_webhooks_meanwhile_are_delivered(
    platform: Platform,
) -> None:
    done_before = start_shipment(platform, create_order(platform))
    assert follow(platform, done_before, timeout_s=60)["stage"] == "invoiced"

    set_faults(platform, "broker", {"customs": {"hold_next": 1}})
    shipment_id = start_shipment(platform, create_order(platform))
    held = wait_until("the declaration held",
                      lambda: [d for d in status(platform, shipment_id)["customs"]
                               if d["status"] == "HELD"], 60)[0]  # fmt: skip
    before = history(platform, shipment_id)
    tracking = status(platform, shipment_id)["references"]["tracking_number"]

    temporal = child_running(platform.process.pid, "temporal server start-dev")
    os.kill(temporal, signal.SIGSTOP)  # it stops answering, as in an outage
    try:
        sent = [
            ("easypost", signed_easypost(platform, tracking_event(
                "evt_while_down", tracking, "arrived_at_facility", SCAN_AT))),
            ("broker", signed_broker(platform, broker_event(
                "bev_while_down", shipment_id, held["declaration_id"], "UNDER_REVIEW"))),
        ]  # fmt: skip
        for partner, (body, headers) in sent:
            reply = post_webhook(platform, partner, body, headers)
            assert reply.status_code == 202, reply.text  # stored, not signalled yet
            assert reply.json()["state"] == "received"
        assert httpx.get(f"{platform.api_url}/healthz", timeout=10).status_code == 200
    finally:
        os.kill(temporal, signal.SIGKILL)  # and then it is gone: no graceful shutdown
        os.kill(temporal, signal.SIGCONT)
    wait_until("the dev server killed", lambda: not alive(temporal), 10)
    platform.wait_for("temporal restarted", timeout_s=30)

    # The stored webhooks are delivered once Temporal answers again, each event recorded once.
    wanted = {
        event.dedupe_key
        for partner, (body, _) in sent
        for event in normalize(partner, body, received_at=datetime.now(UTC)).events
    }
    assert "bev_while_down" in wanted and len(wanted) == 2

    def recorded() -> list[str] | None:
        try:
            keys = [e["dedupe_key"] for e in status(platform, shipment_id)["events"]]
        except (httpx.HTTPError, AssertionError):
            return None  # the API's Temporal client is still reconnecting
        return keys if wanted <= set(keys) else None

    keys = wait_until("the webhooks delivered", recorded, 60, every_s=0.5)
    assert sorted(k for k in keys if k in wanted) == sorted(wanted)  # each recorded once
    delivered = {i["dedupe_key"]: i for i in inbox(platform, "delivered")}
    for key in ("evt_while_down", "bev_while_down"):
        assert delivered[key]["attempts"] >= 2, delivered[key]  # not at once: after the restart

    # Nothing was lost: the history from before the outage is there, event for event, and the
    # shipment finished before the outage still reads as it did.
    after = history(platform, shipment_id)
    assert after[: len(before)] == before
    assert status(platform, done_before)["stage"] == "invoiced"

    # The shipment carries on: customs releases it, it is delivered and invoiced, once.
    httpx.post(f"{sim(platform, 'broker')}/_sim/declarations/{held['declaration_id']}/release",
               timeout=10).raise_for_status()  # fmt: skip
    final = follow(platform, shipment_id, timeout_s=90)
    assert_side_effects_once(platform, final)
    assert platform.process.poll() is None, platform.output
