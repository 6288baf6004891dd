"""Carrier simulator: an EasyPost-style one-call-buy API with tracking webhooks.

Guarantees: HTTP Basic auth (API key as user, empty password) on ``/v2``; EasyPost error
shape ``{"error": {"code", "message", "errors": [{"field", "message"}]}}``; a purchase
answers ``201`` immediately and starts the tracking story in the background (six
``tracker.updated`` Events, one per ``sim_time_scale`` seconds, the first one step after the
purchase), each signed with ``X-Hmac-Signature`` and retried until the API answers 2xx.
An idempotent replay of a purchase returns the first response and starts no second story.
Test helpers: ``GET /_sim/shipments``, ``/_sim/webhooks`` (every delivery attempt) and
``/_sim/requests``.
"""

import asyncio
import logging
import struct
import zlib

from aiohttp import web

from simulators.background import BackgroundTasks
from simulators.carrier_tracking import STORY, CarrierState
from simulators.idempotency import IdempotencyStore
from simulators.rest import (
    HttpError,
    RequestLog,
    basic_auth_middleware,
    easypost_renderer,
    error_middleware,
    json_response,
    parse_body,
    read_json_object,
)
from simulators.schemas import EasyPostShipmentRequest
from simulators.settings import SimulatorSettings
from simulators.signing import sign_easypost
from simulators.webhooks import RetryPolicy, WebhookSender

logger = logging.getLogger(__name__)

ROUTER_CODES = {404: "NOT_FOUND", 405: "METHOD.NOT_ALLOWED", 500: "INTERNAL_SERVER_ERROR"}

STATE_KEY = web.AppKey("carrier_state", CarrierState)
SENDER_KEY = web.AppKey("carrier_sender", WebhookSender)
TASKS_KEY = web.AppKey("carrier_tasks", BackgroundTasks)
LOG_KEY = web.AppKey("carrier_request_log", RequestLog)
SCALE_KEY = web.AppKey("carrier_time_scale", float)


def _not_found(kind: str, object_id: str) -> HttpError:
    return HttpError(404, "NOT_FOUND", f"The requested {kind} {object_id} could not be found.")


async def buy_shipment(request: web.Request) -> web.Response:
    """``POST /v2/shipments`` (one-call buy) → 201 Shipment, then the tracking story."""
    body = await read_json_object(request, "PARAMETER.INVALID_JSON")
    parsed = parse_body(EasyPostShipmentRequest, body, "PARAMETER.INVALID")
    base_url = str(request.url.origin())
    shipment = request.app[STATE_KEY].buy(parsed.shipment, base_url)
    logger.info("carrier: bought %s (%s)", shipment["id"], shipment["tracking_code"])
    request.app[TASKS_KEY].spawn(
        _story(request.app, shipment["id"]), name=f"story:{shipment['id']}"
    )
    return json_response(shipment, status=201)


async def _story(app: web.Application, shipment_id: str) -> None:
    state, sender, scale = app[STATE_KEY], app[SENDER_KEY], app[SCALE_KEY]
    for step in STORY:
        await asyncio.sleep(scale)
        event = state.advance(shipment_id, step)
        tracker_id = event["result"]["id"]
        logger.info("carrier: %s → %s/%s", shipment_id, step.status, step.status_detail)
        sender.submit(event_id=event["id"], payload=event, ordering_key=tracker_id)


async def get_shipment(request: web.Request) -> web.Response:
    """``GET /v2/shipments/{id}``."""
    shipment_id = request.match_info["shipment_id"]
    shipment = request.app[STATE_KEY].shipments.get(shipment_id)
    if shipment is None:
        raise _not_found("shipment", shipment_id)
    return json_response(shipment)


async def get_tracker(request: web.Request) -> web.Response:
    """``GET /v2/trackers/{id}``."""
    tracker_id = request.match_info["tracker_id"]
    tracker = request.app[STATE_KEY].trackers.get(tracker_id)
    if tracker is None:
        raise _not_found("tracker", tracker_id)
    return json_response(tracker)


def _png_1x1() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff"))
        + chunk(b"IEND", b"")
    )


LABEL_PNG = _png_1x1()


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
    """The carrier aiohttp application; its cleanup stops stories and pending webhooks."""
    secret = settings.easypost_webhook_secret.get_secret_value().encode("utf-8")
    request_log = RequestLog()
    idempotency = IdempotencyStore(
        conflict_code="IDEMPOTENCY.CONFLICT", invalid_key_code="IDEMPOTENCY.INVALID_KEY"
    )
    app = web.Application(
        middlewares=[
            request_log.middleware(),
            error_middleware(easypost_renderer, ROUTER_CODES),
            basic_auth_middleware(
                settings.carrier_api_key, realm="easypost", public_prefixes=("/labels/", "/track/")
            ),
            idempotency.middleware(),
        ]
    )
    app[STATE_KEY] = CarrierState()
    app[LOG_KEY] = request_log
    app[SCALE_KEY] = settings.sim_time_scale
    app[TASKS_KEY] = BackgroundTasks("carrier-stories")
    app[SENDER_KEY] = WebhookSender(
        name="easypost",
        url=settings.easypost_webhook_url,
        headers=lambda body: {"X-Hmac-Signature": sign_easypost(secret, body)},
        policy=RetryPolicy.for_time_scale(settings.sim_time_scale),
    )
    app.router.add_post("/v2/shipments", buy_shipment)
    app.router.add_get("/v2/shipments/{shipment_id}", get_shipment)
    app.router.add_get("/v2/trackers/{tracker_id}", get_tracker)
    app.router.add_get("/labels/{shipment_id}.png", get_label)
    app.router.add_get("/track/{code}", public_tracking)
    app.router.add_get("/_sim/shipments", sim_shipments)
    app.router.add_get("/_sim/webhooks", sim_webhooks)
    app.router.add_get("/_sim/requests", sim_requests)
    app.on_cleanup.append(_cleanup)
    return app


async def _cleanup(app: web.Application) -> None:
    await app[TASKS_KEY].close()
    await app[SENDER_KEY].close()
