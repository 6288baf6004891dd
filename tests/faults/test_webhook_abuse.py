"""Fault drill: a sustained stream of bad and repeated webhooks against the running API.

The whole platform runs as `make run` starts it; one shipment waits in customs (its
declaration held) while, for several seconds, the API receives four rounds a second of:
forged signatures (EasyPost and broker), correctly signed broker webhooks with a stale
timestamp, replays of delivered webhooks, new tracking events each sent ten times at once,
bodies over the size limit, signed bodies that are not JSON, and signed JSON that is no
partner's shape. Every bad one is refused with the right problem+json status, every repeat is
deduplicated, the API stays healthy throughout, the legitimate events in between reach the
shipment once each, and the shipment (and one started meanwhile) goes on to be invoiced.
"""

import asyncio
import hashlib
import hmac
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fault_drills import (
    assert_side_effects_once,
    broker_event,
    create_order,
    follow,
    inbox,
    set_faults,
    signed_broker,
    signed_easypost,
    sim,
    start_shipment,
    status,
    tracking_event,
    wait_until,
)
from running_platform import Platform

from canonical.dialects import normalize

ROUNDS = 32
ROUND_S = 0.25
PROBLEM = "application/problem+json"


def scan_at(n: int) -> str:
    return (datetime(2026, 11, 20, 8, tzinfo=UTC) + timedelta(minutes=n)).isoformat()


class Abuse:
    """Sends the rounds and tallies what came back, by kind of request."""

    def __init__(self, platform: Platform, shipment_id: str, tracking: str, declaration: str):
        self.platform = platform
        self.api = platform.api_url
        self.tracking = tracking
        self.replayed = signed_easypost(
            platform, tracking_event("evt_abuse_first", tracking, "arrived_at_facility",
                                     scan_at(0)))  # fmt: skip
        self.broker = signed_broker(
            platform, broker_event("bev_abuse_review", shipment_id, declaration, "UNDER_REVIEW")
        )
        self.stale = signed_broker(
            platform, broker_event("bev_abuse_stale", shipment_id, declaration, "RELEASED"),
            at=int(datetime.now(UTC).timestamp()) - 3600,
        )  # fmt: skip
        self.legit: list[bytes] = [self.replayed[0], self.broker[0]]
        self.answers: dict[str, list[httpx.Response]] = {}
        self.first_sends: list[dict[str, Any]] = []

    async def post(
        self, client: httpx.AsyncClient, kind: str, partner: str, body: bytes,
        headers: dict[str, str],
    ) -> None:  # fmt: skip
        reply = await client.post(f"{self.api}/v1/webhooks/{partner}", content=body,
                                  headers=headers)  # fmt: skip
        self.answers.setdefault(kind, []).append(reply)

    async def health(self, client: httpx.AsyncClient) -> None:
        self.answers.setdefault("healthz", []).append(await client.get(f"{self.api}/healthz"))

    async def round(self, client: httpx.AsyncClient, n: int) -> None:
        body, headers = self.replayed
        forged_body = json.dumps({"id": f"evt_forged_{n}", "description": "tracker.updated"})
        sends = [
            self.post(client, "forged", "easypost", forged_body.encode(),
                      {"X-Hmac-Signature": "hmac-sha256-hex=" + "0" * 64}),
            self.post(client, "forged", "broker", self.broker[0],
                      {"X-Broker-Signature": self.broker[1]["X-Broker-Signature"][:-4] + "beef"}),
            self.post(client, "stale", "broker", *self.stale),
            self.post(client, "replay", "easypost", body, headers),
            self.post(client, "replay", "broker", *self.broker),
            self.post(client, "not_json", "easypost",
                      *signed_raw(self.platform, b"{\"id\": \"evt_cut" + str(n).encode())),
            self.post(client, "not_a_shape", "easypost",
                      *signed_raw(self.platform, json.dumps({"round": n}).encode())),
            self.health(client),
        ]  # fmt: skip
        if n % 4 == 0:
            sends.append(self.post(client, "oversized", "easypost", b"x" * (2 * 1024 * 1024),
                                   headers))  # fmt: skip
            event = tracking_event(f"evt_abuse_{n}", self.tracking, "arrived_at_facility",
                                   scan_at(n + 1))  # fmt: skip
            fresh = signed_easypost(self.platform, event)
            self.legit.append(fresh[0])
            sends += [self.post(client, f"tenfold_{n}", "easypost", *fresh) for _ in range(10)]
        await asyncio.gather(*sends)

    async def run(self) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            for kind, partner, (body, headers) in (("first", "easypost", self.replayed),
                                                   ("first", "broker", self.broker)):  # fmt: skip
                await self.post(client, kind, partner, body, headers)
            for n in range(ROUNDS):
                started = asyncio.get_running_loop().time()
                await self.round(client, n)
                left = ROUND_S - (asyncio.get_running_loop().time() - started)
                await asyncio.sleep(max(left, 0))


