"""Carrier simulator: an EasyPost-style one-call-buy API with tracking webhooks.

Guarantees: HTTP Basic auth (API key as user, empty password) on ``/v2``; EasyPost error
shape ``{"error": {"code", "message", "errors": [{"field", "message"}]}}`` (injected faults
too); a purchase answers ``201`` immediately and starts the tracking story in the background
(six ``tracker.updated`` Events, one per ``sim_time_scale`` seconds, the first one step after
the purchase), each signed with ``X-Hmac-Signature`` and retried until the API answers 2xx.
An idempotent replay of a purchase returns the first response and starts no second story.
``POST /v2/shipments/{id}/refund`` answers the Shipment with ``refund_status: "submitted"``
(repeat-safe) and stops its story. While the ``reject_bookings`` fault lasts, purchases are
refused with ``422 SHIPMENT.POSTAGE.FAILURE`` (nothing stored, the Idempotency-Key stays
free). With ``sim_state_dir``, shipments, idempotency keys and undelivered webhooks are saved
to ``easypost.json`` after every change; after a restart, unfinished stories continue with
their remaining steps and undelivered webhooks are retried.
Test helpers: ``GET /_sim/shipments``, ``/_sim/webhooks`` (every delivery attempt),
``/_sim/requests`` and ``/_sim/faults``.
"""

import asyncio
import logging
from typing import Any

from aiohttp import web

from simulators.background import BackgroundTasks
from simulators.carrier_tracking import CarrierState
from simulators.documents import LABEL_PNG
from simulators.fault_http import fault_middleware, install_fault_routes, phrase
from simulators.faults import FaultState
from simulators.idempotency import IdempotencyStore
from simulators.rest import (
    HttpError,
    RequestLog,
    easypost_renderer,
    error_middleware,
    failure_renderer,
    json_response,
    parse_body,
    read_json_object,
)
from simulators.rest_auth import basic_auth_middleware
from simulators.schemas import EasyPostShipmentRequest
from simulators.settings import SimulatorSettings
from simulators.signing import sign_easypost
from simulators.state_file import StateFile
from simulators.webhooks import RetryPolicy, WebhookSender

logger = logging.getLogger(__name__)

ROUTER_CODES = {404: "NOT_FOUND", 405: "METHOD.NOT_ALLOWED", 500: "INTERNAL_SERVER_ERROR"}

STATE_KEY = web.AppKey("carrier_state", CarrierState)
SENDER_KEY = web.AppKey("carrier_sender", WebhookSender)
TASKS_KEY = web.AppKey("carrier_tasks", BackgroundTasks)
LOG_KEY = web.AppKey("carrier_request_log", RequestLog)
SCALE_KEY = web.AppKey("carrier_time_scale", float)
FAULTS_KEY = web.AppKey("carrier_faults", FaultState)
FILE_KEY = web.AppKey("carrier_state_file", StateFile)


def easypost_code(status: int) -> str:
    """EasyPost-style error code for an injected HTTP failure."""
    return "RATE_LIMITED" if status == 429 else phrase(status).upper().replace(" ", "_")


def _not_found(kind: str, object_id: str) -> HttpError:
    return HttpError(404, "NOT_FOUND", f"The requested {kind} {object_id} could not be found.")


def _shipment(request: web.Request) -> dict[str, Any]:
    shipment_id = request.match_info["shipment_id"]
    shipment = request.app[STATE_KEY].shipments.get(shipment_id)
    if shipment is None:
        raise _not_found("shipment", shipment_id)
    return shipment


async def buy_shipment(request: web.Request) -> web.Response:
    """``POST /v2/shipments`` (one-call buy) → 201 Shipment, then the tracking story."""
    body = await read_json_object(request, "PARAMETER.INVALID_JSON")
    parsed = parse_body(EasyPostShipmentRequest, body, "PARAMETER.INVALID")
    faults = request.app[FAULTS_KEY]
    if faults.take("reject_bookings"):
        faults.count("reject_bookings")
        raise HttpError(
            422,
            "SHIPMENT.POSTAGE.FAILURE",
            "The carrier refused to create this shipment (simulated booking refusal).",
        )
    shipment = request.app[STATE_KEY].buy(parsed.shipment, str(request.url.origin()))
    request.app[FILE_KEY].save()
    logger.info("carrier: bought %s (%s)", shipment["id"], shipment["tracking_code"])
    _start_story(request.app, shipment["id"])
    return json_response(shipment, status=201)


def _start_story(app: web.Application, shipment_id: str) -> None:
    app[TASKS_KEY].spawn(_story(app, shipment_id), name=f"story:{shipment_id}")


async def _story(app: web.Application, shipment_id: str) -> None:
    state, sender, scale = app[STATE_KEY], app[SENDER_KEY], app[SCALE_KEY]
    while state.next_step(shipment_id) is not None:
        await asyncio.sleep(scale)
        step = state.next_step(shipment_id)  # a refund may have stopped the story meanwhile
        if step is None:
            return
        event = state.advance(shipment_id, step)
        logger.info("carrier: %s → %s/%s", shipment_id, step.status, step.status_detail)
        sender.submit(event_id=event["id"], payload=event, ordering_key=event["result"]["id"])
        app[FILE_KEY].save()


async def get_shipment(request: web.Request) -> web.Response:
    """``GET /v2/shipments/{id}``."""
    return json_response(_shipment(request))


