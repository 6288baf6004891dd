"""Odoo simulator: JSON-RPC as in Odoo 16–18 and JSON-2 as in Odoo 19 (``docs/partners.md``).

Routes: ``POST /jsonrpc`` (always HTTP 200; results in ``result``, failures in the Odoo error
envelope, malformed envelopes as ``{"code": -32600, "message": "Invalid Request"}``),
``POST /json/2/<model>/<method>`` (see :mod:`simulators.odoo_json2`), the web controllers
``/web/version``, ``/web/webclient/version_info`` and ``/web/session/authenticate`` (see
:mod:`simulators.odoo_web`; version from ``sim_odoo_version``), the test helper
``GET /_sim/calls`` (every model call, oldest first) and the fault switches ``/_sim/faults``.
Transport faults (outage, 429, 5xx) are HTTP-level errors; ``partner_error_*`` fails ``object``
calls in Odoo's own error envelope (HTTP 200) or with the JSON-2 status of that exception.
When ``sim_odoo_state_file`` is set, the store is loaded from it at start (or seeded and
written when it does not exist yet) and rewritten by group commit
(:mod:`simulators.state_file`): a request is answered once its write is on disk.
"""

import json
import logging
from typing import Any

from aiohttp import web

from simulators.fault_http import fault_middleware, install_fault_routes
from simulators.faults import FaultState
from simulators.odoo_business import HOOKS
from simulators.odoo_errors import INVALID_REQUEST, OdooError, error_envelope
from simulators.odoo_json2 import json2_call, odoo_failure
from simulators.odoo_persist import dump, load
from simulators.odoo_seed import seed, seed_missing
from simulators.odoo_service import OdooService
from simulators.odoo_store import OdooStore
from simulators.odoo_web import install_web_routes
from simulators.settings import SimulatorSettings
from simulators.state_file import StateFile

logger = logging.getLogger(__name__)

SERVICE_KEY = web.AppKey("odoo_service", OdooService)
FAULTS_KEY = web.AppKey("odoo_faults", FaultState)


def build_service(settings: SimulatorSettings) -> OdooService:
    """A service over a seeded store, or over the state file's records when it exists."""
    store = OdooStore(HOOKS)
    path = settings.sim_odoo_state_file
    state_file = StateFile(path, lambda: dump(store), interval=settings.sim_state_flush_interval)
    saved = state_file.load()
    if saved is not None:
        load(store, saved)
        seed_missing(store)
        logger.info("odoo: loaded state from %s", path)
    else:
        seed(store)
        if path is not None:
            state_file.write_now()
            logger.info("odoo: seeded a fresh state file at %s", path)
    return OdooService(
        db=settings.odoo_db,
        login=settings.odoo_login,
        password=settings.odoo_password,
        store=store,
        state_file=state_file,
        version=settings.sim_odoo_version,
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
    injected = None
    if service == "object":
        injected = request.app[FAULTS_KEY].draw_partner_error(request.path)
    try:
        result = request.app[SERVICE_KEY].dispatch(service, method, args, injected=injected)
    except OdooError as exc:
        logger.info("odoo: %s.%s → %s: %s", service, method, exc.qualified_name, exc.message)
        return _rpc_response(error_envelope(request_id, exc))
    except Exception as exc:
        logger.exception("odoo: %s.%s crashed", service, method)
        return _rpc_response(error_envelope(request_id, exc))
    return _rpc_response({"jsonrpc": "2.0", "id": request_id, "result": result})


async def json2(request: web.Request) -> web.Response:
    """``POST /json/2/<model>/<method>``."""
    return await json2_call(request, request.app[SERVICE_KEY], request.app[FAULTS_KEY])


async def sim_calls(request: web.Request) -> web.Response:
    """``GET /_sim/calls``: ``[{"model", "method", "args", "kwargs", "transport"}, …]``."""
    return _rpc_response(request.app[SERVICE_KEY].calls)


def create_odoo_app(settings: SimulatorSettings) -> web.Application:
    """The Odoo aiohttp application (loads or seeds its store immediately)."""
    faults = FaultState("odoo", settings.faults_for("odoo"))
    service = build_service(settings)
    state_file = service.state_file
    assert state_file is not None
    app = web.Application(
        middlewares=[fault_middleware(faults, odoo_failure), state_file.middleware()]
    )
    app[SERVICE_KEY] = service
    app.on_cleanup.append(state_file.on_cleanup)
    app[FAULTS_KEY] = faults
    app.router.add_post("/jsonrpc", jsonrpc)
    app.router.add_post("/json/2/{model}/{method}", json2)
    install_web_routes(app, service)
    app.router.add_get("/_sim/calls", sim_calls)
    install_fault_routes(app, faults)
    return app
