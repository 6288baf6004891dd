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
from simulators.rest import HttpError, json_response, parse_body, read_json_object
from simulators.rest_app import FILE_KEY, problem_errors, rest_app
from simulators.rest_auth import bearer_auth_middleware
from simulators.schemas import TransportOrderRequest
from simulators.settings import SimulatorSettings

logger = logging.getLogger(__name__)

PROBLEM_BASE = "https://tms.borderflow.example/problems"


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

    def dump(self) -> dict[str, Any]:
        """Everything as JSON-ready data."""
        return {"orders": self.orders}

    def load(self, data: dict[str, Any]) -> None:
        """Replace the state with :meth:`dump`'s data."""
        self.orders = data["orders"]


def public_view(order: dict[str, Any]) -> dict[str, Any]:
    """The documented wire shape of an order: ``id, reference, status, carrier, created_at``."""
    return {key: order[key] for key in ("id", "reference", "status", "carrier", "created_at")}


STATE_KEY = web.AppKey("tms_state", TmsState)


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


def create_tms_app(settings: SimulatorSettings) -> web.Application:
    """The TMS aiohttp application (state loaded from ``sim_state_dir`` when set)."""
    state = TmsState()
    app = rest_app(
        "tms",
        settings,
        state,
        errors=problem_errors(PROBLEM_BASE),
        auth=bearer_auth_middleware(settings.tms_api_key, realm="tms", code="unauthorized"),
        idempotent=True,
        routes=[
            web.post("/api/v1/transport-orders", create_order),
            web.get("/api/v1/transport-orders/{order_id}", get_order),
            web.post("/api/v1/transport-orders/{order_id}/cancel", cancel_order),
            web.get("/_sim/transport-orders", sim_orders),
        ],
    )
    app[STATE_KEY] = state
    return app
