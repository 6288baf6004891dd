"""Hostile input never gets a 500, over real HTTP against the live API.

Header values are written as raw bytes on a socket (non-ASCII, not UTF-8 at all), as an
attacker would send them: each is refused with 401 and nothing is logged with a traceback.
Bodies nested 100,000 levels deep are 400, webhooks included (after their signature holds).
A 405 names the allowed methods. A shipment whose worker has stopped answers 503 with
``Retry-After`` on every route that queries or updates it.
"""

import hashlib
import hmac
import itertools
import json
import logging
import time
from collections.abc import Iterator

import httpx
import pytest
from api_support import start_shipment
from live import WEBHOOK_SECRET, LiveApi, Stack
from raw_http import raw_request
from webhook_payloads import send

from canonical.dialects.normalized import MAX_EVENTS
from simulators.signing import sign_broker, sign_easypost
from store.tokens import Role
from workflows.models import MAX_PACKAGES

DEEP = b"[" * 100_000 + b"]" * 100_000
IDLE_QUEUE = "borderflow-shipments-worker-stopped"


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[list[logging.LogRecord]]:
    """Every record logged (by any thread: the API runs on the stack's own)."""
    caplog.set_level(logging.INFO)
    yield caplog.records


def assert_no_traceback(records: list[logging.LogRecord]) -> None:
    crashes = [r for r in records if r.exc_info or "Traceback" in r.getMessage()]
    assert not crashes, [r.getMessage() for r in crashes]


def assert_problem(status: int, headers: dict[str, str], expected: int) -> None:
    assert status == expected
    assert headers["content-type"].startswith("application/problem+json")


async def test_undecodable_and_non_ascii_tokens_are_401(
    api: LiveApi, logged: list[logging.LogRecord]
) -> None:
    token_id = api.token(Role.ADMIN).removeprefix("bf_").split(".")[0]
    for value in (
        f"Bearer bf_{token_id}.".encode() + b"\xff",  # not UTF-8 at all
        f"Bearer bf_{token_id}.é".encode(),  # UTF-8, not ASCII
        "Bearer bf_é.secret".encode(),
        b"Bearer \xff\xfe",
        b"\xff",
    ):
        reply = await raw_request(api.url, "GET", "/v1/shipments", [("Authorization", value)])
        assert_problem(reply.status, reply.headers, 401)
        assert reply.headers["www-authenticate"].startswith("Bearer")
    assert_no_traceback(logged)


def broker_signature(t: str, body: bytes) -> bytes:
    """A correct ``v1`` over timestamp text ``t`` (which may not be ASCII)."""
    digest = hmac.new(WEBHOOK_SECRET.encode(), t.encode() + b"." + body, hashlib.sha256)
    return f"t={t},v1={digest.hexdigest()}".encode()


async def test_an_idempotency_key_that_is_not_printable_ascii_is_400(
    api: LiveApi, logged: list[logging.LogRecord]
) -> None:
    auth = ("Authorization", f"Bearer {api.token(Role.OPS)}".encode())
    body = b'{"milestone": "EXCEPTION", "reason": "damaged"}'
    start = b'{"order_ref": "S99999", "carrier": "easypost", "packages": []}'
    routes = [("/v1/shipments/shipment-X/events", body), ("/v1/shipments", start)]
    for (path, payload), key in itertools.product(routes, (b"\xff\xfe", "clé".encode())):
        reply = await raw_request(
            api.url, "POST", path,
            [auth, ("Idempotency-Key", key), ("Content-Type", b"application/json")], payload,
        )  # fmt: skip
        assert_problem(reply.status, reply.headers, 400)
    assert_no_traceback(logged)


async def test_signature_headers_that_cannot_be_right_are_401(
    api: LiveApi, logged: list[logging.LogRecord]
) -> None:
    body = b'{"object": "Event", "id": "evt_x"}'
    now = int(time.time())
    arabic_now = str(now).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    cases = [
        ("easypost", "X-Hmac-Signature", "hmac-sha256-hex=é".encode()),
        ("easypost", "X-Hmac-Signature", b"hmac-sha256-hex=\xff"),
        ("easypost", "X-Hmac-Signature", b"hmac-sha256-hex=" + b"a" * 8000),
        ("broker", "X-Broker-Signature", f"t={now},v1=é".encode()),
        ("broker", "X-Broker-Signature", f"t={now},v1=".encode() + b"\xff" * 64),
        ("broker", "X-Broker-Signature", broker_signature("١٢٣", body)),
        # signed correctly, but over Unicode digits: not a timestamp
        ("broker", "X-Broker-Signature", broker_signature(arabic_now, body)),
        ("broker", "X-Broker-Signature", broker_signature("9" * 5000, body)),
    ]
    for partner, header, value in cases:
        reply = await raw_request(
            api.url, "POST", f"/v1/webhooks/{partner}",
            [(header, value), ("Content-Type", b"application/json")], body,
        )  # fmt: skip
        assert_problem(reply.status, reply.headers, 401)
    assert_no_traceback(logged)


