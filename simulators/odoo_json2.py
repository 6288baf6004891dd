"""Odoo 19's JSON-2 endpoint, ``POST /json/2/<model>/<method>``, and Odoo's HTTP-level errors.

Guarantees:

* Served only when the simulator runs as Odoo ≥ 19 (``sim_odoo_version``); earlier versions
  answer ``404`` with werkzeug's HTML page, as a real Odoo 17 does.
* Checks, in order: ``Authorization: bearer <key>`` (the Odoo password setting; else ``401``
  ``werkzeug.exceptions.Unauthorized`` "Invalid apikey"), ``X-Odoo-Database`` when given (an
  unknown database → ``404`` ``werkzeug.exceptions.NotFound``: Odoo finds no such database to
  route to), the body (a JSON object of named arguments; else ``422``), the model and method
  (``404``), then runs the call as JSON-RPC's ``execute_kw`` would (same checks and atomicity).
* ``ids`` become the record ids of record methods and are ignored by ``@api.model`` methods
  (``search``, ``search_read``, ``search_count``, ``create``, ``fields_get``); ``context`` is
  accepted and echoed in errors. Success is ``200`` with the method's JSON return value.
* Errors are ``{"name", "message", "arguments", "context", "debug"}`` with the status of
  :func:`~simulators.odoo_errors.json2_status` (401/403/404/409/422, else 500).
* Every call whose body is a JSON object is recorded in ``/_sim/calls`` with ``transport:
  "json2"``, ``args: [ids]`` when ``ids`` was given and the other named arguments as
  ``kwargs``, whether it then succeeds or not.
"""

import json
import logging
from typing import Any

from aiohttp import web

from simulators.fault_http import phrase
from simulators.faults import FaultState
from simulators.odoo_errors import (
    InjectedError,
    NotFound,
    OdooError,
    Unauthorized,
    UnprocessableEntity,
    json2_error,
)
from simulators.odoo_service import MODEL_LEVEL, OdooService

logger = logging.getLogger(__name__)

JSON2_PREFIX = "/json/2/"
JSON2_SINCE = 19


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def werkzeug_name(status: int) -> str:
    """``503`` → ``werkzeug.exceptions.ServiceUnavailable``."""
    words = phrase(status).title().split()
    return "werkzeug.exceptions." + "".join(w for w in words if w.isalnum())


def werkzeug_html(status: int, message: str) -> web.Response:
    """An HTTP-level error page as werkzeug renders it (what a JSON-RPC client sees)."""
    title = f"{status} {phrase(status)}"
    html = (
        f"<!doctype html>\n<html lang=en>\n<title>{title}</title>\n"
        f"<h1>{phrase(status)}</h1>\n<p>{message}</p>\n"
    )
    return web.Response(status=status, text=html, content_type="text/html")


def odoo_failure(request: web.Request, status: int, message: str) -> web.Response:
    """Injected transport faults: JSON-2 error bodies on ``/json/2/``, HTML elsewhere."""
    if not request.path.startswith(JSON2_PREFIX):
        return werkzeug_html(status, message)
    body = {
        "name": werkzeug_name(status),
        "message": f"{status} {phrase(status)}: {message}",
        "arguments": [message, status],
        "context": {},
        "debug": "",
    }
    return web.json_response(body, status=status, dumps=_dumps)


def _bearer_ok(request: web.Request, service: OdooService) -> bool:
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and service.password_ok(key.strip())


def _split(body: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    named = dict(body)
    return named.pop("ids", None), named


async def json2_call(
    request: web.Request, service: OdooService, faults: FaultState
) -> web.Response:
    """``POST /json/2/<model>/<method>`` (see the module docstring)."""
    model, method = request.match_info["model"], request.match_info["method"]
    if service.version_info[0] < JSON2_SINCE:
        return werkzeug_html(404, "The requested URL was not found on the server.")
    try:
        body: Any = json.loads(await request.read())
    except ValueError:
        body = None
    ids, named = _split(body) if isinstance(body, dict) else (None, {})
    context = named.get("context")
    context = context if isinstance(context, dict) else {}
    try:
        if isinstance(body, dict):
            service.record(model, method, [] if ids is None else [ids], named, "json2")
        if not _bearer_ok(request, service):
            raise Unauthorized("Invalid apikey")
        database = request.headers.get("X-Odoo-Database")
        if database is not None and database != service.db:
            raise NotFound(f"404 Not Found: database {database!r} does not exist")
        if not isinstance(body, dict):
            raise UnprocessableEntity("The request body must be a JSON object of named arguments")
        injected = faults.draw_partner_error(request.path)
        if injected is not None:
            raise InjectedError(injected)
        args = [] if method in MODEL_LEVEL else [[] if ids is None else ids]
        result = service.call_model(model, method, args, named, json2=True)
    except Exception as exc:
        if not isinstance(exc, OdooError):
            logger.exception("odoo: json2 %s.%s crashed", model, method)
        status, error = json2_error(exc, context)
        logger.info("odoo: json2 %s.%s → %d %s", model, method, status, error["name"])
        return web.json_response(error, status=status, dumps=_dumps)
    return web.json_response(result, dumps=_dumps)