async def refund_shipment(request: web.Request) -> web.Response:
    """``POST /v2/shipments/{id}/refund`` → the Shipment, ``refund_status: "submitted"``."""
    shipment = request.app[STATE_KEY].refund(_shipment(request)["id"])
    request.app[FILE_KEY].save()
    logger.info("carrier: refund submitted for %s", shipment["id"])
    return json_response(shipment)


async def get_tracker(request: web.Request) -> web.Response:
    """``GET /v2/trackers/{id}``."""
    tracker_id = request.match_info["tracker_id"]
    tracker = request.app[STATE_KEY].trackers.get(tracker_id)
    if tracker is None:
        raise _not_found("tracker", tracker_id)
    return json_response(tracker)


async def get_label(request: web.Request) -> web.Response:
    """``GET /labels/{id}.png``: a placeholder label (public, like EasyPost's label URLs)."""
    if request.match_info["shipment_id"] not in request.app[STATE_KEY].shipments:
        raise _not_found("label", request.match_info["shipment_id"])
    return web.Response(body=LABEL_PNG, content_type="image/png")


async def public_tracking(request: web.Request) -> web.Response:
    """``GET /track/{code}``: the public tracking page (plain text)."""
    code = request.match_info["code"]
    for tracker in request.app[STATE_KEY].trackers.values():
        if tracker["tracking_code"] == code:
            return web.Response(text=f"{code}: {tracker['status']} ({tracker['status_detail']})")
    raise _not_found("tracking code", code)


async def sim_shipments(request: web.Request) -> web.Response:
    """``GET /_sim/shipments``: every Shipment, in purchase order."""
    return json_response(list(request.app[STATE_KEY].shipments.values()))


async def sim_webhooks(request: web.Request) -> web.Response:
    """``GET /_sim/webhooks``: every webhook delivery attempt, oldest first."""
    return json_response(request.app[SENDER_KEY].attempts)


async def sim_requests(request: web.Request) -> web.Response:
    """``GET /_sim/requests``: every API request received, oldest first."""
    return json_response(request.app[LOG_KEY].entries)


def create_carrier_app(settings: SimulatorSettings) -> web.Application:
    """The EasyPost-style aiohttp app; its cleanup stops stories and pending webhooks."""
    secret = settings.easypost_webhook_secret.get_secret_value().encode("utf-8")
    state = CarrierState()
    request_log = RequestLog()
    faults = FaultState("easypost", settings.faults_for("easypost"))
    idempotency = IdempotencyStore(
        conflict_code="IDEMPOTENCY.CONFLICT", invalid_key_code="IDEMPOTENCY.INVALID_KEY"
    )
    sender = WebhookSender(
        name="easypost",
        url=settings.easypost_webhook_url,
        headers=lambda body: {"X-Hmac-Signature": sign_easypost(secret, body)},
        policy=RetryPolicy.for_time_scale(settings.sim_time_scale),
        faults=faults,
        reorder_window=3 * settings.sim_time_scale,
    )
    state_file = StateFile(
        settings.state_file("easypost"),
        lambda: {
            "carrier": state.dump(),
            "idempotency": idempotency.dump(),
            "webhooks": sender.pending(),
        },
    )
    saved = state_file.load()
    if saved is not None:
        state.load(saved["carrier"])
        idempotency.load(saved["idempotency"])
    idempotency.on_store(state_file.save)
    sender.on_change(state_file.save)
    app = web.Application(
        middlewares=[
            request_log.middleware(),
            fault_middleware(faults, failure_renderer(easypost_renderer, easypost_code)),
            error_middleware(easypost_renderer, ROUTER_CODES),
            basic_auth_middleware(
                settings.carrier_api_key, realm="easypost", public_prefixes=("/labels/", "/track/")
            ),
            idempotency.middleware(),
        ]
    )
    app[STATE_KEY] = state
    app[LOG_KEY] = request_log
    app[SCALE_KEY] = settings.sim_time_scale
    app[TASKS_KEY] = BackgroundTasks("carrier-stories")
    app[SENDER_KEY] = sender
    app[FAULTS_KEY] = faults
    app[FILE_KEY] = state_file
    app.router.add_post("/v2/shipments", buy_shipment)
    app.router.add_get("/v2/shipments/{shipment_id}", get_shipment)
    app.router.add_post("/v2/shipments/{shipment_id}/refund", refund_shipment)
    app.router.add_get("/v2/trackers/{tracker_id}", get_tracker)
    app.router.add_get("/labels/{shipment_id}.png", get_label)
    app.router.add_get("/track/{code}", public_tracking)
    app.router.add_get("/_sim/shipments", sim_shipments)
    app.router.add_get("/_sim/webhooks", sim_webhooks)
    app.router.add_get("/_sim/requests", sim_requests)
    install_fault_routes(app, faults)

    async def resume(app: web.Application) -> None:
        if saved is not None:
            sender.restore(saved["webhooks"])
        for shipment_id in state.unfinished():
            logger.info("carrier: resuming the story of %s", shipment_id)
            _start_story(app, shipment_id)

    app.on_startup.append(resume)
    app.on_cleanup.append(_cleanup)
    return app


async def _cleanup(app: web.Application) -> None:
    await app[TASKS_KEY].close()
    await app[SENDER_KEY].close()
