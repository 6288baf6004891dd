"""The API's access log and ids, against the live API of the observed lifecycle.

One ``borderflow.access`` JSON line per request (route template, never the raw path, the
query string or a header value), ``X-Request-Id`` / ``X-Trace-Id`` on every answer, and the
same ids in every problem+json body.
"""

import json
import re
import uuid
from typing import Any

import httpx
from observed_lifecycle import Lifecycle

HEX32 = re.compile(r"[0-9a-f]{32}")
SECRET_QUERY = "shippo-token-in-the-query-0123"
SECRET_HEADER = "a-header-value-never-logged"


def access_lines(lifecycle: Lifecycle, request_id: str) -> list[dict]:
    lines = [json.loads(line) for line in lifecycle.logs.getvalue().splitlines()]
    return [
        line
        for line in lines
        if line["logger"] == "borderflow.access" and line.get("request_id") == request_id
    ]


async def get(
    lifecycle: Lifecycle, path: str, method: str = "GET", **kwargs: Any
) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.request(method, f"{lifecycle.api_url}{path}", **kwargs)


async def test_one_access_line_per_request_with_the_route_and_no_query_nor_header(
    lifecycle: Lifecycle,
) -> None:
    headers = {**lifecycle.headers, "X-Request-Id": "req-1.a_B", "User-Agent": SECRET_HEADER}
    reply = await get(
        lifecycle, f"/v1/shipments/{lifecycle.shipment_id}",
        params={"token": SECRET_QUERY}, headers=headers,
    )  # fmt: skip
    assert reply.status_code == 200
    assert reply.headers["X-Request-Id"] == "req-1.a_B"
    trace_id = reply.headers["X-Trace-Id"]
    assert HEX32.fullmatch(trace_id)
    (line,) = access_lines(lifecycle, "req-1.a_B")
    assert line["level"] == "INFO"
    assert (line["method"], line["route"], line["status"]) == (
        "GET", "/v1/shipments/{shipment_id}", 200,
    )  # fmt: skip
    assert line["trace_id"] == trace_id
    assert isinstance(line["latency_ms"], float) and 0 <= line["latency_ms"] < 30_000
    assert line["client"] == "127.0.0.1"
    assert line["shipment_id"] == lifecycle.shipment_id
    text = json.dumps(line)
    token = lifecycle.headers["Authorization"].split()[1]
    for leaked in (SECRET_QUERY, SECRET_HEADER, token, "?"):
        assert leaked not in text, leaked


async def test_an_unmatched_path_is_logged_as_unmatched_and_its_problem_names_the_ids(
    lifecycle: Lifecycle,
) -> None:
    reply = await get(lifecycle, "/v1/no-such/secret-path-segment", headers={"X-Request-Id": "r2"})
    assert reply.status_code == 404
    assert reply.headers["content-type"].startswith("application/problem+json")
    body = reply.json()
    assert body["request_id"] == reply.headers["X-Request-Id"] == "r2"
    assert body["trace_id"] == reply.headers["X-Trace-Id"]
    (line,) = access_lines(lifecycle, "r2")
    assert (line["route"], line["status"]) == ("unmatched", 404)
    assert "secret-path-segment" not in json.dumps(line)


async def test_every_problem_carries_the_request_and_trace_ids(lifecycle: Lifecycle) -> None:
    shipment = f"/v1/shipments/{lifecycle.shipment_id}"
    answers = [
        await get(lifecycle, shipment),  # 401: no token
        await get(lifecycle, shipment, method="DELETE", headers=lifecycle.headers),  # 405
        await get(
            lifecycle,
            "/v1/shipments",
            method="POST",
            json={"order_ref": 5},
            headers=lifecycle.headers,
        ),  # 422
        await get(lifecycle, "/v1/shipments/shipment-NOPE", headers=lifecycle.headers),  # 404
    ]
    assert [reply.status_code for reply in answers] == [401, 405, 422, 404]
    for reply in answers:
        body = reply.json()
        assert body["request_id"] == reply.headers["X-Request-Id"]
        assert body["trace_id"] == reply.headers["X-Trace-Id"]
        assert HEX32.fullmatch(body["trace_id"])
        (line,) = access_lines(lifecycle, body["request_id"])
        assert line["status"] == reply.status_code and line["trace_id"] == body["trace_id"]


async def test_an_insane_request_id_is_replaced_by_a_uuid4(lifecycle: Lifecycle) -> None:
    for sent in ("x" * 129, "a b", "a/b", "a;b=c", "%41", ""):
        reply = await get(lifecycle, "/healthz", headers={"X-Request-Id": sent})
        assert reply.status_code == 200
        kept = reply.headers["X-Request-Id"]
        assert kept != sent and uuid.UUID(kept).version == 4, sent
        assert len(access_lines(lifecycle, kept)) == 1
    longest = "A-z.0_" * 21 + "xx"  # 128 characters
    reply = await get(lifecycle, "/healthz", headers={"X-Request-Id": longest})
    assert reply.headers["X-Request-Id"] == longest


async def test_the_trace_id_is_the_callers_when_it_sends_a_traceparent(
    lifecycle: Lifecycle,
) -> None:
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    traceparent = f"00-{trace_id}-00f067aa0ba902b7-01"
    reply = await get(lifecycle, "/healthz", headers={"traceparent": traceparent})
    assert reply.headers["X-Trace-Id"] == trace_id
    (line,) = access_lines(lifecycle, reply.headers["X-Request-Id"])
    assert (line["trace_id"], line["route"], line["status"]) == (trace_id, "/healthz", 200)
    assert len(line["span_id"]) == 16
