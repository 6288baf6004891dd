"""Customs broker simulator: declarations over REST, our dialect, with status webhooks.

Guarantees: Bearer auth on ``/api``; problem+json errors; ids ``DEC-000001`` in filing order;
a filing answers ``201`` with ``status: SUBMITTED`` and ``mrn: null`` and starts the story in
the background: ``ACCEPTED`` (MRN assigned, ``^\\d{2}[A-Z]{2}[A-Z0-9]{14}$``) one
``sim_time_scale`` step later, ``RELEASED`` one step after that, each posted as a
``declaration.status_changed`` webhook signed with ``X-Broker-Signature`` (fresh timestamp
per attempt) and retried until 2xx. Cancelling stops the story; a released declaration cannot
be cancelled (409). An idempotent replay starts no second story.
Test helpers: ``GET /_sim/declarations``, ``/_sim/webhooks``, ``/_sim/requests``.
"""

import asyncio
import logging
import time
from typing import Any

from aiohttp import web

from simulators.background import BackgroundTasks
from simulators.clock import iso_now, random_alnum_upper, random_id, utc_now
from simulators.idempotency import IdempotencyStore
from simulators.rest import (
    HttpError,
    RequestLog,
    bearer_auth_middleware,
    error_middleware,
    json_response,
    parse_body,
    problem_renderer,
    read_json_object,
)
from simulators.schemas import DeclarationRequest
from simulators.settings import SimulatorSettings
from simulators.signing import sign_broker
from simulators.webhooks import RetryPolicy, WebhookSender

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://broker.borderflow.example/problems"
ROUTER_CODES = {404: "not-found", 405: "method-not-allowed", 500: "internal-error"}
STORY_STATUSES = ("ACCEPTED", "RELEASED")


def new_mrn(country: str) -> str:
    """A Movement Reference Number: 2-digit year, 2-letter country, 14 uppercase alphanumerics."""
    return f"{utc_now():%y}{country}{random_alnum_upper(14)}"


class BrokerState:
    """Declarations by id, in filing order."""

    def __init__(self) -> None:
        self.declarations: dict[str, dict[str, Any]] = {}

    def file(self, request: DeclarationRequest) -> dict[str, Any]:
        """Store a new declaration in status ``SUBMITTED`` and return it."""
        seq = len(self.declarations) + 1
        now = iso_now()
        declaration: dict[str, Any] = {
            "id": f"DEC-{seq:06d}",
            "reference": request.reference,
            "lrn": f"LRN{utc_now():%y}BF{seq:08d}",
            "mrn": None,
            "status": "SUBMITTED",
            "hold_reason": None,
            "created_at": now,
            "updated_at": now,
            "request": request.model_dump(mode="json"),
        }
        self.declarations[declaration["id"]] = declaration
        return declaration

    def get(self, declaration_id: str) -> dict[str, Any]:
        """The declaration, or a 404 problem."""
        declaration = self.declarations.get(declaration_id)
        if declaration is None:
            raise HttpError(404, "not-found", f"Declaration {declaration_id} does not exist")
        return declaration


def created_view(declaration: dict[str, Any]) -> dict[str, Any]:
    """The documented ``201`` body: ``id, reference, lrn, mrn, status``."""
    return {k: declaration[k] for k in ("id", "reference", "lrn", "mrn", "status")}


def declaration_view(declaration: dict[str, Any]) -> dict[str, Any]:
    """The declaration as GET, cancel and webhooks show it (adds ``hold_reason``)."""
    return {k: declaration[k] for k in ("id", "reference", "lrn", "mrn", "status", "hold_reason")}


STATE_KEY = web.AppKey("broker_state", BrokerState)
SENDER_KEY = web.AppKey("broker_sender", WebhookSender)
TASKS_KEY = web.AppKey("broker_tasks", BackgroundTasks)
LOG_KEY = web.AppKey("broker_request_log", RequestLog)
SCALE_KEY = web.AppKey("broker_time_scale", float)


