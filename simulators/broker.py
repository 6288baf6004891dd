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

import logging
import time
from typing import Any

from aiohttp import web

from simulators.broker_state import BrokerState, created_view, declaration_view
from simulators.rest import json_response, parse_body, read_json_object
from simulators.rest_app import (
    FAULTS_KEY,
    FILE_KEY,
    SENDER_KEY,
    STORIES_KEY,
    Webhooks,
    problem_errors,
    rest_app,
)
from simulators.rest_auth import bearer_auth_middleware
from simulators.schemas import DeclarationRequest
from simulators.settings import SimulatorSettings
from simulators.signing import sign_broker
from simulators.stories import Story

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://broker.borderflow.example/problems"

STATE_KEY = web.AppKey("broker_state", BrokerState)


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
    request.app[STORIES_KEY].start(declaration["id"])
    return json_response(created_view(declaration), status=201)


def _publish(app: web.Application, declaration_id: str, event: dict[str, Any]) -> None:
    logger.info("broker: %s → %s", declaration_id, event["declaration"]["status"])
    app[SENDER_KEY].submit(
        event_id=str(event["event_id"]), payload=event, ordering_key=declaration_id
    )
    app[FILE_KEY].save()


def _take_step(app: web.Application, declaration_id: str, status: str) -> None:
    _publish(app, declaration_id, app[STATE_KEY].advance(declaration_id, status))


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


def create_broker_app(settings: SimulatorSettings) -> web.Application:
    """The broker aiohttp application; its cleanup stops stories and pending webhooks."""
    secret = settings.broker_webhook_secret.get_secret_value().encode("utf-8")
    state = BrokerState()
    app = rest_app(
        "broker",
        settings,
        state,
        errors=problem_errors(PROBLEM_BASE),
        auth=bearer_auth_middleware(settings.broker_api_key, realm="broker", code="unauthorized"),
        idempotent=True,
        webhooks=Webhooks(
            settings.webhook_url("broker"),
            lambda body: {"X-Broker-Signature": sign_broker(secret, body, int(time.time()))},
        ),
        story=Story(state, _take_step, label="broker", logger=logger),
        routes=[
            web.post("/api/v1/declarations", file_declaration),
            web.get("/api/v1/declarations/{declaration_id}", get_declaration),
            web.post("/api/v1/declarations/{declaration_id}/cancel", cancel_declaration),
            web.get("/_sim/declarations", sim_declarations),
            web.post("/_sim/declarations/{declaration_id}/release", sim_release),
        ],
    )
    app[STATE_KEY] = state
    return app
