"""Customs broker simulator: declarations over REST, our dialect, with status webhooks.

Guarantees: Bearer auth on ``/api``; problem+json errors (injected faults too); ids
``DEC-000001`` in filing order; a filing answers ``201`` with ``status: SUBMITTED`` and
``mrn: null`` and starts the story in the background (see :mod:`simulators.broker_state`),
one ``sim_time_scale`` step per status, each posted as a ``declaration.status_changed``
webhook signed with ``X-Broker-Signature`` (fresh timestamp per attempt) and retried until
2xx. The ``customs`` faults hold (``HELD`` + ``hold_reason``, until
``POST /_sim/declarations/{id}/release``) or reject (``REJECTED``) the next declarations.
Cancelling stops the story; a released or rejected declaration cannot be cancelled (409). An
idempotent replay starts no second story. With ``sim_state_dir``, declarations, idempotency
keys and undelivered webhooks are saved to ``broker.json`` after every change; after a
restart, stories not yet ``HELD``/``RELEASED``/``REJECTED``/``CANCELLED`` continue.
Test helpers: ``GET /_sim/declarations``, ``/_sim/webhooks``, ``/_sim/requests``,
``POST /_sim/declarations/{id}/release`` and ``/_sim/faults``.
"""

import asyncio
import logging
import time
from typing import Any

from aiohttp import web

from simulators.background import BackgroundTasks
from simulators.broker_state import BrokerState, created_view, declaration_view
from simulators.fault_http import fault_middleware, install_fault_routes
from simulators.faults import FaultState
from simulators.idempotency import IdempotencyStore
from simulators.rest import (
    RequestLog,
    error_middleware,
    failure_renderer,
    json_response,
    parse_body,
    problem_code,
    problem_renderer,
    read_json_object,
)
from simulators.rest_auth import bearer_auth_middleware
from simulators.schemas import DeclarationRequest
from simulators.settings import SimulatorSettings
from simulators.signing import sign_broker
from simulators.state_file import StateFile
from simulators.webhooks import RetryPolicy, WebhookSender

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://broker.borderflow.example/problems"
ROUTER_CODES = {404: "not-found", 405: "method-not-allowed", 500: "internal-error"}

STATE_KEY = web.AppKey("broker_state", BrokerState)
SENDER_KEY = web.AppKey("broker_sender", WebhookSender)
TASKS_KEY = web.AppKey("broker_tasks", BackgroundTasks)
LOG_KEY = web.AppKey("broker_request_log", RequestLog)
SCALE_KEY = web.AppKey("broker_time_scale", float)
FAULTS_KEY = web.AppKey("broker_faults", FaultState)
FILE_KEY = web.AppKey("broker_state_file", StateFile)


async def file_declaration(request: web.Request) -> web.Response:
    """``POST /api/v1/declarations`` → 201, then the story."""
    body = await read_json_object(request, "malformed-request")
    parsed = parse_body(DeclarationRequest, body, "validation-error")
    faults = request.app[FAULTS_KEY]
    outcome = faults.take_customs() or "release"
    reason = faults.faults.customs.hold_reason if outcome == "hold" else None
    declaration = request.app[STATE_KEY].file(parsed, outcome, reason)
    request.app[FILE_KEY].save()
    logger.info("broker: filed %s for %s (%s)", declaration["id"], parsed.reference, outcome)
    _start_story(request.app, declaration["id"])
    return json_response(created_view(declaration), status=201)


def _start_story(app: web.Application, declaration_id: str) -> None:
    app[TASKS_KEY].spawn(_story(app, declaration_id), name=f"story:{declaration_id}")


def _publish(app: web.Application, declaration_id: str, event: dict[str, Any]) -> None:
    logger.info("broker: %s → %s", declaration_id, event["declaration"]["status"])
    app[SENDER_KEY].submit(
        event_id=str(event["event_id"]), payload=event, ordering_key=declaration_id
    )
    app[FILE_KEY].save()


async def _story(app: web.Application, declaration_id: str) -> None:
    state, scale = app[STATE_KEY], app[SCALE_KEY]
    while state.next_status(declaration_id) is not None:
        await asyncio.sleep(scale)
        status = state.next_status(declaration_id)  # cancelled meanwhile?
        if status is None:
            return
        _publish(app, declaration_id, state.advance(declaration_id, status))


async def get_declaration(request: web.Request) -> web.Response:
    """``GET /api/v1/declarations/{id}``."""
    declaration = request.app[STATE_KEY].get(request.match_info["declaration_id"])
    return json_response(declaration_view(declaration))


