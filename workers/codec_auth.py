"""Who may use the codec server, and from which browser origins.

Every ``/encode`` and ``/decode`` request is authenticated with a Borderflow API token
(``store/tokens.py``), checked against the store on that request (a revoked token stops working
at once). The token may travel in one of three ways:

1. ``Authorization: Bearer bf_…`` — scripts, ``temporal … --codec-auth "Bearer bf_…"``.
2. The ``borderflow_codec`` cookie set by ``POST /login`` — the Temporal Web UI with
   *include cross-origin credentials* (``TEMPORAL_CODEC_INCLUDE_CREDENTIALS=true``): the browser
   sends the cookie with each decode. A cookie is honoured only on a request whose ``Origin`` is
   an allowed UI origin, so no other site can spend it.
   ``POST /login`` itself is refused (403) unless the browser says it comes from a page of
   the codec server (its own ``/login`` form: ``Origin``'s host is the request's ``Host``) or
   of an allowed UI origin; ``Referer``'s origin stands in when ``Origin`` is absent, and a
   request with neither is refused. No other site can sign a browser in with its own token
   (login CSRF).
3. A path segment, ``/t/<token>/decode`` — only with ``BORDERFLOW_CODEC_ALLOW_PATH_TOKEN=true``
   (off by default; ``borderflow up`` no longer sets it): whoever sees the URL — a process
   list, the UI's settings — holds the token. Never on a shared server.

CORS: preflight ``OPTIONS`` is answered for the configured UI origins (browsers send no
credentials on a preflight, so it is the one unauthenticated exchange besides ``/healthz`` and
the login page; it reveals nothing and does nothing).
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from sqlalchemy.engine import Engine

from api.problems import problem
from store.tokens import ApiToken, Role, authenticate

DECODERS = frozenset({Role.CODEC, Role.SUPPORT, Role.OPS, Role.FINANCE, Role.ADMIN})
"""Roles that may read payloads in clear; ``codec`` may do nothing else (the API refuses it)."""
ENCODERS = frozenset({Role.OPS, Role.ADMIN})
"""Roles that may produce ciphertext (to start or signal a workflow with encrypted input)."""
COOKIE = "borderflow_codec"
ALLOW_HEADERS = "Authorization, Content-Type, X-Namespace"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class CodecAuth:
    """Authentication and CORS of the codec server."""

    def __init__(self, store: Engine, origins: frozenset[str], *, path_token: bool) -> None:
        self.store = store
        self.origins = origins
        self.path_token = path_token

    async def token(self, request: web.Request, roles: frozenset[Role]) -> ApiToken | web.Response:
        """The request's valid token with one of ``roles``, or the 401/403 answer to send."""
        presented, by_cookie = self._presented(request)
        if by_cookie and request.headers.get("Origin") not in self.origins:
            presented = ""
        return await self.verify(presented, roles)

    async def verify(self, presented: str, roles: frozenset[Role]) -> ApiToken | web.Response:
        """The live token ``presented`` if it has one of ``roles``, else the 401/403 answer."""
        row = None
        if presented:
            row = await asyncio.to_thread(authenticate, self.store, presented)
        if row is None:
            reply = problem(401, "Unauthorized", "a valid Borderflow API token is required")
            reply.headers["WWW-Authenticate"] = 'Bearer realm="borderflow-codec"'
            return reply
        if row.role not in roles:
            return problem(403, "Forbidden", f"the {row.role} role may not use this endpoint")
        return row

    def may_log_in(self, request: web.Request) -> bool:
        """Whether a sign-in comes from this server's own page or an allowed UI origin."""
        origin = request.headers.get("Origin") or _origin_of(request.headers.get("Referer", ""))
        if not origin or origin == "null":
            return False
        if origin.rstrip("/") in self.origins:
            return True
        return urlsplit(origin).netloc.lower() == request.host.lower()

    def _presented(self, request: web.Request) -> tuple[str, bool]:
        in_path = request.match_info.get("token")
        if in_path is not None:
            return (in_path if self.path_token else ""), False
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip(), False
        cookie = request.cookies.get(COOKIE, "")
        return cookie, bool(cookie)

    def middleware(self) -> Any:
        @web.middleware
        async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
            origin = request.headers.get("Origin", "")
            allowed = origin in self.origins
            if request.method == "OPTIONS":
                if not allowed:
                    return problem(403, "Forbidden", "origin not allowed")
                response: web.StreamResponse = web.Response(status=204)
                response.headers["Access-Control-Allow-Methods"] = "POST, OPTIONS"
                response.headers["Access-Control-Allow-Headers"] = ALLOW_HEADERS
                response.headers["Access-Control-Max-Age"] = "600"
            else:
                response = await handler(request)
            if allowed:
                response.headers["Access-Control-Allow-Origin"] = origin
                response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Vary"] = "Origin"
            return response

        return cors


def _origin_of(url: str) -> str:
    """``scheme://host[:port]`` of ``url``, or ``""`` when it has none."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"
