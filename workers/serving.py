"""How every Borderflow HTTP server holds its connections: the API, the worker's port, the codec
server all serve through :func:`start_serving`, with the limits of :class:`HttpServing`.

Guarantees, per process (``BORDERFLOW_HTTP_*``, the same names in every process):

- **Header timeout.** A request head (request line and headers) must be complete within
  ``http_header_timeout_s`` of the connection opening or, on a kept-alive connection, of the
  head's first byte. Otherwise the server answers ``408`` (problem+json) and closes the
  connection (a connection that sent nothing at all is closed without an answer): a client
  sending a partial head and then nothing ("slowloris") holds a socket for that long, not for
  ever.
- **Keep-alive timeout.** A connection idle between requests is closed after
  ``http_keepalive_timeout_s`` (aiohttp's own ``keepalive_timeout``; its timer also closes a
  connection that sends nothing at all, or a partial head once the connection was idle that
  long).
- **Connection cap.** At most ``http_max_connections`` connections are open at once. One more
  is answered ``503`` (problem+json, ``Retry-After: 1``, ``Connection: close``) and closed at
  once, without reading it: never queued. The kernel's accept queue (``backlog``, 128) is in
  front of that, as for any TCP server.
- **Head size** is aiohttp's: a request line or header field over 8190 bytes, or more than 128
  headers, is answered ``400``.

Request bodies are not timed here: the API bounds a whole request, body included, by its
request time limit (``api/limits.py``).

aiohttp has no header timeout nor connection cap of its own: :class:`GuardedRequestHandler`
adds them to aiohttp's ``RequestHandler`` (pinned aiohttp 3.14; ``tests/api/
test_api_connections.py`` checks each guarantee over real sockets).
"""

import asyncio
import json
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

BACKLOG = 128


class HttpServing(BaseSettings):
    """Connection limits of an HTTP server (a base of the API, worker and codec settings)."""

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_")

    http_header_timeout_s: float = Field(default=10.0, gt=0)
    """A request head must be complete this long after the connection opened (or, kept alive,
    after its first byte); else 408 and the connection is closed."""
    http_keepalive_timeout_s: float = Field(default=15.0, gt=0)
    """An idle kept-alive connection is closed after this long."""
    http_max_connections: int = Field(default=1000, ge=1)
    """Open connections per process at most; one more is answered 503 and closed at once."""


def _raw_problem(status: int, reason: str, detail: str, *headers: str) -> bytes:
    """A complete HTTP/1.1 problem+json response that closes the connection."""
    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status, "detail": detail}
    ).encode()
    head = [
        f"HTTP/1.1 {status} {reason}",
        "Content-Type: application/problem+json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *headers,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class ConnectionGate:
    """Counts the open connections of one server; admits at most ``limit`` at once."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self.admitted = 0
        """Connections admitted so far (``refused``: turned away so far)."""
        self.refused = 0

    def admit(self) -> bool:
        if self.open >= self.limit:
            self.refused += 1
            return False
        self.open += 1
        self.admitted += 1
        return True

    def release(self) -> None:
        self.open -= 1


class GuardedRequestHandler(RequestHandler):
    """aiohttp's connection handler, plus the connection cap and the header timeout.

    The head timer is armed when the connection opens and when the first byte of a new head
    arrives on an idle connection; it is disarmed as soon as aiohttp's parser has a whole
    head. When it fires while the connection still waits for that head, the connection is
    closed, answered 408 first if part of a head had arrived.
    """

    __slots__ = (
        "_admitted", "_gate", "_head_started", "_head_timer", "_header_timeout_s", "_timed_out",
    )  # fmt: skip

    def __init__(
        self, manager: web.Server, *, gate: ConnectionGate, header_timeout_s: float, **kwargs: Any
    ) -> None:
        super().__init__(manager, **kwargs)
        self._gate = gate
        self._admitted = False
        self._header_timeout_s = header_timeout_s
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_started = False
        self._timed_out = _raw_problem(
            408, "Request Timeout",
            f"the request head did not arrive within {header_timeout_s:g} s",
        )  # fmt: skip

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self._gate.admit():
            assert isinstance(transport, asyncio.Transport)
            transport.write(TOO_MANY_CONNECTIONS)
            transport.close()
            return
        self._admitted = True
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: BaseException | None) -> None:
        if not self._admitted:
            return
        self._admitted = False
        self._gate.release()
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if not self._admitted:
            return
        if data and self._waiting_for_head():
            if self._head_timer is None:
                self._arm()
            self._head_started = True
        heads = self._request_count
        super().data_received(data)
        if self._request_count != heads:  # the parser has a whole head (or a 400 for it)
            self._disarm()

    def _waiting_for_head(self) -> bool:
        """No request is being handled: before the first head, or idle between requests."""
        if self._request_count == 0:  # (aiohttp may not wait for it yet: its task not started)
            return True
        return self._waiter is not None and not self._waiter.done()

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self._loop.call_later(self._header_timeout_s, self._head_late)

    def _disarm(self) -> None:
        self._head_started = False
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_late(self) -> None:
        self._head_timer = None
        if self.transport is not None and self._waiting_for_head():
            if self._head_started:
                self.transport.write(self._timed_out)
            self.force_close()


TOO_MANY_CONNECTIONS = _raw_problem(
    503, "Service Unavailable", "the server has too many open connections; retry shortly",
    "Retry-After: 1",
)  # fmt: skip


class _GuardedSite(web.TCPSite):
    """A TCP site whose connections are :class:`GuardedRequestHandler` s."""

    __slots__ = ("_limits", "gate")

    def __init__(self, runner: web.AppRunner, host: str, port: int, limits: HttpServing) -> None:
        super().__init__(runner, host, port, backlog=BACKLOG)
        self._limits = limits
        self.gate = ConnectionGate(limits.http_max_connections)

    async def start(self) -> None:
        await web.BaseSite.start(self)  # registers the site with its runner
        loop = asyncio.get_running_loop()
        server = self._runner.server
        assert server is not None

        def connection() -> GuardedRequestHandler:
            return GuardedRequestHandler(
                server, loop=loop, access_log=None, gate=self.gate,
                keepalive_timeout=self._limits.http_keepalive_timeout_s,
                header_timeout_s=self._limits.http_header_timeout_s,
            )  # fmt: skip

        self._server = await loop.create_server(
            connection, self._host, self._port, backlog=self._backlog
        )


async def start_serving(
    app: web.Application, host: str, port: int, limits: HttpServing | None = None
) -> web.AppRunner:
    """Serve ``app`` on ``host:port`` with ``limits`` (default: from the environment); the
    caller ``await runner.cleanup()`` at the end (it stops the app and closes connections)."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await _GuardedSite(runner, host, port, limits or HttpServing()).start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner
