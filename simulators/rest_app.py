"""The frame of the REST partner simulators: TMS, broker and the EasyPost- and DHL-style carriers.

:func:`rest_app` builds the aiohttp application each of them is. Middlewares, outermost first:
the request log, the partner's injected faults, its error shape (:class:`ErrorStyle`, for
handler errors, router errors and crashes alike), its authentication and, for partners that
take an ``Idempotency-Key``, the idempotent replay of writes. Partners that push events get a
signed :class:`~simulators.webhooks.WebhookSender` (:class:`Webhooks`) whose delivery attempts
``GET /_sim/webhooks`` lists; partners with stories get :class:`~simulators.stories.Stories`
(``app[STORIES_KEY]``), resumed at start and stopped at cleanup before the webhook sender.

State: with ``sim_state_dir``, ``<name>.json`` holds the partner's own state
(:class:`Persistent`; under ``nested_as`` when given), the stored idempotent responses
(``idempotency``) and the undelivered webhooks (``webhooks``); handlers save it with
``app[FILE_KEY].save()`` after every change, and the file is written by group commit (see
:mod:`simulators.state_file`: a write request is answered once its change is on disk; the
rest is flushed at cleanup). It is loaded before the app serves, and undelivered webhooks are
sent again at start. Every app also has ``GET /_sim/requests`` and
the fault switches ``/_sim/faults``.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from aiohttp.typedefs import Middleware

from simulators.fault_http import fault_middleware, install_fault_routes
from simulators.faults import FaultState
from simulators.idempotency import IdempotencyStore
from simulators.rest import (
    ErrorRenderer,
    RequestLog,
    error_middleware,
    failure_renderer,
    json_response,
    problem_code,
    problem_renderer,
)
from simulators.settings import SimulatorSettings
from simulators.state_file import StateFile
from simulators.stories import Stories, Story
from simulators.webhooks import HeaderFactory, RetryPolicy, WebhookSender

LOG_KEY = web.AppKey("sim_request_log", RequestLog)
FAULTS_KEY = web.AppKey("sim_faults", FaultState)
FILE_KEY = web.AppKey("sim_state_file", StateFile)
SENDER_KEY = web.AppKey("sim_webhook_sender", WebhookSender)
STORIES_KEY = web.AppKey("sim_stories", Stories)


@dataclass(frozen=True)
class ErrorStyle:
    """How one partner fails: its error renderer and the codes it uses.

    ``code_for`` names an injected HTTP failure, ``router_codes`` (status → code) the router's
    404/405 and crashes; the last two are the ``Idempotency-Key`` problems.
    """

    render: ErrorRenderer
    code_for: Callable[[int], str]
    router_codes: dict[int, str]
    idempotency_conflict: str
    invalid_idempotency_key: str


def problem_errors(type_base: str, *, with_instance: bool = False) -> ErrorStyle:
    """RFC 9457 problem+json errors, ``type`` under ``type_base``, kebab-case codes."""
    return ErrorStyle(
        render=problem_renderer(type_base, with_instance=with_instance),
        code_for=problem_code,
        router_codes={404: "not-found", 405: "method-not-allowed", 500: "internal-error"},
        idempotency_conflict="idempotency-conflict",
        invalid_idempotency_key="invalid-idempotency-key",
    )


class Persistent(Protocol):
    """A partner's own state, as saved in its state file."""

    def dump(self) -> dict[str, Any]:
        """Everything as JSON-ready data."""
        ...

    def load(self, data: dict[str, Any]) -> None:
        """Replace the state with :meth:`dump`'s data."""
        ...


@dataclass(frozen=True)
class Webhooks:
    """Where a partner pushes its events, signed by ``headers`` (computed per attempt)."""

    url: str
    headers: HeaderFactory


async def sim_requests(request: web.Request) -> web.Response:
    """``GET /_sim/requests``: every API request received, oldest first."""
    return json_response(request.app[LOG_KEY].entries)


async def sim_webhooks(request: web.Request) -> web.Response:
    """``GET /_sim/webhooks``: every webhook delivery attempt, oldest first."""
    return json_response(request.app[SENDER_KEY].attempts)


def _sender(name: str, webhooks: Webhooks, faults: FaultState, scale: float) -> WebhookSender:
    return WebhookSender(
        name=name,
        url=webhooks.url,
        headers=webhooks.headers,
        policy=RetryPolicy.for_time_scale(scale),
        faults=faults,
        reorder_window=3 * scale,
    )


def rest_app(
    name: str,
    settings: SimulatorSettings,
    state: Persistent,
    *,
    errors: ErrorStyle,
    auth: Middleware,
    routes: Iterable[web.AbstractRouteDef],
    idempotent: bool = False,
    webhooks: Webhooks | None = None,
    story: Story[Any] | None = None,
    nested_as: str | None = None,
) -> web.Application:
    """The app of partner ``name`` (its faults, state file and webhook sender go by it)."""
    request_log = RequestLog()
    faults = FaultState(name, settings.faults_for(name))
    idempotency = (
        IdempotencyStore(
            conflict_code=errors.idempotency_conflict,
            invalid_key_code=errors.invalid_idempotency_key,
        )
        if idempotent
        else None
    )
    sender = None if webhooks is None else _sender(name, webhooks, faults, settings.sim_time_scale)

    def dump() -> dict[str, Any]:
        data: dict[str, Any] = (
            dict(state.dump()) if nested_as is None else {nested_as: state.dump()}
        )
        if idempotency is not None:
            data["idempotency"] = idempotency.dump()
        if sender is not None:
            data["webhooks"] = sender.pending()
        return data

    state_file = StateFile(
        settings.state_file(name), dump, interval=settings.sim_state_flush_interval
    )
    saved = state_file.load()
    if saved is not None:
        state.load(saved if nested_as is None else saved[nested_as])
    middlewares = [
        request_log.middleware(),
        fault_middleware(faults, failure_renderer(errors.render, errors.code_for)),
        error_middleware(errors.render, errors.router_codes),
        auth,
        state_file.middleware(),  # outside the idempotency middleware: covers stored keys
    ]
    if idempotency is not None:
        if saved is not None:
            idempotency.load(saved["idempotency"])
        idempotency.on_store(state_file.save)
        middlewares.append(idempotency.middleware())
    app = web.Application(middlewares=middlewares)
    app[LOG_KEY] = request_log
    app[FAULTS_KEY] = faults
    app[FILE_KEY] = state_file
    app.router.add_routes(routes)
    if sender is not None:
        sender.on_change(state_file.save)
        app[SENDER_KEY] = sender
        app.router.add_get("/_sim/webhooks", sim_webhooks)
    app.router.add_get("/_sim/requests", sim_requests)
    install_fault_routes(app, faults)
    stories = None
    if story is not None:
        stories = app[STORIES_KEY] = Stories(app, story, time_scale=settings.sim_time_scale)

    async def start(app: web.Application) -> None:
        if sender is not None and saved is not None:
            sender.restore(saved["webhooks"])
        if stories is not None:
            stories.resume()

    async def cleanup(app: web.Application) -> None:
        if stories is not None:
            await stories.close()
        if sender is not None:
            await sender.close()

    if sender is not None or stories is not None:
        app.on_startup.append(start)
        app.on_cleanup.append(cleanup)
    app.on_cleanup.append(state_file.on_cleanup)  # last: stories and webhooks have stopped
    return app
