"""Fault injection over HTTP: the request middleware and the ``/_sim/faults`` routes.

:func:`fault_middleware` applies the request faults of a :class:`~simulators.faults.FaultState`
in this order, each request suffering at most one failure: ``latency_ms`` (then carry on),
``down_for_s`` (503), ``rate_limit_next`` (429 + ``Retry-After``), ``fail_next``
(``fail_status``), ``hang_next`` (wait ``hang_s``, then carry on), ``error_rate``
(``error_status``). Failures are rendered by the partner's own :data:`FailureRenderer`, so
each simulator fails in its own error shape. A request whose client hung up during a hang is
abandoned without running the handler (no side effect behind a client timeout). The injected
fault's name is stored in ``request["sim_fault"]`` for the request log.

:func:`install_fault_routes` adds ``GET`` (current + ``injected`` counters), ``POST``
(replace; ``422`` naming bad fields) and ``DELETE`` (clear) ``/_sim/faults``, and ends any
hang when the app shuts down.
"""

import asyncio
import json
import logging
from collections.abc import Callable
from http import HTTPStatus

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import ValidationError

from simulators.faults import Faults, FaultState

logger = logging.getLogger(__name__)

FailureRenderer = Callable[[web.Request, int, str], web.Response]
"""``(request, status, message) -> response`` in the partner's error shape."""

FAULT_KEY = web.RequestKey("sim_fault", str)
HANG_POLL_S = 0.05


def phrase(status: int) -> str:
    """The HTTP reason phrase (``"Service Unavailable"``), or ``"Error"`` when unknown."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _failure(
    request: web.Request, render: FailureRenderer, status: int, fault: str, message: str
) -> web.Response:
    request[FAULT_KEY] = fault
    logger.info("faults: %s %s → %d (%s)", request.method, request.path, status, fault)
    return render(request, status, message)


async def _hang(request: web.Request, state: FaultState) -> bool:
    """Wait ``hang_s``; ``False`` when the client disconnected meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + state.faults.hang_s
    while not state.closing.is_set():
        if request.transport is None or request.transport.is_closing():
            return False
        remaining = deadline - loop.time()
        if remaining <= 0:
            return True
        await state.pause(min(HANG_POLL_S, remaining))
    return False


def fault_middleware(state: FaultState, render: FailureRenderer) -> Middleware:
    """The middleware described in the module docstring."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not state.applies(request.path):
            return await handler(request)
        faults = state.faults
        if faults.latency_ms > 0:
            state.count("latency")
            await state.pause(faults.latency_ms / 1000)
        if state.down_remaining() > 0:
            state.count("down")
            return _failure(request, render, 503, "down", "Service unavailable (simulated outage)")
        if state.take("rate_limit_next"):
            state.count("rate_limited")
            response = _failure(request, render, 429, "rate_limited", "Too many requests")
            response.headers["Retry-After"] = str(faults.retry_after_s)
            return response
        if state.take("fail_next"):
            state.count("fail_next")
            status = faults.fail_status
            return _failure(request, render, status, "fail_next", f"{phrase(status)} (simulated)")
        if state.take("hang_next"):
            state.count("hang")
            request[FAULT_KEY] = "hang"
            if not await _hang(request, state):
                logger.info("faults: %s %s abandoned during a hang", request.method, request.path)
                return render(request, 503, "Abandoned during a simulated hang")
        if state.draw_error():
            state.count("error")
            status = faults.error_status
            return _failure(request, render, status, "error", f"{phrase(status)} (simulated)")
        return await handler(request)

    return middleware


def install_fault_routes(app: web.Application, state: FaultState) -> None:
    """Add ``GET/POST/DELETE /_sim/faults`` and end hangs on shutdown."""

    async def get_faults(request: web.Request) -> web.Response:
        return web.json_response(state.view())

    async def post_faults(request: web.Request) -> web.Response:
        try:
            data = json.loads(await request.read())
        except ValueError:
            return web.json_response({"error": "body must be a JSON object"}, status=400)
        if isinstance(data, dict):
            data.pop("injected", None)  # a GET view can be posted back as is
        try:
            faults = Faults.model_validate(data)
        except ValidationError as exc:
            errors = [
                {"field": ".".join(str(p) for p in e["loc"]) or "body", "message": e["msg"]}
                for e in exc.errors()
            ]
            return web.json_response({"error": "invalid faults", "errors": errors}, status=422)
        state.replace(faults)
        logger.info("faults: %s now %s", state.partner, faults.model_dump(exclude_defaults=True))
        return web.json_response(state.view())

    async def delete_faults(request: web.Request) -> web.Response:
        state.clear()
        logger.info("faults: %s cleared", state.partner)
        return web.json_response(state.view())

    async def on_shutdown(app: web.Application) -> None:
        state.closing.set()

    app.router.add_get("/_sim/faults", get_faults)
    app.router.add_post("/_sim/faults", post_faults)
    app.router.add_delete("/_sim/faults", delete_faults)
    app.on_shutdown.append(on_shutdown)
