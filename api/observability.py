"""The API's observability: request and trace ids, the access log, request spans, request
metrics, ``/metrics``, ops audit entries.

:func:`observability_middleware` is the outermost middleware, so it sees every request and
the final status (problem responses included). For each request it:
- names the request: a client's ``X-Request-Id`` is kept when it is 1 to 128 characters of
  ``[A-Za-z0-9._-]``, otherwise (absent, too long, anything else) a new uuid4 is its id;
- answers with ``X-Request-Id`` (that id) and ``X-Trace-Id`` (the request span's trace id, 32
  lowercase hex digits, as in W3C ``traceparent``: the id to look the trace up by; with no
  tracer provider installed, a random id of the same shape, still the same on every signal of
  the request); every problem+json body carries both as ``request_id`` / ``trace_id``
  (``api/problems.py``), and every log record written while the request is served carries
  ``request_id`` (``observability/logs.py``);
- writes one access-log line (logger ``borderflow.access``, level INFO) when the answer is
  ready: ``request_id``, ``trace_id``, ``method``, ``route`` (the matched route's template,
  e.g. ``/v1/shipments/{shipment_id}``, or ``unmatched``: never the raw path), ``status``,
  ``latency_ms`` (until the handler's answer is ready, body streaming aside), ``client`` (the
  client's address as :func:`api.limits.client_ip` finds it, behind ``trusted_proxies``) and,
  when the route names one, ``shipment_id``. Never the query string (Shippo's webhook token
  travels there) nor any header value. A request the client gave up on (cancelled) is logged
  with status 499;
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
import re
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from sqlalchemy.engine import Engine

from api.auth import TOKEN_KEY
from api.limits import Network, client_ip
from api.problems import identified
from observability.logs import bind
from observability.metrics import CONTENT_TYPE, exposition, record_http_request
from observability.tracing import tag_shipment, tracer
from store.audit import record_ops_action

__all__ = [
    "ACCESS_LOGGER", "AUDITED_ROUTES", "IDS_KEY", "REQUEST_ID_HEADER", "TRACE_ID_HEADER",
    "UNMATCHED", "RequestIds", "metrics", "observability_middleware", "request_id_of",
    "route_of",
]  # fmt: skip
UNMATCHED = "unmatched"
REQUEST_ID_HEADER = "X-Request-Id"
TRACE_ID_HEADER = "X-Trace-Id"
ACCESS_LOGGER = "borderflow.access"
CLIENT_GONE = 499
"""The access log's status for a request cancelled because its client went away (nginx's)."""
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
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
access_log = logging.getLogger(ACCESS_LOGGER)


@dataclass(frozen=True)
class RequestIds:
    """The ids of one request, the same in its headers, problem bodies and log lines."""

    request_id: str
    trace_id: str


IDS_KEY = web.RequestKey("request_ids", RequestIds)


def request_id_of(request: web.Request) -> str:
    """The client's ``X-Request-Id`` when it is a sane token, else a new uuid4."""
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    return sent if _SANE_ID.fullmatch(sent) else str(uuid.uuid4())


def _trace_id(span: trace.Span) -> str:
    context = span.get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else uuid.uuid4().hex


def _identify(response: web.StreamResponse, ids: RequestIds) -> None:
    if not response.prepared:  # a streamed answer sent its headers already
        response.headers[REQUEST_ID_HEADER] = ids.request_id
        response.headers[TRACE_ID_HEADER] = ids.trace_id


def _log_access(
    request: web.Request, route: str, status: int, started: float, ids: RequestIds,
    trusted_proxies: Sequence[Network],
) -> None:  # fmt: skip
    latency_ms = round((time.perf_counter() - started) * 1000, 3)
    client = client_ip(request, trusted_proxies)
    access_log.info(
        "%s %s %s %.1f ms", request.method, route, status, latency_ms,
        extra={"request_id": ids.request_id, "trace_id": ids.trace_id,
               "method": request.method, "route": route, "status": status,
               "latency_ms": latency_ms, "client": str(client) if client else None},
    )  # fmt: skip


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


def observability_middleware(store: Engine, trusted_proxies: Sequence[Network] = ()) -> Any:
    """The outermost middleware (see the module docstring); ``trusted_proxies`` as the API's
    settings name them, for the access log's client address."""

    @web.middleware
    async def observe(request: web.Request, handler: Any) -> web.StreamResponse:
        started = time.perf_counter()
        route = route_of(request)
        parent = propagate.extract(request.headers)
        with tracer().start_as_current_span(
            f"{request.method} {route}", context=parent, kind=SpanKind.SERVER,
            attributes={"http.request.method": request.method, "http.route": route,
                        "url.path": request.path},
        ) as span:  # fmt: skip
            ids = RequestIds(request_id_of(request), _trace_id(span))
            request[IDS_KEY] = ids
            shipment_id = request.match_info.get("shipment_id")
            tag_shipment(shipment_id, span)
            status = 500
            with bind(shipment_id=shipment_id, request_id=ids.request_id):
                try:
                    with identified(ids.request_id, ids.trace_id):
                        response: web.StreamResponse = await handler(request)
                    status = response.status
                    _identify(response, ids)
                    await _after(store, request, route, response, span)
                    return response
                except web.HTTPException as err:  # a redirect (problem_middleware has the rest)
                    status = err.status
                    _identify(err, ids)
                    raise
                except asyncio.CancelledError:
                    status = CLIENT_GONE
                    raise
                finally:
                    _finish(span, route, status)
                    _log_access(request, route, status, started, ids, trusted_proxies)

    return observe


def _finish(span: trace.Span, route: str, status: int) -> None:
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))
    record_http_request(route, status)


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
