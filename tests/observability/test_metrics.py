"""``/metrics`` of the API and of the worker, scraped over HTTP, before and after real actions."""

import asyncio
import hashlib
import hmac
import json
import time

import httpx
from observed_lifecycle import SECRETS, Lifecycle, scrape
from prometheus_client.parser import text_string_to_metric_families


def value(text: str, name: str, **labels: str) -> float:
    """The sample ``name{labels}`` of a scrape (0 when absent: a counter not yet touched)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def signed_easypost(body: bytes) -> dict[str, str]:
    secret = SECRETS["easypost_webhook_secret"].encode()
    return {
        "X-Hmac-Signature": "hmac-sha256-hex=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    }


async def test_partner_calls_webhooks_and_api_requests_move_their_counters(
    lifecycle: Lifecycle,
) -> None:
    before, after = lifecycle.metrics_before, lifecycle.metrics_after
    worker, api = after["worker"], after["api"]

    # The worker called each partner; the TMS exactly once (one transport order).
    calls = "borderflow_partner_requests_total"
    assert (
        value(worker, calls, partner="tms", outcome="ok")
        - value(before["worker"], calls, partner="tms", outcome="ok")
        == 1
    )
    for partner in ("odoo", "easypost", "broker", "notify"):
        assert value(worker, calls, partner=partner, outcome="ok") > value(
            before["worker"], calls, partner=partner, outcome="ok"
        ), partner
    seconds = "borderflow_partner_request_seconds_count"
    assert (
        value(worker, seconds, partner="tms") - value(before["worker"], seconds, partner="tms") == 1
    )
    assert value(worker, "borderflow_partner_request_seconds_bucket", partner="tms", le="+Inf") >= 1

    # The inbox delivered the carrier's and the broker's milestones.
    milestones = "borderflow_milestones_total"
    assert value(api, milestones, partner="easypost", milestone="DELIVERED") >= 1
    assert value(api, milestones, partner="broker", milestone="CUSTOMS_RELEASED") >= 1
    # Requests are counted by route template, not by path.
    requests = "borderflow_http_requests_total"
    assert (
        value(api, requests, route="/v1/shipments", status="201")
        - value(before["api"], requests, route="/v1/shipments", status="201")
        == 1
    )
    assert value(api, requests, route="/v1/shipments/{shipment_id}", status="200") >= 1
    assert value(api, requests, route="/v1/webhooks/{partner}", status="200") >= 1
    assert f"/v1/shipments/{lifecycle.shipment_id}" not in api


async def test_unmapped_codes_dead_letters_and_shipments_by_status(lifecycle: Lifecycle) -> None:
    api_url = lifecycle.api_url
    async with httpx.AsyncClient(timeout=30) as http:
        before = (await scrape(http, lifecycle))["api"]
        # A tracker update with a status no table maps: stored, normalized to UNKNOWN.
        event = {
            "object": "Event", "id": "evt_unmapped_1", "description": "tracker.updated",
            "result": {"object": "Tracker", "id": "trk_x", "tracking_code": "EZ-NOBODY",
                       "status": "teleported", "status_detail": "beamed_up",
                       "tracking_details": [{"object": "TrackingDetail", "status": "teleported",
                                             "status_detail": "beamed_up", "message": "Beamed",
                                             "datetime": "2026-11-20T10:00:00+01:00"}]},
        }  # fmt: skip
        body = json.dumps(event).encode()
        reply = await http.post(f"{api_url}/v1/webhooks/easypost", content=body,
                                headers=signed_easypost(body))  # fmt: skip
        assert reply.status_code == 202, reply.text
        # A signed payload that is not an EasyPost event: a dead letter at once.
        junk = b'{"not": "an event"}'
        reply = await http.post(f"{api_url}/v1/webhooks/easypost", content=junk,
                                headers=signed_easypost(junk))  # fmt: skip
        assert reply.status_code == 422
        after = (await scrape(http, lifecycle))["api"]
        unmapped = "borderflow_unmapped_codes_total"
        assert (
            value(after, unmapped, partner="easypost") - value(before, unmapped, partner="easypost")
            == 1
        )
        # The gauges are counted periodically (every 0.5 s here).
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            api = (await scrape(http, lifecycle))["api"]
            if (
                value(api, "borderflow_inbox_dead_letters") >= 1
                and value(api, "borderflow_shipments", status="invoiced") >= 1
            ):
                break
            await asyncio.sleep(0.2)
        assert value(api, "borderflow_inbox_dead_letters") >= 1
        assert value(api, "borderflow_shipments", status="invoiced") == 1


async def test_the_worker_serves_health_and_readiness(lifecycle: Lifecycle) -> None:
    async with httpx.AsyncClient(timeout=10) as http:
        assert (await http.get(f"{lifecycle.worker_url}/healthz")).json() == {"status": "ok"}
        ready = await http.get(f"{lifecycle.worker_url}/readyz")
        assert ready.status_code == 200 and ready.json()["status"] == "ready"
        # The API's /metrics needs no token (documented: keep the port private).
        assert (await http.get(f"{lifecycle.api_url}/metrics")).status_code == 200
