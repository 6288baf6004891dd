"""Benchmark 2: signed partner webhooks through our API against bare client signals.

Set-up: the carrier simulator is told to drop its own webhooks (``webhooks.drop_rate`` 1),
then ``BENCH_WEBHOOK_SHIPMENTS`` real shipments are started and parked in ``delivery`` (booked,
customs released, tracking number linked). Their tracking events then come only from here:

A: ``POST /v1/webhooks/easypost`` with an HMAC-signed EasyPost ``tracker.updated`` (a new
event id each time): signature check, rate limit, normalize, inbox row, tracking → shipment
lookup, signal, inbox update. Payloads are cumulative as EasyPost's are: the Nth webhook of a
tracker carries its N ``tracking_details`` so far (one new), the story starting over after
``BENCH_WEBHOOK_DETAILS`` (default 20) details, so bodies average a ten-detail tracker.
B: one client signal per webhook to a bare :class:`SinkWorkflow` (one per shipment) carrying
a payload the size of one canonical event, which is what the API sends a shipment for a
webhook with one new event. Closed loops, alternating windows; then A alone at a fixed
offered rate (open loop, latency counted from each request's scheduled time, so a backlog
shows as latency instead of hiding as a lower rate).
"""

import asyncio
import json
import os
import time
import uuid
from datetime import UTC, datetime

import httpx

from bench.bare_workflows import TASK_QUEUE, SinkWorkflow
from bench.platform import Platform
from bench.stats import (
    BenchResult,
    alternate,
    closed_loop,
    env_float,
    env_int,
    open_loop,
    percentiles_ms,
)
from canonical.dialects import normalize
from cli.demo import DEMO_PACKAGE, create_demo_order
from simulators.signing import sign_easypost


class Trackers:
    """Cumulative ``tracker.updated`` bodies, one growing story per tracking number."""

    def __init__(self, details: int) -> None:
        self.details = details
        self._stories: dict[str, list[dict[str, str]]] = {}

    def next_body(self, tracking_number: str) -> bytes:
        """The tracker's next webhook: every detail so far plus a new one."""
        story = self._stories.setdefault(tracking_number, [])
        if len(story) >= self.details:
            story.clear()
        story.append({"object": "TrackingDetail", "status": "in_transit",
                      "status_detail": "arrived_at_facility", "message": f"Sorted {len(story)}",
                      "datetime": datetime.now(UTC).isoformat()})  # fmt: skip
        return tracker_updated(tracking_number, story)


def tracker_updated(tracking_number: str, details: list[dict[str, str]]) -> bytes:
    """An EasyPost ``tracker.updated`` Event that moves nothing (``arrived_at_facility``)."""
    return json.dumps({
        "object": "Event", "id": f"evt_{uuid.uuid4().hex}", "description": "tracker.updated",
        "result": {"object": "Tracker", "id": "trk_bench", "tracking_code": tracking_number,
                   "status": "in_transit", "status_detail": "arrived_at_facility",
                   "tracking_details": details},
    }).encode()  # fmt: skip


def one_event_payload(tracking_number: str) -> str:
    """A string as long as the JSON of a batch of one canonical event (what B signals)."""
    body = Trackers(1).next_body(tracking_number)
    (event,) = normalize("easypost", body, received_at=datetime.now(UTC)).events
    batch = {"events": [event.model_dump(mode="json")], "partner": "easypost",
             "inbox_message_id": 1}  # fmt: skip
    return "x" * len(json.dumps(batch))


async def park_shipments(platform: Platform, api: httpx.AsyncClient, n: int) -> dict[str, str]:
    """``n`` shipments waiting in ``delivery``: tracking number → shipment id."""
    carrier = platform.sim_url("easypost")
    async with httpx.AsyncClient(base_url=carrier, timeout=10.0) as sim:
        (await sim.post("/_sim/faults", json={"webhooks": {"drop_rate": 1.0}})).raise_for_status()
    odoo = platform.odoo()
    try:
        orders = [await create_demo_order(odoo, 1000 + i) for i in range(n)]
    finally:
        await odoo.aclose()
    ids = []
    for order in orders:
        response = await api.post(
            "/v1/shipments", json={"order_ref": order, "packages": [DEMO_PACKAGE]}
        )
        response.raise_for_status()
        ids.append(response.json()["shipment_id"])
    parked: dict[str, str] = {}
    deadline = time.monotonic() + 120
    while len(parked) < n and time.monotonic() < deadline:
        for shipment_id in ids:
            status = (await api.get(f"/v1/shipments/{shipment_id}")).json()
            tracking = status.get("references", {}).get("tracking_number")
            if status.get("stage") == "delivery" and tracking:
                parked[tracking] = shipment_id
        await asyncio.sleep(0.5)
    if len(parked) < n:
        raise RuntimeError(f"only {len(parked)} of {n} shipments reached delivery")
    return parked


