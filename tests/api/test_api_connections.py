"""Slow and abundant clients (``workers/serving.py``), over real sockets: the header timeout
(408, then closed), the keep-alive idle timeout, the connection cap (503 at once, never
queued), and that normal requests are served throughout.

The server runs on its own event loop in a thread, as if it were another process, so the
clients here cannot slow it down by sharing its loop. Timeouts are fractions of a second.
"""

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from aiohttp import web
from tests_support import free_port

from api.settings import ApiSettings
from workers.codec_server import CodecServerSettings
from workers.http import start_http
from workers.lifetime import serve_until_terminated
from workers.serving import ConnectionGate, HttpServing, start_serving
from workers.settings import WorkerSettings

PARTIAL_HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def tiny_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/healthz", healthz)
    return app


class Served:
    """An app served by :func:`start_serving` on a loop of its own, in a thread."""

    def __init__(self, limits: HttpServing) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self.runner = self._run(start_serving(tiny_app(), "127.0.0.1", self.port, limits))

    def _run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(30)

    @property
    def gate(self) -> ConnectionGate:
        gate: ConnectionGate = next(iter(self.runner.sites)).gate
        return gate

    def close(self) -> None:
        self._run(self.runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@contextmanager
def served(**limits: Any) -> Iterator[Served]:
    server = Served(HttpServing(**limits))
    try:
        yield server
    finally:
        server.close()


async def until(condition: Any, within_s: float = 5.0) -> None:
    deadline = time.monotonic() + within_s
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, dict[str, str], bytes]:
    """One HTTP/1.1 response: status line, headers (lower-cased), body (Content-Length)."""
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    status, *lines = head.strip().split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines)}
    body = await reader.readexactly(int(headers["content-length"]))
    return status.encode(), headers, body


async def test_a_slowloris_client_gets_408_and_is_disconnected_after_the_header_timeout() -> None:
    with served(http_header_timeout_s=0.5, http_keepalive_timeout_s=30) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(PARTIAL_HEAD)
        started = time.monotonic()
        async with httpx.AsyncClient() as http:  # others are served meanwhile
            assert (await http.get(f"{server.url}/healthz")).status_code == 200
        status, headers, body = await asyncio.wait_for(read_response(reader), 5)
        assert 0.4 <= time.monotonic() - started < 2.0
        assert status == b"HTTP/1.1 408 Request Timeout"
        assert headers["content-type"] == "application/problem+json"
        assert headers["connection"] == "close"
        assert json.loads(body)["status"] == 408
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed
        writer.close()
        await until(lambda: server.gate.open == 0)


async def test_a_connection_that_sends_nothing_is_closed_without_an_answer() -> None:
    with served(http_header_timeout_s=0.5, http_keepalive_timeout_s=30) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        started = time.monotonic()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert 0.4 <= time.monotonic() - started < 2.0
        writer.close()


async def test_the_whole_head_must_arrive_in_time_even_when_bytes_keep_coming() -> None:
    with served(http_header_timeout_s=0.5, http_keepalive_timeout_s=30) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        started = time.monotonic()
        writer.write(PARTIAL_HEAD)
        answer = asyncio.create_task(reader.read())  # done when the server closes
        while not answer.done() and time.monotonic() - started < 5:
            try:
                writer.write(b"X-Slow: 1\r\n")  # a header line every 50 ms, never the end
                await writer.drain()
            except ConnectionError:
                break
            await asyncio.sleep(0.05)
        assert (await asyncio.wait_for(answer, 5)).startswith(b"HTTP/1.1 408 ")
        assert 0.4 <= time.monotonic() - started < 2.0
        writer.close()


async def test_an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() -> None:
    with served(http_header_timeout_s=30, http_keepalive_timeout_s=0.6) as server:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        for _ in range(2):  # kept alive: a second request on the same connection
            writer.write(REQUEST)
            status, _, body = await asyncio.wait_for(read_response(reader), 5)
            assert status == b"HTTP/1.1 200 OK" and json.loads(body) == {"status": "ok"}
            answered = time.monotonic()
            await asyncio.sleep(0.2)
        assert await asyncio.wait_for(reader.read(), 5) == b""
        assert 0.5 <= time.monotonic() - answered < 2.0
        writer.close()


