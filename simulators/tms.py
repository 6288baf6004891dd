"""TMS simulator: transport orders over REST, our own dialect (see ``docs/partners.md``).

Guarantees: Bearer auth on every ``/api`` route; problem+json errors (400 malformed JSON,
401, 404, 422 naming the invalid fields or an Idempotency-Key conflict; injected faults too);
ids ``TO-000001`` assigned in creation order; cancelling is idempotent (cancelling a cancelled
order returns it). With ``sim_state_dir`` the orders and idempotency keys are saved to
``tms.json`` after every write and loaded at start.
Test helpers: ``GET /_sim/transport-orders`` (full stored orders), ``GET /_sim/requests`` and
``/_sim/faults``.
"""

import logging
from typing import Any

from aiohttp import web

from simulators.clock import iso_now
from simulators.fault_http import fault_middleware, install_fault_routes
from simulators.faults import FaultState
from simulators.idempotency import IdempotencyStore
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
from simulators.rest_auth import bearer_auth_middleware
from simulators.schemas import TransportOrderRequest
from simulators.settings import SimulatorSettings
from simulators.state_file import StateFile

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://tms.borderflow.example/problems"
ROUTER_CODES = {404: "not-found", 405: "method-not-allowed", 500: "internal-error"}


class TmsState:
    """Transport orders by id, in creation order."""

    def __init__(self) -> None:
        self.orders: dict[str, dict[str, Any]] = {}

    def create(self, request: TransportOrderRequest) -> dict[str, Any]:
        """Store a new order in status ``CREATED`` and return it."""
        order_id = f"TO-{len(self.orders) + 1:06d}"
        now = iso_now()
        order = {
            "id": order_id,
            "reference": request.reference,
            "status": "CREATED",
            "carrier": request.carrier,
            "created_at": now,
            "updated_at": now,
            "shipper": request.shipper.model_dump(mode="json"),
            "consignee": request.consignee.model_dump(mode="json"),
            "packages": [p.model_dump(mode="json") for p in request.packages],
        }
        self.orders[order_id] = order
        return order

    def get(self, order_id: str) -> dict[str, Any]:
        """The order, or a 404 problem."""
        order = self.orders.get(order_id)
        if order is None:
            raise HttpError(404, "not-found", f"Transport order {order_id} does not exist")
        return order


def public_view(order: dict[str, Any]) -> dict[str, Any]:
    """The documented wire shape of an order: ``id, reference, status, carrier, created_at``."""
    return {key: order[key] for key in ("id", "reference", "status", "carrier", "created_at")}


STATE_KEY = web.AppKey("tms_state", TmsState)
LOG_KEY = web.AppKey("tms_request_log", RequestLog)
FILE_KEY = web.AppKey("tms_state_file", StateFile)


async def create_order(request: web.Request) -> web.Response:
    """``POST /api/v1/transport-orders`` → 201."""
    body = await read_json_object(request, "malformed-request")
    parsed = parse_body(TransportOrderRequest, body, "validation-error")
    order = request.app[STATE_KEY].create(parsed)
    request.app[FILE_KEY].save()
    logger.info("tms: created %s for %s", order["id"], order["reference"])
    return json_response(public_view(order), status=201)


async def get_order(request: web.Request) -> web.Response:
    """``GET /api/v1/transport-orders/{id}``."""
    order = request.app[STATE_KEY].get(request.match_info["order_id"])
    return json_response(public_view(order))


async def cancel_order(request: web.Request) -> web.Response:
    """``POST /api/v1/transport-orders/{id}/cancel`` → the order, ``CANCELLED``."""
    order = request.app[STATE_KEY].get(request.match_info["order_id"])
    if order["status"] != "CANCELLED":
        order["status"] = "CANCELLED"
        order["updated_at"] = iso_now()
        request.app[FILE_KEY].save()
        logger.info("tms: cancelled %s", order["id"])
    return json_response(public_view(order))


async def sim_orders(request: web.Request) -> web.Response:
    """``GET /_sim/transport-orders``: every stored order with its parties and packages."""
    return json_response(list(request.app[STATE_KEY].orders.values()))


async def sim_requests(request: web.Request) -> web.Response:
    """``GET /_sim/requests``: every API request received, oldest first."""
    return json_response(request.app[LOG_KEY].entries)


def create_tms_app(settings: SimulatorSettings) -> web.Application:
    """The TMS aiohttp application (state loaded from ``sim_state_dir`` when set)."""
    state = TmsState()
    request_log = RequestLog()
    faults = FaultState("tms", settings.faults_for("tms"))
    render = problem_renderer(PROBLEM_BASE)
    idempotency = IdempotencyStore(
        conflict_code="idempotency-conflict", invalid_key_code="invalid-idempotency-key"
    )
    state_file = StateFile(
        settings.state_file("tms"),
        lambda: {"orders": state.orders, "idempotency": idempotency.dump()},
    )
    idempotency.on_store(state_file.save)
    saved = state_file.load()
    if saved is not None:
        state.orders = saved["orders"]
        idempotency.load(saved["idempotency"])
    app = web.Application(
        middlewares=[
            request_log.middleware(),
            fault_middleware(faults, failure_renderer(render, problem_code)),
            error_middleware(render, ROUTER_CODES),
            bearer_auth_middleware(settings.tms_api_key, realm="tms", code="unauthorized"),
            idempotency.middleware(),
        ]
    )
    app[STATE_KEY] = state
    app[LOG_KEY] = request_log
    app[FILE_KEY] = state_file
    app.router.add_post("/api/v1/transport-orders", create_order)
    app.router.add_get("/api/v1/transport-orders/{order_id}", get_order)
    app.router.add_post("/api/v1/transport-orders/{order_id}/cancel", cancel_order)
    app.router.add_get("/_sim/transport-orders", sim_orders)
    app.router.add_get("/_sim/requests", sim_requests)
    install_fault_routes(app, faults)
    return app