async def file_declaration(request: web.Request) -> web.Response:
    """``POST /api/v1/declarations`` → 201, then the ACCEPTED/RELEASED story."""
    body = await read_json_object(request, "malformed-request")
    parsed = parse_body(DeclarationRequest, body, "validation-error")
    declaration = request.app[STATE_KEY].file(parsed)
    logger.info("broker: filed %s for %s", declaration["id"], declaration["reference"])
    request.app[TASKS_KEY].spawn(
        _story(request.app, declaration["id"]), name=f"story:{declaration['id']}"
    )
    return json_response(created_view(declaration), status=201)


async def _story(app: web.Application, declaration_id: str) -> None:
    state, sender, scale = app[STATE_KEY], app[SENDER_KEY], app[SCALE_KEY]
    declaration = state.declarations[declaration_id]
    for status in STORY_STATUSES:
        await asyncio.sleep(scale)
        if declaration["status"] == "CANCELLED":
            return
        if status == "ACCEPTED":
            filed = declaration["request"]
            country = (
                filed["origin_country"]
                if filed["direction"] == "export"
                else filed["destination_country"]
            )
            declaration["mrn"] = new_mrn(country)
        declaration["status"] = status
        declaration["updated_at"] = iso_now()
        logger.info("broker: %s → %s", declaration_id, status)
        event = {
            "event_id": random_id("bev"),
            "type": "declaration.status_changed",
            "occurred_at": declaration["updated_at"],
            "declaration": declaration_view(declaration),
        }
        sender.submit(event_id=event["event_id"], payload=event, ordering_key=declaration_id)


async def get_declaration(request: web.Request) -> web.Response:
    """``GET /api/v1/declarations/{id}``."""
    declaration = request.app[STATE_KEY].get(request.match_info["declaration_id"])
    return json_response(declaration_view(declaration))


async def cancel_declaration(request: web.Request) -> web.Response:
    """``POST /api/v1/declarations/{id}/cancel``: 409 once released; idempotent otherwise."""
    declaration = request.app[STATE_KEY].get(request.match_info["declaration_id"])
    if declaration["status"] == "RELEASED":
        raise HttpError(
            409, "invalid-state", f"Declaration {declaration['id']} is released; cannot cancel"
        )
    if declaration["status"] != "CANCELLED":
        declaration["status"] = "CANCELLED"
        declaration["updated_at"] = iso_now()
        logger.info("broker: cancelled %s", declaration["id"])
    return json_response(declaration_view(declaration))


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
    request_log = RequestLog()
    idempotency = IdempotencyStore(
        conflict_code="idempotency-conflict", invalid_key_code="invalid-idempotency-key"
    )
    app = web.Application(
        middlewares=[
            request_log.middleware(),
            error_middleware(problem_renderer(PROBLEM_BASE), ROUTER_CODES),
            bearer_auth_middleware(settings.broker_api_key, realm="broker", code="unauthorized"),
            idempotency.middleware(),
        ]
    )
    app[STATE_KEY] = BrokerState()
    app[LOG_KEY] = request_log
    app[SCALE_KEY] = settings.sim_time_scale
    app[TASKS_KEY] = BackgroundTasks("broker-stories")
    app[SENDER_KEY] = WebhookSender(
        name="broker",
        url=settings.broker_webhook_url,
        headers=lambda body: {"X-Broker-Signature": sign_broker(secret, body, int(time.time()))},
        policy=RetryPolicy.for_time_scale(settings.sim_time_scale),
    )
    app.router.add_post("/api/v1/declarations", file_declaration)
    app.router.add_get("/api/v1/declarations/{declaration_id}", get_declaration)
    app.router.add_post("/api/v1/declarations/{declaration_id}/cancel", cancel_declaration)
    app.router.add_get("/_sim/declarations", sim_declarations)
    app.router.add_get("/_sim/webhooks", sim_webhooks)
    app.router.add_get("/_sim/requests", sim_requests)
    app.on_cleanup.append(_cleanup)
    return app


async def _cleanup(app: web.Application) -> None:
    await app[TASKS_KEY].close()
    await app[SENDER_KEY].close()
