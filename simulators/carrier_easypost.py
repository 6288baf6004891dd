"""Carrier simulator: an EasyPost-style one-call-buy API with tracking webhooks.

Guarantees: HTTP Basic auth (API key as user, empty password) on ``/v2``; EasyPost error
shape ``{"error": {"code", "message", "errors": [{"field", "message"}]}}`` (injected faults
too); a purchase answers ``201`` immediately and starts the tracking story in the background
(six ``tracker.updated`` Events, one per ``sim_time_scale`` seconds, the first one step after
the purchase), each signed with ``X-Hmac-Signature`` and retried until the API answers 2xx.
An idempotent replay of a purchase returns the first response and starts no second story.
A ``POST /v2/shipments`` whose shipment names no ``service`` is EasyPost's two-step flow (as
Karrio's EasyPost extension uses it): it answers the unpurchased Shipment with its ``rates``
(``Express`` and ``Standard``), and ``POST /v2/shipments/{id}/buy`` with ``{"rate": {"id"}}``
purchases one (``200``; the story starts then; a second buy is ``422 SHIPMENT.POSTAGE.EXISTS``).
``POST /v2/trackers`` (``{"tracker": {"tracking_code", "carrier"}}``, or those fields at the top
level as Karrio sends them) answers the tracker of that code, creating an empty one for a code
nobody bought here.
``POST /v2/shipments/{id}/refund`` answers the Shipment with ``refund_status: "submitted"``
(repeat-safe) and stops its story. While the ``reject_bookings`` fault lasts, purchases are
refused with ``422 SHIPMENT.POSTAGE.FAILURE`` (nothing stored, the Idempotency-Key stays
free). With ``sim_state_dir``, shipments, idempotency keys and undelivered webhooks are saved
to ``easypost.json`` after every change; after a restart, unfinished stories continue with
their remaining steps and undelivered webhooks are retried.
Test helpers: ``GET /_sim/shipments``, ``/_sim/webhooks`` (every delivery attempt),
``/_sim/requests`` and ``/_sim/faults``.
"""

import logging
from typing import Any

from aiohttp import web

from simulators.carrier_tracking import CARRIER_NAME, CarrierState, StoryStep
from simulators.documents import LABEL_PNG
from simulators.fault_http import phrase
from simulators.rest import (
    HttpError,
    easypost_renderer,
    json_response,
    parse_body,
    read_json_object,
)
from simulators.rest_app import (
    FAULTS_KEY,
    FILE_KEY,
    SENDER_KEY,
    STORIES_KEY,
    ErrorStyle,
    Webhooks,
    rest_app,
)
from simulators.rest_auth import basic_auth_middleware
from simulators.schemas import EasyPostShipmentRequest
from simulators.settings import SimulatorSettings
from simulators.signing import sign_easypost
from simulators.stories import Story

logger = logging.getLogger(__name__)

STATE_KEY = web.AppKey("carrier_state", CarrierState)


def easypost_code(status: int) -> str:
    """EasyPost-style error code for an injected HTTP failure."""
    return "RATE_LIMITED" if status == 429 else phrase(status).upper().replace(" ", "_")


ERRORS = ErrorStyle(
    render=easypost_renderer,
    code_for=easypost_code,
    router_codes={404: "NOT_FOUND", 405: "METHOD.NOT_ALLOWED", 500: "INTERNAL_SERVER_ERROR"},
    idempotency_conflict="IDEMPOTENCY.CONFLICT",
    invalid_idempotency_key="IDEMPOTENCY.INVALID_KEY",
)


def _not_found(kind: str, object_id: str) -> HttpError:
    return HttpError(404, "NOT_FOUND", f"The requested {kind} {object_id} could not be found.")


def _shipment(request: web.Request) -> dict[str, Any]:
    shipment_id = request.match_info["shipment_id"]
    shipment = request.app[STATE_KEY].shipments.get(shipment_id)
    if shipment is None:
        raise _not_found("shipment", shipment_id)
    return shipment


async def buy_shipment(request: web.Request) -> web.Response:
    """``POST /v2/shipments``: a one-call buy (201, then the tracking story), or without a
    ``service`` the unpurchased Shipment with its rates (201, no story)."""
    body = await read_json_object(request, "PARAMETER.INVALID_JSON")
    parsed = parse_body(EasyPostShipmentRequest, body, "PARAMETER.INVALID")
    shipment_body = body.get("shipment")
    if isinstance(shipment_body, dict) and not shipment_body.get("service"):
        created = request.app[STATE_KEY].create(parsed.shipment)
        request.app[FILE_KEY].save()
        logger.info("carrier: created %s (rated, not purchased)", created["id"])
        return json_response(created, status=201)
    _refuse_if_faulted(request)
    shipment = request.app[STATE_KEY].buy(parsed.shipment, str(request.url.origin()))
    request.app[FILE_KEY].save()
    logger.info("carrier: bought %s (%s)", shipment["id"], shipment["tracking_code"])
    request.app[STORIES_KEY].start(shipment["id"])
    return json_response(shipment, status=201)


