"""Odoo's web controllers that RPC clients such as odoorpc call besides ``/jsonrpc``.

Guarantees (as Odoo 17–19 answer them):

* ``GET /web/version`` → ``{"version", "version_info"}``.
* ``POST /web/webclient/version_info`` (a ``type="json"`` route: JSON-RPC envelope in, ``result``
  out) → what ``common.version`` answers; odoorpc detects the server version with it.
* ``POST /web/session/authenticate`` with ``{"db", "login", "password"}`` → the session info
  (``uid``, ``user_context``, ``db``, ``server_version``…); an unknown database →
  ``psycopg2.OperationalError``, wrong credentials → ``odoo.exceptions.AccessDenied``, both in
  Odoo's error envelope (HTTP 200). No session cookie is issued: the simulator serves no
  session-authenticated route.
* A body that is not a JSON-RPC 2.0 envelope with object ``params`` → ``Invalid Request``.
"""

import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from simulators.odoo_business import context_get
from simulators.odoo_errors import INVALID_REQUEST, AccessDenied, OdooError, error_envelope
from simulators.odoo_service import OdooService

JsonRoute = Callable[[OdooService, dict[str, Any]], Any]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def session_info(service: OdooService, params: dict[str, Any]) -> dict[str, Any]:
    """``/web/session/authenticate``: log in and describe the session."""
    db = params.get("db")
    uid = service.authenticate(db, params.get("login"), params.get("password"), {})
    if not uid:
        raise AccessDenied()
    [user] = service.store.read("res.users", [uid], ["name", "login", "partner_id"])
    return {
        "uid": uid,
        "is_system": True,
        "is_admin": True,
        "user_context": context_get(service.store),
        "db": db,
        "server_version": service.version_string,
        "server_version_info": service.version_info,
        "name": user["name"],
        "username": user["login"],
        "partner_display_name": user["partner_id"][1] if user["partner_id"] else False,
        "partner_id": user["partner_id"][0] if user["partner_id"] else False,
    }


def _envelope(raw: bytes) -> tuple[Any, dict[str, Any]] | None:
    try:
        payload = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("jsonrpc") != "2.0":
        return None
    params = payload.get("params", {})
    return (payload.get("id"), params) if isinstance(params, dict) else None


def json_route(service: OdooService, route: JsonRoute) -> Callable[..., Any]:
    """An aiohttp handler serving ``route(service, params)`` as an Odoo ``type="json"`` route."""

    async def handler(request: web.Request) -> web.Response:
        parsed = _envelope(await request.read())
        if parsed is None:
            body: dict[str, Any] = {"jsonrpc": "2.0", "id": None, "error": INVALID_REQUEST}
            return web.json_response(body, dumps=_dumps)
        request_id, params = parsed
        try:
            body = {"jsonrpc": "2.0", "id": request_id, "result": route(service, params)}
        except OdooError as exc:
            body = error_envelope(request_id, exc)
        return web.json_response(body, dumps=_dumps)

    return handler


def install_web_routes(app: web.Application, service: OdooService) -> None:
    """Add the web controllers of the module docstring to ``app``."""

    async def web_version(request: web.Request) -> web.Response:
        info = {"version": service.version_string, "version_info": service.version_info}
        return web.json_response(info)

    app.router.add_get("/web/version", web_version)
    app.router.add_post(
        "/web/webclient/version_info", json_route(service, lambda svc, _: svc.version())
    )
    app.router.add_post("/web/session/authenticate", json_route(service, session_info))


__all__ = ["install_web_routes", "json_route", "session_info"]