async def test_beyond_the_cap_a_connection_gets_503_at_once_and_a_new_one_works_later() -> None:
    with served(http_max_connections=5, http_header_timeout_s=30) as server:
        held = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(5)]
        for _, writer in held:
            writer.write(PARTIAL_HEAD)
        await until(lambda: server.gate.open == 5)

        started = time.monotonic()
        async with httpx.AsyncClient() as http:
            refused = await http.get(f"{server.url}/healthz")
        assert time.monotonic() - started < 1.0  # answered at once, not queued
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "1"
        assert "too many open connections" in refused.json()["detail"]
        assert server.gate.refused == 1 and server.gate.open == 5

        for _, writer in held:
            writer.close()
        await until(lambda: server.gate.open == 0)
        async with httpx.AsyncClient() as http:
            assert (await http.get(f"{server.url}/healthz")).status_code == 200


async def test_two_thousand_slow_sockets_against_a_cap_of_500_leave_the_server_responsive() -> None:
    """The numbers: 2,000 slowloris sockets at once, cap 500, header timeout 3 s."""
    with served(http_max_connections=500, http_header_timeout_s=3) as server:

        async def slow() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(PARTIAL_HEAD)
            return reader, writer

        opened = time.monotonic()
        sockets = await asyncio.gather(*(slow() for _ in range(2000)))
        gate = server.gate
        await until(lambda: gate.admitted + gate.refused == 2000, within_s=8)
        arrived_s = time.monotonic() - opened
        admitted, refused = gate.admitted, gate.refused
        # 1,500 when all arrive within the header timeout (a slot freed earlier admits more)
        assert refused >= 1000 and gate.open <= 500, (admitted, refused)
        async with httpx.AsyncClient() as http:
            started = time.monotonic()
            full = await http.get(f"{server.url}/healthz")  # refused at once, not queued
            refused_in_s = time.monotonic() - started
            assert full.status_code == 503 and refused_in_s < 0.5
            await until(lambda: gate.open == 0, within_s=8)  # the slow ones timed out
            cut_after_s = time.monotonic() - opened
            started = time.monotonic()
            assert (await http.get(f"{server.url}/healthz")).status_code == 200
            served_in_s = time.monotonic() - started
        for _, writer in sockets:
            writer.close()
        print(f"2000 slow sockets vs cap 500: all in after {arrived_s:.2f} s, {refused} "
              f"refused at once; /healthz 503 in {refused_in_s * 1000:.1f} ms while full; "
              f"the {admitted} admitted cut after {cut_after_s:.2f} s; "
              f"then /healthz 200 in {served_in_s * 1000:.1f} ms")  # fmt: skip
        assert 3.0 <= cut_after_s < arrived_s + 3.0 + 2.0


@pytest.mark.parametrize("entry", ["serve_until_terminated", "start_http"])
async def test_every_server_entry_point_has_the_limits(entry: str) -> None:
    """The API and the codec server serve with ``serve_until_terminated``, the worker's port
    with ``start_http``: both go through the guarded handler."""
    port = free_port()
    limits = HttpServing(http_header_timeout_s=0.3)
    if entry == "start_http":
        runner = await start_http(tiny_app(), "127.0.0.1", port, limits)
        stop: Any = runner.cleanup
    else:
        task = asyncio.create_task(
            serve_until_terminated(tiny_app(), "127.0.0.1", port, "test", limits)
        )
        await asyncio.sleep(0.2)

        async def stop() -> None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(PARTIAL_HEAD)
        status, _, _ = await asyncio.wait_for(read_response(reader), 3)
        assert status == b"HTTP/1.1 408 Request Timeout"
        writer.close()
    finally:
        await stop()


def test_every_process_reads_the_same_http_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BORDERFLOW_HTTP_HEADER_TIMEOUT_S", "4")
    monkeypatch.setenv("BORDERFLOW_HTTP_KEEPALIVE_TIMEOUT_S", "6")
    monkeypatch.setenv("BORDERFLOW_HTTP_MAX_CONNECTIONS", "70")
    for key in ("ODOO_PASSWORD", "TMS_API_KEY", "CARRIER_API_KEY", "BROKER_API_KEY"):
        monkeypatch.setenv(f"BORDERFLOW_{key}", "x")
    api = ApiSettings(easypost_webhook_secret="x", broker_webhook_secret="x")
    for settings in (api, WorkerSettings(), CodecServerSettings(), HttpServing()):
        assert (settings.http_header_timeout_s, settings.http_keepalive_timeout_s,
                settings.http_max_connections) == (4, 6, 70), type(settings)  # fmt: skip
