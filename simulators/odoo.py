"""Odoo simulator: the JSON-RPC endpoint of Odoo 17 (see ``docs/partners.md``).

Routes: ``POST /jsonrpc`` (always HTTP 200; results in ``result``, failures in the Odoo error
envelope, malformed envelopes as ``{"code": -32600, "message": "Invalid Request"}``),
``GET /web/version`` and the test helper ``GET /_sim/calls`` (every ``execute_kw``, oldest
first). When ``sim_odoo_state_file`` is set, the store is loaded from it at start (or seeded
and written when it does not exist yet) and rewritten atomically after every write.
"""

import json
import logging
from typing import Any

from aiohttp import web

from simulators.odoo_business import HOOKS
from simulators.odoo_errors import INVALID_REQUEST, OdooError, error_envelope
from simulators.odoo_persist import dump, load, load_state_file, save_state_file
from simulators.odoo_seed import seed
from simulators.odoo_service import SERVER_VERSION, VERSION_INFO, OdooService
from simulators.odoo_store import OdooStore
from simulators.settings import SimulatorSettings

logger = logging.getLogger(__name__)

SERVICE_KEY = web.AppKey("odoo_service", OdooService)


def build_service(settings: SimulatorSettings) -> OdooService:
    """A service over a seeded store, or over the state file's records when it exists."""
    store = OdooStore(HOOKS)
    path = settings.sim_odoo_state_file
    saved = load_state_file(path) if path is not None else None
    if saved is not None:
        load(store, saved)
        logger.info("odoo: loaded state from %s", path)
    else:
        seed(store)
        if path is not None:
            save_state_file(path, dump(store))
            logger.info("odoo: seeded a fresh state file at %s", path)
    return OdooService(
        db=settings.odoo_db,
        login=settings.odoo_login,
        password=settings.odoo_password,
        store=store,
        state_file=path,
    )


def _rpc_response(payload: Any) -> web.Response:
    return web.json_response(payload, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))


def _parse_envelope(raw: bytes) -> tuple[Any, str, str, list[Any]] | None:
    try:
        payload = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(payload, dict) or payload.get("jsonrpc") != "2.0":
        return None
    params = payload.get("params")
    if not isinstance(params, dict):
        return None
    service, method, args = params.get("service"), params.get("method"), params.get("args", [])
    if not isinstance(service, str) or not isinstance(method, str) or not isinstance(args, list):
        return None
    return payload.get("id"), service, method, args


async def jsonrpc(request: web.Request) -> web.Response:
    """``POST /jsonrpc``."""
    parsed = _parse_envelope(await request.read())
    if parsed is None:
        return _rpc_response({"jsonrpc": "2.0", "id": None, "error": INVALID_REQUEST})
    request_id, service, method, args = parsed
    try:
        result = request.app[SERVICE_KEY].dispatch(service, method, args)
    except OdooError as exc:
        logger.info("odoo: %s.%s → %s: %s", service, method, exc.qualified_name, exc.message)
        return _rpc_response(error_envelope(request_id, exc))
    except Exception as exc:
        logger.exception("odoo: %s.%s crashed", service, method)
        return _rpc_response(error_envelope(request_id, exc))
    return _rpc_response({"jsonrpc": "2.0", "id": request_id, "result": result})


async def web_version(request: web.Request) -> web.Response:
    """``GET /web/version``."""
    return web.json_response({"version": SERVER_VERSION, "version_info": VERSION_INFO})


async def sim_calls(request: web.Request) -> web.Response:
    """``GET /_sim/calls``: ``[{"model", "method", "args", "kwargs"}, …]``, oldest first."""
    return _rpc_response(request.app[SERVICE_KEY].calls)


def create_odoo_app(settings: SimulatorSettings) -> web.Application:
    """The Odoo aiohttp application (loads or seeds its store immediately)."""
    app = web.Application()
    app[SERVICE_KEY] = build_service(settings)
    app.router.add_post("/jsonrpc", jsonrpc)
    app.router.add_get("/web/version", web_version)
    app.router.add_get("/_sim/calls", sim_calls)
    return app
