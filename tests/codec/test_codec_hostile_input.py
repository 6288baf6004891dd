"""The codec server refuses hostile input with 4xx, never a 500, never a logged traceback.

Header values go out as raw bytes on a socket (an HTTP client would refuse to send them).
"""

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
