"""The codec server refuses hostile input with 4xx, never a 500, never a logged traceback.

Header values go out as raw bytes on a socket (an HTTP client would refuse to send them).
"""

import asyncio
import json
import logging
from pathlib import Path

import pytest
from raw_http import raw_request
from test_codec_server import plain_payloads, start

DEEP = b"[" * 100_000 + b"]" * 100_000


async def test_undecodable_tokens_and_deep_bodies_are_refused_without_a_traceback(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    server, runner = await start(tmp_path)
    try:
        admin = server.tokens["admin"]
        token_id = admin.removeprefix("bf_").split(".")[0]
        body = json.dumps(plain_payloads()).encode()
        content = ("Content-Type", b"application/json")
        for value in (f"Bearer bf_{token_id}.".encode() + b"\xff", "Bearer bf_é.x".encode(),
                      b"Bearer " + admin.encode() + b"\xff", b"\xff"):  # fmt: skip
            reply = await raw_request(server.url, "POST", "/decode",
                                      [("Authorization", value), content], body)  # fmt: skip
            assert reply.status == 401, value
            assert reply.headers["content-type"].startswith("application/problem+json")
        cookie = ("Cookie", b"borderflow_codec=bf_" + token_id.encode() + b".\xff")
        origin = ("Origin", b"http://localhost:8233")
        reply = await raw_request(server.url, "POST", "/decode", [cookie, origin, content], body)
        assert reply.status == 401
        for deep in (DEEP, b'{"payloads": ' + DEEP + b"}"):
            auth = ("Authorization", f"Bearer {admin}".encode())
            reply = await raw_request(server.url, "POST", "/decode", [auth, content], deep)
            assert reply.status == 400 and "deeper than 64" in reply.json()["detail"]
    finally:
        await runner.cleanup()
    crashes = [r for r in caplog.records if r.exc_info or "Traceback" in r.getMessage()]
    assert not crashes, [r.getMessage() for r in crashes]


async def test_a_bad_token_flood_gets_429_before_any_lookup(tmp_path: Path) -> None:
    """Per client address, before authentication, as on the API: after the failure burst the
    address is refused, even with a valid token (so nothing is looked up); probes still pass."""
    server, runner = await start(
        tmp_path, client_failure_limit_burst=3, client_failure_limit_per_s=0.01
    )
    try:
        body = json.dumps(plain_payloads()).encode()
        content = ("Content-Type", b"application/json")
        statuses = []
        for _ in range(5):
            bad = ("Authorization", b"Bearer bf_000000000000.wrong")
            statuses.append((await raw_request(server.url, "POST", "/decode", [bad, content],
                                               body)).status)  # fmt: skip
        assert statuses == [401, 401, 401, 429, 429]
        good = ("Authorization", f"Bearer {server.tokens['support']}".encode())
        refused = await raw_request(server.url, "POST", "/decode", [good, content], body)
        assert refused.status == 429 and int(refused.headers["retry-after"]) >= 1
        assert (await raw_request(server.url, "GET", "/healthz", [])).status == 200
    finally:
        await runner.cleanup()


async def test_a_body_that_never_arrives_is_answered_504(tmp_path: Path) -> None:
    server, runner = await start(tmp_path, codec_request_timeout_s=0.5)
    try:
        host, port = server.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        head = (f"POST /decode HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer "
                f"{server.tokens['support']}\r\nContent-Type: application/json\r\n"
                "Content-Length: 100\r\n\r\n{")  # fmt: skip
        writer.write(head.encode())
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(4096), timeout=10)
        assert answer.startswith(b"HTTP/1.1 504"), answer
        writer.close()
    finally:
        await runner.cleanup()