def signed_raw(platform: Platform, body: bytes) -> tuple[bytes, dict[str, str]]:
    """Any body, signed as EasyPost signs: the signature holds, the content is the problem."""
    secret = platform.local_env()["BORDERFLOW_EASYPOST_WEBHOOK_SECRET"].encode()
    digest = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return body, {"X-Hmac-Signature": f"hmac-sha256-hex={digest}"}


def test_sustained_webhook_abuse_is_refused_or_deduplicated_and_harms_nothing(
    platform: Platform,
) -> None:
    set_faults(platform, "broker", {"customs": {"hold_next": 1}})
    shipment_id = start_shipment(platform, create_order(platform))
    held = wait_until("the declaration held",
                      lambda: [d for d in status(platform, shipment_id)["customs"]
                               if d["status"] == "HELD"], 60)[0]  # fmt: skip
    tracking = status(platform, shipment_id)["references"]["tracking_number"]
    abuse = Abuse(platform, shipment_id, tracking, held["declaration_id"])
    bystander = create_order(platform)

    async def abuse_and_start_another() -> str:
        running = asyncio.create_task(abuse.run())
        await asyncio.sleep(2)
        other = await asyncio.to_thread(start_shipment, platform, bystander)
        await running
        return other

    other_id = asyncio.run(abuse_and_start_another())
    answers = abuse.answers

    def statuses(kind: str) -> Counter[int]:
        return Counter(r.status_code for r in answers[kind])

    assert statuses("first") == Counter({200: 2}), [r.text for r in answers["first"]]
    assert statuses("forged") == Counter({401: 2 * ROUNDS})
    assert statuses("stale") == Counter({401: ROUNDS})
    assert statuses("oversized") == Counter({413: ROUNDS // 4})
    assert statuses("not_json") == Counter({400: ROUNDS})
    assert statuses("not_a_shape") == Counter({422: ROUNDS})
    for kind in ("forged", "stale", "oversized", "not_json", "not_a_shape"):
        assert {r.headers["content-type"].split(";")[0] for r in answers[kind]} == {PROBLEM}
    assert statuses("replay") == Counter({200: 2 * ROUNDS})
    assert {r.json()["duplicate"] for r in answers["replay"]} == {True}
    for kind in (k for k in answers if k.startswith("tenfold_")):
        assert statuses(kind) == Counter({200: 10}), [r.text for r in answers[kind]]
        assert sorted(r.json()["duplicate"] for r in answers[kind]) == [False] + [True] * 9
        assert len({r.json()["inbox_id"] for r in answers[kind]}) == 1
    assert statuses("healthz") == Counter({200: ROUNDS})

    # Reordered: a later scan arrives before an earlier one; both count, nothing moves back.
    for n in (ROUNDS + 3, ROUNDS + 2):
        event = tracking_event(f"evt_abuse_{n}", tracking,
                               "out_for_delivery" if n == ROUNDS + 3 else "arrived_at_facility",
                               scan_at(n))  # fmt: skip
        body, headers = signed_easypost(platform, event)
        abuse.legit.append(body)
        reply = httpx.post(f"{platform.api_url}/v1/webhooks/easypost", content=body,
                           headers=headers, timeout=30)  # fmt: skip
        assert reply.status_code == 200 and reply.json()["duplicate"] is False, reply.text

    # Every legitimate event reached the shipment exactly once.
    wanted = Counter(
        event.dedupe_key
        for body in abuse.legit
        for event in normalize("broker" if b"declaration" in body else "easypost", body,
                               received_at=datetime.now(UTC)).events
    )  # fmt: skip
    assert len(wanted) == len(abuse.legit) and set(wanted.values()) == {1}
    now = status(platform, shipment_id)
    recorded = Counter(e["dedupe_key"] for e in now["events"] if e["dedupe_key"] in wanted)
    assert recorded == wanted
    assert now["transport_status"] != "ARRIVED"  # the late earlier scan moved nothing back
    dead = inbox(platform, "dead")
    assert len(dead) == ROUNDS and all("not understood" in d["reason"] for d in dead)
    assert not [i for i in inbox(platform, "received") if i["partner"] == "easypost"
                and i["dedupe_key"].startswith("evt_abuse")]  # fmt: skip
    assert httpx.get(f"{platform.api_url}/readyz", timeout=30).json() == {"status": "ready"}

    # Nothing else was affected: both shipments go on to be invoiced, every side effect once.
    httpx.post(f"{sim(platform, 'broker')}/_sim/declarations/{held['declaration_id']}/release",
               timeout=10).raise_for_status()  # fmt: skip
    for shipment in (shipment_id, other_id):
        assert_side_effects_once(platform, follow(platform, shipment, timeout_s=90))
