"""The API's observability: request spans, request metrics, ``/metrics``, ops audit entries.

:func:`observability_middleware` is the outermost middleware, so it sees every request and
the final status (problem responses included). For each request it:
- opens a SERVER span named ``<METHOD> <route template>``, continuing the caller's W3C trace
  context when one is sent; Temporal client calls made by the handler are its children;
- tags it (and the log context) with ``borderflow.shipment_id`` / ``borderflow.order_ref``
  when the route names a shipment, or an audited route's answer does (the start);
- counts ``borderflow_http_requests_total{route,status}`` (``unmatched`` when no route);
- appends an ops action to the audit trail for the routes in :data:`AUDITED_ROUTES` when they
  changed something (not an ``Idempotency-Key`` replay); if the store refuses the
  entry, the action's answer is still sent and the failure is logged as an error.

``GET /metrics`` is public, like ``/healthz``: keep the API's port off the internet or filter
``/metrics`` at the ingress.
"""

import asyncio
import json
import logging
from typing import Any

from aiohttp import web
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy.engine import Engine

from api.auth import TOKEN_KEY
from observability.logs import bind
from observability.metrics import CONTENT_TYPE, exposition, record_http_request
from observability.tracing import tag_shipment, tracer
from store.audit import record_ops_action

UNMATCHED = "unmatched"
AUDITED_ROUTES: dict[tuple[str, str], tuple[str, frozenset[int]]] = {
    ("POST", "/v1/shipments"): ("shipment.start", frozenset({201})),
    ("POST", "/v1/shipments/{shipment_id}/events"): ("shipment.record_event", frozenset({200})),
    ("POST", "/v1/shipments/{shipment_id}/cancel"): ("shipment.cancel", frozenset({200})),
    ("POST", "/v1/shipments/{shipment_id}/amend"): ("shipment.amend", frozenset({200})),
    ("POST", "/v1/shipments/{shipment_id}/resolve"): ("shipment.resolve", frozenset({200})),
    ("POST", "/v1/shipments/{shipment_id}/rebook"): ("shipment.rebook", frozenset({200})),
    ("POST", "/v1/inbox/{message_id}/replay"): ("inbox.replay", frozenset({200})),
    ("POST", "/v1/reconciliation/run"): ("reconciliation.run", frozenset({202})),
}
"""Routes whose requests are ops actions: the action's name and the statuses meaning it
changed something (``POST /v1/shipments`` answers 200 when the shipment existed: no action)."""
ANSWER_FIELDS = ("shipment_id", "order_ref", "stage", "event_id", "id", "state")
"""What an audited answer keeps (the rest is the shipment, readable in its own history)."""
log = logging.getLogger("borderflow.audit")


async def metrics(_request: web.Request) -> web.Response:
    """``GET /metrics``: this process's metrics in the Prometheus text format."""
    response = web.Response(body=exposition())
    response.headers["Content-Type"] = CONTENT_TYPE
    return response


def route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    if resource is None or request.match_info.http_exception is not None:
        return UNMATCHED
    return resource.canonical


def _json(text: str | None) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def observability_middleware(store: Engine) -> Any:
    @web.middleware
    async def observe(request: web.Request, handler: Any) -> web.StreamResponse:
        route = route_of(request)
        parent = propagate.extract(request.headers)
        with tracer().start_as_current_span(
            f"{request.method} {route}", context=parent, kind=SpanKind.SERVER,
            attributes={"http.request.method": request.method, "http.route": route,
                        "url.path": request.path},
        ) as span:  # fmt: skip
            shipment_id = request.match_info.get("shipment_id")
            tag_shipment(shipment_id, span)
            status = 500
            try:
                with bind(shipment_id=shipment_id):
                    response: web.StreamResponse = await handler(request)
                status = response.status
                await _after(store, request, route, response, span)
                return response
            except web.HTTPException as err:
                status = err.status
                raise
            finally:
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                record_http_request(route, status)

    return observe


async def _after(
    store: Engine, request: web.Request, route: str, response: web.StreamResponse,
    span: trace.Span,
) -> None:  # fmt: skip
    audited = AUDITED_ROUTES.get((request.method, route))
    if audited is None:  # only audited routes' answers are read (the start names its shipment)
        return
    action, changed = audited
    body = _json(response.text) if isinstance(response, web.Response) else None
    shipment_id = request.match_info.get("shipment_id")
    if isinstance(body, dict) and isinstance(body.get("shipment_id"), str):
        shipment_id = shipment_id or body["shipment_id"]
        tag_shipment(shipment_id, span)
    replayed = response.headers.get("Idempotent-Replayed") == "true"
    if response.status not in changed or replayed:
        return
    token = request.get(TOKEN_KEY)
    answer = {k: v for k, v in (body or {}).items() if k in ANSWER_FIELDS}
    after = {"request": _json((await request.read()).decode(errors="replace")), "response": answer}
    try:
        await asyncio.to_thread(
            record_ops_action, store, token.id if token else None,
            token.role if token else None, action, shipment_id, None, after,
        )  # fmt: skip
    except Exception:  # the action happened: answer it, and say loudly what was not recorded
        log.exception("audit entry not written: %s of %s by token %s", action, shipment_id,
                      token.id if token else None)  # fmt: skip
