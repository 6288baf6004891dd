"""Finance notifications simulator: a Slack-compatible incoming webhook.

It is the registry's partner ``notify`` (:mod:`canonical.partners`): its port is
``sim_ports["notify"]``, its start-up faults ``sim_faults["notify"]``.

``POST /hooks/finance`` takes ``{"text", "blocks"?, "borderflow"?}`` and answers like Slack:
``200 ok`` (text/plain), or ``400`` with ``invalid_payload`` / ``no_text`` /
``invalid_blocks``. A repeated ``Idempotency-Key`` is acknowledged (200 ok) and not stored
twice, whatever its body. No authentication (Slack webhook URLs are the secret).
``POST /hooks/alerts`` takes what Alertmanager's ``webhook_configs`` send (its documented
webhook JSON, ``version`` "4": ``status``, ``receiver``, ``groupKey``, ``alerts[]`` with
``labels``, ``annotations``, ``startsAt``…), so that compose's alerts reach someone locally: it
answers ``200`` and stores it on the channel ``alerts``, or ``400`` naming the missing field.
Injected faults answer like Slack does: plain text (``rate_limited`` with ``Retry-After``,
``service_unavailable``, …) with the injected status.
Test helpers: ``GET /_sim/messages`` lists what was stored, oldest first, as
``{"received_at", "idempotency_key", "message"}`` where ``message`` is the JSON received;
``/_sim/faults``.
"""

import json
import logging
from typing import Any

from aiohttp import web

from simulators.clock import iso_now
from simulators.fault_http import fault_middleware, install_fault_routes, phrase
from simulators.faults import FaultState
from simulators.settings import SimulatorSettings

logger = logging.getLogger(__name__)


class FinanceState:
    """Stored messages and the idempotency keys already seen."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.keys: set[str] = set()


STATE_KEY = web.AppKey("finance_state", FinanceState)


def _slack_error(code: str, status: int = 400) -> web.Response:
    return web.Response(status=status, text=code, content_type="text/plain")


def slack_failure(request: web.Request, status: int, message: str) -> web.Response:
    """An injected failure as Slack answers it: a plain-text error code."""
    code = "rate_limited" if status == 429 else phrase(status).lower().replace(" ", "_")
    return _slack_error(code, status)


def validate_message(message: Any) -> str | None:
    """The Slack error code for an unacceptable message, or ``None`` when it is fine."""
    if not isinstance(message, dict):
        return "invalid_payload"
    text = message.get("text")
    if not isinstance(text, str) or not text.strip():
        return "no_text"
    blocks = message.get("blocks")
    if blocks is not None and not (
        isinstance(blocks, list) and all(isinstance(b, dict) and "type" in b for b in blocks)
    ):
        return "invalid_blocks"
    extra = message.get("borderflow")
    if extra is not None and not (isinstance(extra, dict) and isinstance(extra.get("event"), str)):
        return "invalid_payload"
    return None


CHANNELS = frozenset({"ops", "finance", "account"})


async def post_message(request: web.Request) -> web.Response:
    """``POST /hooks/{channel}`` (ops, finance, account): a Slack-style incoming webhook."""
    channel = request.match_info["channel"]
    if channel not in CHANNELS:
        return web.Response(status=404, text="no_service", content_type="text/plain")
    state = request.app[STATE_KEY]
    key = request.headers.get("Idempotency-Key")
    try:
        message = json.loads(await request.read())
    except ValueError:
        return _slack_error("invalid_payload")
    error = validate_message(message)
    if error is not None:
        return _slack_error(error)
    if key is not None and key in state.keys:
        logger.info("finance: duplicate message with key %s acknowledged", key)
        return web.Response(text="ok", content_type="text/plain")
    if key is not None:
        state.keys.add(key)
    state.messages.append(
        {"received_at": iso_now(), "channel": channel, "idempotency_key": key, "message": message}
    )
    logger.info("finance: stored message %d", len(state.messages))
    return web.Response(text="ok", content_type="text/plain")


ALERT_FIELDS = ("version", "status", "receiver", "groupKey", "alerts")
"""What every Alertmanager webhook notification carries (prometheus.io, Alertmanager
configuration, ``<webhook_config>``)."""


async def post_alerts(request: web.Request) -> web.Response:
    """``POST /hooks/alerts``: one Alertmanager notification (a group of alerts)."""
    try:
        notification = json.loads(await request.read())
    except ValueError:
        return web.json_response({"error": "not JSON"}, status=400)
    fields = notification if isinstance(notification, dict) else {}
    missing = [field for field in ALERT_FIELDS if field not in fields]
    if missing or not isinstance(notification["alerts"], list):
        return web.json_response({"error": f"not an Alertmanager notification: {missing}"},
                                 status=400)  # fmt: skip
    state = request.app[STATE_KEY]
    state.messages.append({"received_at": iso_now(), "channel": "alerts",
                           "idempotency_key": None, "message": notification})  # fmt: skip
    logger.info("finance: %s alert group %s", notification["status"], notification["groupKey"])
    return web.json_response({"status": "ok"})


async def sim_messages(request: web.Request) -> web.Response:
    """``GET /_sim/messages``."""
    return web.json_response(request.app[STATE_KEY].messages)


def create_finance_app(settings: SimulatorSettings) -> web.Application:
    """The finance notifications aiohttp application: partner ``notify`` of the registry, its
    start-up faults ``settings.faults_for("notify")`` in force from the start."""
    state = FaultState("notify", settings.faults_for("notify"))
    app = web.Application(middlewares=[fault_middleware(state, slack_failure)])
    app[STATE_KEY] = FinanceState()
    app.router.add_post("/hooks/alerts", post_alerts)  # before /hooks/{channel}: it wins
    app.router.add_post("/hooks/{channel}", post_message)
    app.router.add_get("/_sim/messages", sim_messages)
    install_fault_routes(app, state)
    return app