async def run(platform: Platform) -> BenchResult:
    n = env_int("BENCH_WEBHOOK_SHIPMENTS", 10)
    concurrency = env_int("BENCH_WEBHOOK_CONCURRENCY", 8)
    seconds = env_float("BENCH_WEBHOOK_WINDOW_S", 6.0)
    pairs = env_int("BENCH_WEBHOOK_PAIRS", 3)
    rate_asked = os.environ.get("BENCH_WEBHOOK_RATE")
    rate_s = env_float("BENCH_WEBHOOK_RATE_S", 8.0)
    trackers = Trackers(env_int("BENCH_WEBHOOK_DETAILS", 20))
    secret = platform.secrets["BORDERFLOW_EASYPOST_WEBHOOK_SECRET"].encode()
    async with httpx.AsyncClient(
        base_url=platform.url("api"), headers=platform.api_headers, timeout=30.0,
        limits=httpx.Limits(max_connections=256),
    ) as api:  # fmt: skip
        parked = await park_shipments(platform, api, n)
        tracking = list(parked)
        batch = uuid.uuid4().hex[:8]
        sinks = [await platform.temporal.start_workflow(
            SinkWorkflow.run, id=f"bench-sink-{batch}-{i}", task_queue=TASK_QUEUE)
            for i in range(n)]  # fmt: skip
        payload = one_event_payload(tracking[0])

        async def webhook(i: int) -> bool:
            body = trackers.next_body(tracking[i % n])
            response = await api.post(
                "/v1/webhooks/easypost", content=body,
                headers={"X-Hmac-Signature": sign_easypost(secret, body),
                         "Content-Type": "application/json"},
            )  # fmt: skip
            return response.status_code == 200 and response.json()["state"] == "delivered"

        async def signal(i: int) -> bool:
            await sinks[i % n].signal(SinkWorkflow.events, payload)
            return True

        compared = await alternate(
            lambda: closed_loop(webhook, concurrency, seconds),
            lambda: closed_loop(signal, concurrency, seconds),
            pairs,
        )
        # The fixed offered rate: 200/s unless asked otherwise, and never more than 60 % of
        # the measured webhook throughput (above it, latency only measures the backlog).
        offered = float(rate_asked) if rate_asked else min(200.0, 0.6 * compared.a_rate)
        fixed = await open_loop(webhook, offered, rate_s)
        for sink in sinks:
            await sink.signal(SinkWorkflow.stop)
    async with httpx.AsyncClient(base_url=platform.sim_url("easypost"), timeout=10.0) as sim:
        await sim.delete("/_sim/faults")
    latency = percentiles_ms(fixed.latencies_s)
    metrics = {
        **compared.summary("webhooks", "signals"),
        "webhook_latency_closed_loop": percentiles_ms(
            [s for w in compared.a for s in w.latencies_s]),
        "fixed_rate": {"offered_per_s": round(offered, 1), "completed_per_s": round(fixed.rate, 1),
                       "errors": fixed.errors, **latency},
    }  # fmt: skip
    return BenchResult(
        "webhooks",
        {"shipments": n, "concurrency": concurrency, "window_s": seconds, "pairs": pairs,
         "fixed_rate_s": rate_s, "details_per_story": trackers.details,
         "signal_payload_chars": len(payload),
         "fixed_rate_asked": rate_asked or "auto (min(200, 0.6 × A))"},
        metrics,
        [
            ("signed webhooks via API/s", f"{compared.a_rate:.1f}"),
            ("bare client signals/s", f"{compared.b_rate:.1f}"),
            ("ratio webhook/signal", f"{compared.ratio:.3f}"),
            (f"at {offered:.0f}/s offered: done/s", f"{fixed.rate:.1f} ({fixed.errors} errors)"),
            ("  latency p50/p95/p99", f"{latency['p50_ms']:.0f} / {latency['p95_ms']:.0f} / "
                                      f"{latency['p99_ms']:.0f} ms"),
        ],
    )  # fmt: skip