async def cancel_declaration(request: web.Request) -> web.Response:
    """``POST /api/v1/declarations/{id}/cancel``: 409 once released/rejected; repeat-safe."""
    declaration, changed = request.app[STATE_KEY].cancel(request.match_info["declaration_id"])
    if changed:
        request.app[FILE_KEY].save()
        logger.info("broker: cancelled %s", declaration["id"])
    return json_response(declaration_view(declaration))


async def sim_release(request: web.Request) -> web.Response:
    """``POST /_sim/declarations/{id}/release``: a held declaration is released (webhook)."""
    declaration_id = request.match_info["declaration_id"]
    event = request.app[STATE_KEY].release(declaration_id)
    _publish(request.app, declaration_id, event)
    return json_response(declaration_view(request.app[STATE_KEY].declarations[declaration_id]))


async def sim_declarations(request: web.Request) -> web.Response:
    """``GET /_sim/declarations``: every declaration with the filed request."""
    return json_response(list(request.app[STATE_KEY].declarations.values()))


async def sim_webhooks(request: web.Request) -> web.Response:
    """``GET /_sim/webhooks``: every webhook delivery attempt, oldest first."""
    return json_response(request.app[SENDER_KEY].attempts)


async def sim_requests(request: web.Request) -> web.Response:
    """``GET /_sim/requests``: every API request received, oldest first."""
    return json_response(request.app[LOG_KEY].entries)


def create_broker_app(settings: SimulatorSettings) -> web.Application:
    """The broker aiohttp application; its cleanup stops stories and pending webhooks."""
    secret = settings.broker_webhook_secret.get_secret_value().encode("utf-8")
    state = BrokerState()
    request_log = RequestLog()
    faults = FaultState("broker", settings.faults_for("broker"))
    render = problem_renderer(PROBLEM_BASE)
    idempotency = IdempotencyStore(
        conflict_code="idempotency-conflict", invalid_key_code="invalid-idempotency-key"
    )
    sender = WebhookSender(
        name="broker",
        url=settings.broker_webhook_url,
        headers=lambda body: {"X-Broker-Signature": sign_broker(secret, body, int(time.time()))},
        policy=RetryPolicy.for_time_scale(settings.sim_time_scale),
        faults=faults,
        reorder_window=3 * settings.sim_time_scale,
    )
    state_file = StateFile(
        settings.state_file("broker"),
        lambda: {
            "declarations": state.declarations,
            "idempotency": idempotency.dump(),
            "webhooks": sender.pending(),
        },
    )
    saved = state_file.load()
    if saved is not None:
        state.declarations = saved["declarations"]
        idempotency.load(saved["idempotency"])
    idempotency.on_store(state_file.save)
    sender.on_change(state_file.save)
    app = web.Application(
        middlewares=[
            request_log.middleware(),
            fault_middleware(faults, failure_renderer(render, problem_code)),
            error_middleware(render, ROUTER_CODES),
            bearer_auth_middleware(settings.broker_api_key, realm="broker", code="unauthorized"),
            idempotency.middleware(),
        ]
    )
    app[STATE_KEY] = state
    app[LOG_KEY] = request_log
    app[SCALE_KEY] = settings.sim_time_scale
    app[TASKS_KEY] = BackgroundTasks("broker-stories")
    app[SENDER_KEY] = sender
    app[FAULTS_KEY] = faults
    app[FILE_KEY] = state_file
    app.router.add_post("/api/v1/declarations", file_declaration)
    app.router.add_get("/api/v1/declarations/{declaration_id}", get_declaration)
    app.router.add_post("/api/v1/declarations/{declaration_id}/cancel", cancel_declaration)
    app.router.add_get("/_sim/declarations", sim_declarations)
    app.router.add_post("/_sim/declarations/{declaration_id}/release", sim_release)
    app.router.add_get("/_sim/webhooks", sim_webhooks)
    app.router.add_get("/_sim/requests", sim_requests)
    install_fault_routes(app, faults)

    async def resume(app: web.Application) -> None:
        if saved is not None:
            sender.restore(saved["webhooks"])
        for declaration_id in state.unfinished():
            logger.info("broker: resuming the story of %s", declaration_id)
            _start_story(app, declaration_id)

    app.on_startup.append(resume)
    app.on_cleanup.append(_cleanup)
    return app


async def _cleanup(app: web.Application) -> None:
    await app[TASKS_KEY].close()
    await app[SENDER_KEY].close()
