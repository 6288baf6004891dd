"""Carrier simulator: a DHL-style Express API (booking, search, documents, cancel, tracking).

Guarantees: the ``DHL-API-Key`` header is required outside ``/_sim/`` and the public pages
(``/tracking/``, ``/pod/``); every error is RFC 9457 problem+json with ``instance`` (401 bad
key, 400 malformed JSON or invalid booking naming every bad field, 404 unknown shipment, 409
cancelling a picked-up shipment, 422 a refused booking while the ``reject_bookings`` fault
lasts, injected faults too). No idempotency keys: clients search by customer reference
before they book. A booking answers ``201`` at once and starts the tracking story (see
:mod:`simulators.dhl_tracking`), one event per ``sim_time_scale`` seconds; nothing is
pushed, clients poll ``GET /track/shipments``. With ``sim_state_dir`` bookings are saved to
``dhl.json`` after every change and unfinished stories continue after a restart.
Test helpers: ``GET /_sim/shipments`` (full bookings with their events), ``/_sim/requests``
and ``/_sim/faults``.
"""

import logging

from aiohttp import web

from simulators.dhl_schemas import DhlShipmentRequest
from simulators.dhl_tracking import DhlState, DhlStep, public_view
from simulators.documents import text_pdf
from simulators.rest import HttpError, json_response, parse_body, read_json_object
from simulators.rest_app import FAULTS_KEY, FILE_KEY, STORIES_KEY, problem_errors, rest_app
from simulators.rest_auth import header_key_middleware
from simulators.settings import SimulatorSettings
from simulators.stories import Story

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://dhl.borderflow.example/problems"
PUBLIC_PREFIXES = ("/tracking/", "/pod/")

STATE_KEY = web.AppKey("dhl_state", DhlState)


def _unknown(number: str) -> HttpError:
    return HttpError(404, "not-found", f"No shipment with tracking number {number} was found")


def _query(request: web.Request, name: str) -> str:
    value = request.query.get(name, "").strip()
    if not value:
        raise HttpError(400, "bad-request", f"The query parameter {name} is required")
    return value


async def book(request: web.Request) -> web.Response:
    """``POST /shipments`` → 201 booking, then the tracking story."""
    body = await read_json_object(request, "malformed-request")
    parsed = parse_body(DhlShipmentRequest, body, "validation-error", status=400)
    faults = request.app[FAULTS_KEY]
    if faults.take("reject_bookings"):
        faults.count("reject_bookings")
        raise HttpError(
            422,
            "booking-refused",
            f"Product {parsed.productCode} cannot be booked for this shipment "
            "(simulated booking refusal)",
        )
    booking = request.app[STATE_KEY].book(parsed, str(request.url.origin()))
    request.app[FILE_KEY].save()
    number = booking["shipmentTrackingNumber"]
    logger.info("dhl: booked %s for %s", number, booking["customerReferences"])
    request.app[STORIES_KEY].start(number)
    return json_response(public_view(booking), status=201)


def _take_step(app: web.Application, number: str, step: DhlStep) -> None:
    app[STATE_KEY].advance(number, step)
    app[FILE_KEY].save()
    logger.info("dhl: %s → %s (%s)", number, step.status_code, step.status)


async def search(request: web.Request) -> web.Response:
    """``GET /shipments?customerReference=<ref>`` → ``{"shipments": [...]}``."""
    reference = _query(request, "customerReference")
    found = request.app[STATE_KEY].search(reference)
    return json_response({"shipments": [public_view(b) for b in found]})


async def documents(request: web.Request) -> web.Response:
    """``GET /shipments/{n}/documents`` → ``{"documents": [...]}``."""
    number = request.match_info["number"]
    booking = request.app[STATE_KEY].bookings.get(number)
    if booking is None:
        raise _unknown(number)
    return json_response({"documents": booking["documents"]})


async def cancel(request: web.Request) -> web.Response:
    """``DELETE /shipments/{n}`` → 200 cancelled (repeat-safe); 409 once picked up."""
    number = request.match_info["number"]
    outcome = request.app[STATE_KEY].cancel(number)
    if outcome is None:
        raise _unknown(number)
    if outcome is False:
        raise HttpError(409, "conflict", f"Shipment {number} was picked up; it cannot be cancelled")
    request.app[FILE_KEY].save()
    logger.info("dhl: cancelled %s", number)
    return json_response({"shipmentTrackingNumber": number, "status": "cancelled"})


async def track(request: web.Request) -> web.Response:
    """``GET /track/shipments?trackingNumber=<n>``: Shipment Tracking – Unified."""
    number = _query(request, "trackingNumber")
    state = request.app[STATE_KEY]
    if number not in state.bookings:
        raise _unknown(number)
    base_url = str(request.url.origin())
    return json_response({"shipments": [state.tracking(number, base_url)]})


async def tracking_page(request: web.Request) -> web.Response:
    """``GET /tracking/{n}``: the public tracking page (plain text)."""
    number = request.match_info["number"]
    state = request.app[STATE_KEY]
    if number not in state.bookings:
        raise _unknown(number)
    status = state.tracking(number, "")["status"]
    return web.Response(text=f"{number}: {status['statusCode']} ({status['status']})")


async def proof_of_delivery(request: web.Request) -> web.Response:
    """``GET /pod/{n}.pdf``: the proof of delivery, once delivered."""
    number = request.match_info["number"]
    state = request.app[STATE_KEY]
    delivery = state.delivered(number) if number in state.bookings else None
    if delivery is None:
        raise _unknown(number)
    pdf = text_pdf(
        ["Proof of delivery", f"Waybill {number}", f"Delivered {delivery['timestamp']}",
         "Signed by J. SMITH"]
    )  # fmt: skip
    return web.Response(body=pdf, content_type="application/pdf")


async def sim_shipments(request: web.Request) -> web.Response:
    """``GET /_sim/shipments``: every booking with its status, events and request."""
    return json_response(list(request.app[STATE_KEY].bookings.values()))


def create_dhl_app(settings: SimulatorSettings) -> web.Application:
    """The DHL-style aiohttp application; its cleanup stops the stories."""
    state = DhlState()
    app = rest_app(
        "dhl",
        settings,
        state,
        errors=problem_errors(PROBLEM_BASE, with_instance=True),
        auth=header_key_middleware(
            "DHL-API-Key", settings.dhl_api_key, "unauthorized", PUBLIC_PREFIXES
        ),
        story=Story(state, _take_step, label="dhl", logger=logger, task_prefix="story:dhl:"),
        routes=[
            web.post("/shipments", book),
            web.get("/shipments", search),
            web.get("/shipments/{number}/documents", documents),
            web.delete("/shipments/{number}", cancel),
            web.get("/track/shipments", track),
            web.get("/tracking/{number}", tracking_page),
            web.get("/pod/{number}.pdf", proof_of_delivery),
            web.get("/_sim/shipments", sim_shipments),
        ],
    )
    app[STATE_KEY] = state
    return app
