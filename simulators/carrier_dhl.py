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

import asyncio
import logging

from aiohttp import web

from simulators.background import BackgroundTasks
from simulators.dhl_schemas import DhlShipmentRequest
from simulators.dhl_tracking import DhlState, public_view
from simulators.documents import text_pdf
from simulators.fault_http import fault_middleware, install_fault_routes
from simulators.faults import FaultState
from simulators.rest import (
    HttpError,
    RequestLog,
    error_middleware,
    failure_renderer,
    json_response,
    parse_body,
    problem_code,
    problem_renderer,
    read_json_object,
)
from simulators.rest_auth import header_key_middleware
from simulators.settings import SimulatorSettings
from simulators.state_file import StateFile

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://dhl.borderflow.example/problems"
ROUTER_CODES = {404: "not-found", 405: "method-not-allowed", 500: "internal-error"}
PUBLIC_PREFIXES = ("/tracking/", "/pod/")

STATE_KEY = web.AppKey("dhl_state", DhlState)
TASKS_KEY = web.AppKey("dhl_tasks", BackgroundTasks)
LOG_KEY = web.AppKey("dhl_request_log", RequestLog)
SCALE_KEY = web.AppKey("dhl_time_scale", float)
FAULTS_KEY = web.AppKey("dhl_faults", FaultState)
FILE_KEY = web.AppKey("dhl_state_file", StateFile)


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
    _start_story(request.app, number)
    return json_response(public_view(booking), status=201)


def _start_story(app: web.Application, number: str) -> None:
    app[TASKS_KEY].spawn(_story(app, number), name=f"story:dhl:{number}")


async def _story(app: web.Application, number: str) -> None:
    state, scale = app[STATE_KEY], app[SCALE_KEY]
    while state.next_step(number) is not None:
        await asyncio.sleep(scale)
        step = state.next_step(number)  # cancelled meanwhile?
        if step is None:
            return
        state.advance(number, step)
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


async def sim_requests(request: web.Request) -> web.Response:
    """``GET /_sim/requests``: every API request received, oldest first."""
    return json_response(request.app[LOG_KEY].entries)


def create_dhl_app(settings: SimulatorSettings) -> web.Application:
    """The DHL-style aiohttp application; its cleanup stops the stories."""
    state = DhlState()
    request_log = RequestLog()
    faults = FaultState("dhl", settings.faults_for("dhl"))
    render = problem_renderer(PROBLEM_BASE, with_instance=True)
    state_file = StateFile(settings.state_file("dhl"), state.dump)
    saved = state_file.load()
    if saved is not None:
        state.load(saved)
    app = web.Application(
        middlewares=[
            request_log.middleware(),
            fault_middleware(faults, failure_renderer(render, problem_code)),
            error_middleware(render, ROUTER_CODES),
            header_key_middleware(
                "DHL-API-Key", settings.dhl_api_key, "unauthorized", PUBLIC_PREFIXES
            ),
        ]
    )
    app[STATE_KEY] = state
    app[LOG_KEY] = request_log
    app[SCALE_KEY] = settings.sim_time_scale
    app[TASKS_KEY] = BackgroundTasks("dhl-stories")
    app[FAULTS_KEY] = faults
    app[FILE_KEY] = state_file
    app.router.add_post("/shipments", book)
    app.router.add_get("/shipments", search)
    app.router.add_get("/shipments/{number}/documents", documents)
    app.router.add_delete("/shipments/{number}", cancel)
    app.router.add_get("/track/shipments", track)
    app.router.add_get("/tracking/{number}", tracking_page)
    app.router.add_get("/pod/{number}.pdf", proof_of_delivery)
    app.router.add_get("/_sim/shipments", sim_shipments)
    app.router.add_get("/_sim/requests", sim_requests)
    install_fault_routes(app, faults)

    async def resume(app: web.Application) -> None:
        for number in state.unfinished():
            logger.info("dhl: resuming the story of %s", number)
            _start_story(app, number)

    async def cleanup(app: web.Application) -> None:
        await app[TASKS_KEY].close()

    app.on_startup.append(resume)
    app.on_cleanup.append(cleanup)
    return app