async def test_a_signed_webhook_nested_100000_levels_is_400(
    api: LiveApi, logged: list[logging.LogRecord]
) -> None:
    signed = {
        "easypost": {"X-Hmac-Signature": sign_easypost(WEBHOOK_SECRET.encode(), DEEP)},
        "broker": {"X-Broker-Signature": sign_broker(WEBHOOK_SECRET.encode(), DEEP,
                                                     int(time.time()))},
    }  # fmt: skip
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        for partner, headers in signed.items():
            reply = await http.post(f"/v1/webhooks/{partner}", content=DEEP, headers=headers)
            assert_problem(reply.status_code, dict(reply.headers), 400)
            assert "deeper than 64" in reply.json()["detail"]
        unsigned = await http.post("/v1/webhooks/easypost", content=DEEP)
        assert unsigned.status_code == 401  # the signature is checked first
    assert_no_traceback(logged)


async def test_api_bodies_nested_100000_levels_are_400(
    api: LiveApi, logged: list[logging.LogRecord]
) -> None:
    deep_field = b'{"reason": ' + DEEP + b"}"
    async with httpx.AsyncClient(base_url=api.url, timeout=30,
                                 headers=api.headers(Role.OPS)) as http:  # fmt: skip
        for path in (
            "/v1/shipments",
            "/v1/shipments/shipment-X/events",
            "/v1/shipments/shipment-X/amend",
            "/v1/shipments/shipment-X/cancel",
        ):
            for body in (DEEP, deep_field):
                reply = await http.post(
                    path, content=body, headers={"Content-Type": "application/json"}
                )
                assert_problem(reply.status_code, dict(reply.headers), 400)  # fmt: skip
    assert_no_traceback(logged)


async def test_405_names_the_allowed_methods(api: LiveApi) -> None:
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        reply = await http.delete("/v1/shipments", headers=api.headers(Role.ADMIN))
        health = await http.request("TRACE", "/healthz")
    assert_problem(reply.status_code, dict(reply.headers), 405)
    assert {m.strip() for m in reply.headers["Allow"].split(",")} >= {"GET", "POST"}
    assert health.status_code == 405 and "GET" in health.headers["Allow"]


async def test_without_a_polling_worker_every_workflow_route_is_503_with_retry_after(
    stack: Stack, api: LiveApi, logged: list[logging.LogRecord]
) -> None:
    stack.start_worker(IDLE_QUEUE)  # the worker takes the shipment, then is gone
    client = await stack.client()
    shipment_id = (await start_shipment(client, task_queue=IDLE_QUEUE)).id
    stack.stop_worker(IDLE_QUEUE)
    headers = api.headers(Role.OPS)
    async with httpx.AsyncClient(base_url=api.url, timeout=60, headers=headers) as http:
        answers = {
            "status": await http.get(f"/v1/shipments/{shipment_id}"),
            "timeline": await http.get(f"/v1/shipments/{shipment_id}/timeline"),
            "cancel": await http.post(f"/v1/shipments/{shipment_id}/cancel",
                                      json={"reason": "nobody polls"}),
        }  # fmt: skip
    for route, reply in answers.items():
        assert reply.status_code == 503, (route, reply.text)
        assert reply.headers["Content-Type"].startswith("application/problem+json"), route
        assert int(reply.headers["Retry-After"]) >= 1, route
    assert_no_traceback(logged)


async def test_inputs_over_their_published_maxima_are_422(api: LiveApi) -> None:
    package = {"weight_kg": "1.5", "length_cm": "30", "width_cm": "20", "height_cm": "10"}
    too_many = {"order_ref": "S-MANY-PACKAGES", "packages": [package] * (MAX_PACKAGES + 1)}
    details = [{"object": "TrackingDetail", "status": "in_transit", "message": f"scan {n}",
                "datetime": f"2026-11-20T10:{n // 60 % 60:02d}:{n % 60:02d}+01:00"}
               for n in range(MAX_EVENTS + 1)]  # fmt: skip
    history = json.dumps(
        {
            "object": "Event",
            "id": "evt_long_history",
            "description": "tracker.updated",
            "result": {
                "object": "Tracker",
                "tracking_code": "EZLONG",
                "status": "in_transit",
                "tracking_details": details,
            },
        }
    )
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        refused = await http.post("/v1/shipments", json=too_many, headers=api.headers(Role.OPS))
        webhook = await send(http, "easypost", history.encode())  # fmt: skip
    assert_problem(refused.status_code, dict(refused.headers), 422)
    assert "packages" in refused.json()["detail"]
    assert_problem(webhook.status_code, dict(webhook.headers), 422)
    assert f"at most {MAX_EVENTS}" in webhook.json()["detail"]
