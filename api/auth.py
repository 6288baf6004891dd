"""Who may call what: bearer tokens with roles, checked on every route but health and webhooks.

401 (with ``WWW-Authenticate: Bearer``) when no valid token is presented; 403 when the token's
role may not use the route. Partners never use tokens: their webhooks are authenticated by
their signatures (see ``api/webhooks.py``).
"""

import asyncio
from typing import Any

from aiohttp import web
from sqlalchemy.engine import Engine

from api.problems import problem
from store.tokens import ApiToken, Role, authenticate

READ = frozenset({Role.OPS, Role.SUPPORT, Role.FINANCE, Role.ADMIN})
OPERATE = frozenset({Role.OPS, Role.ADMIN})
ADMIN = frozenset({Role.ADMIN})
RECONCILE = frozenset({Role.SUPPORT, Role.ADMIN})

PUBLIC = frozenset(
    {"/healthz", "/readyz", "/v1/webhooks/{partner}", "/openapi.json", "/docs", "/metrics"}
)
PERMISSIONS: dict[tuple[str, str], frozenset[Role]] = {
    ("POST", "/v1/shipments"): OPERATE,
    ("GET", "/v1/shipments/{shipment_id}"): READ,
    ("GET", "/v1/shipments/{shipment_id}/timeline"): READ,
    ("POST", "/v1/shipments/{shipment_id}/events"): OPERATE,
    ("GET", "/v1/shipments"): READ,
    ("POST", "/v1/shipments/{shipment_id}/cancel"): OPERATE,
    ("POST", "/v1/shipments/{shipment_id}/amend"): OPERATE,
    ("POST", "/v1/shipments/{shipment_id}/resolve"): OPERATE,
    ("POST", "/v1/shipments/{shipment_id}/rebook"): OPERATE,
    ("GET", "/v1/inbox"): ADMIN,
    ("POST", "/v1/inbox/{message_id}/replay"): ADMIN,
    ("GET", "/v1/reconciliation"): RECONCILE,
    ("POST", "/v1/reconciliation/run"): RECONCILE,
    ("GET", "/v1/audit"): frozenset({Role.SUPPORT, Role.ADMIN}),
}
"""Every route and the roles allowed on it. A route missing here is refused to everyone, and
the ``codec`` role is on none: it only decodes, on the codec server."""

TOKEN_KEY = web.RequestKey("token", ApiToken)


def auth_middleware(store: Engine) -> Any:
    @web.middleware
    async def check(request: web.Request, handler: Any) -> web.StreamResponse:
        route = request.match_info.route.resource
        path = route.canonical if route is not None else request.path
        if path in PUBLIC or request.match_info.http_exception is not None:
            response: web.StreamResponse = await handler(request)
            return response
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        row = None
        if scheme.lower() == "bearer" and token:
            row = await asyncio.to_thread(authenticate, store, token.strip())
        if row is None:
            reply = problem(401, "Unauthorized", "a valid bearer token is required")
            reply.headers["WWW-Authenticate"] = 'Bearer realm="borderflow"'
            return reply
        allowed = PERMISSIONS.get((request.method, path), frozenset())
        if row.role not in allowed:
            return problem(403, "Forbidden", f"the {row.role} role may not {request.method} {path}")
        request[TOKEN_KEY] = row
        response = await handler(request)
        return response

    return check