def _refuse_if_faulted(request: web.Request) -> None:
    faults = request.app[FAULTS_KEY]
    if faults.take("reject_bookings"):
        faults.count("reject_bookings")
        raise HttpError(
            422,
            "SHIPMENT.POSTAGE.FAILURE",
            "The carrier refused to create this shipment (simulated booking refusal).",
        )


async def buy_rate(request: web.Request) -> web.Response:
    """``POST /v2/shipments/{id}/buy`` ``{"rate": {"id"}}`` → 200 Shipment, then the story."""
    shipment = _shipment(request)
    body = await read_json_object(request, "PARAMETER.INVALID_JSON")
    rate = body.get("rate")
    rate_id = rate.get("id") if isinstance(rate, dict) else None
    if not isinstance(rate_id, str) or not rate_id:
        raise HttpError(422, "PARAMETER.REQUIRED", "Missing required parameter: rate.id.")
    _refuse_if_faulted(request)
    try:
        bought = request.app[STATE_KEY].purchase(shipment["id"], rate_id, str(request.url.origin()))
    except LookupError:
        raise HttpError(
            422, "SHIPMENT.RATE.INVALID", f"Rate {rate_id} is not a rate of this shipment."
        ) from None
    except ValueError:
        raise HttpError(
            422, "SHIPMENT.POSTAGE.EXISTS", "Postage already exists for this shipment."
        ) from None
    request.app[FILE_KEY].save()
    logger.info("carrier: bought %s (%s)", bought["id"], bought["tracking_code"])
    request.app[STORIES_KEY].start(bought["id"])
    return json_response(bought)


async def create_tracker(request: web.Request) -> web.Response:
    """``POST /v2/trackers`` → the tracker of ``tracking_code`` (created empty if new)."""
    body = await read_json_object(request, "PARAMETER.INVALID_JSON")
    nested = body.get("tracker")
    fields: dict[str, Any] = nested if isinstance(nested, dict) else body
    code, carrier = fields.get("tracking_code"), fields.get("carrier")
    if not isinstance(code, str) or not code.strip():
        raise HttpError(
            422, "PARAMETER.REQUIRED", "Missing required parameter: tracker.tracking_code."
        )
    state = request.app[STATE_KEY]
    known = len(state.trackers)
    tracker = state.track(code, str(carrier or CARRIER_NAME), str(request.url.origin()))
    if len(state.trackers) != known:
        request.app[FILE_KEY].save()
    return json_response(tracker, status=201 if len(state.trackers) != known else 200)


def _take_step(app: web.Application, shipment_id: str, step: StoryStep) -> None:
    event = app[STATE_KEY].advance(shipment_id, step)
    logger.info("carrier: %s → %s/%s", shipment_id, step.status, step.status_detail)
    app[SENDER_KEY].submit(event_id=event["id"], payload=event, ordering_key=event["result"]["id"])
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


def create_carrier_app(settings: SimulatorSettings) -> web.Application:
    """The EasyPost-style aiohttp app; its cleanup stops stories and pending webhooks."""
    secret = settings.easypost_webhook_secret.get_secret_value().encode("utf-8")
    state = CarrierState()
    app = rest_app(
        "easypost",
        settings,
        state,
        nested_as="carrier",
        errors=ERRORS,
        auth=basic_auth_middleware(
            settings.carrier_api_key, realm="easypost", public_prefixes=("/labels/", "/track/")
        ),
        idempotent=True,
        webhooks=Webhooks(
            settings.webhook_url("easypost"),
            lambda body: {"X-Hmac-Signature": sign_easypost(secret, body)},
        ),
        story=Story(state, _take_step, label="carrier", logger=logger),
        routes=[
            web.post("/v2/shipments", buy_shipment),
            web.get("/v2/shipments/{shipment_id}", get_shipment),
            web.post("/v2/shipments/{shipment_id}/buy", buy_rate),
            web.post("/v2/shipments/{shipment_id}/refund", refund_shipment),
            web.post("/v2/trackers", create_tracker),
            web.get("/v2/trackers/{tracker_id}", get_tracker),
            web.get("/labels/{shipment_id}.png", get_label),
            web.get("/track/{code}", public_tracking),
            web.get("/_sim/shipments", sim_shipments),
        ],
    )
    app[STATE_KEY] = state
    return app
