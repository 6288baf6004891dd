"""Finance notifications simulator: a Slack-compatible incoming webhook.

``POST /hooks/finance`` takes ``{"text", "blocks"?, "borderflow"?}`` and answers like Slack:
``200 ok`` (text/plain), or ``400`` with ``invalid_payload`` / ``no_text`` /
``invalid_blocks``. A repeated ``Idempotency-Key`` is acknowledged (200 ok) and not stored
twice, whatever its body. No authentication (Slack webhook URLs are the secret).
Test helpers: ``GET /_sim/messages`` lists what was stored, oldest first, as
``{"received_at", "idempotency_key", "message"}`` where ``message`` is the JSON received.
"""

import json
import logging
from typing import Any

from aiohttp import web

from simulators.clock import iso_now

logger = logging.getLogger(__name__)


class FinanceState:
    """Stored messages and the idempotency keys already seen."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.keys: set[str] = set()


STATE_KEY = web.AppKey("finance_state", FinanceState)


def _slack_error(code: str) -> web.Response:
    return web.Response(status=400, text=code, content_type="text/plain")


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


async def post_message(request: web.Request) -> web.Response:
    """``POST /hooks/finance``."""
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
    state.messages.append({"received_at": iso_now(), "idempotency_key": key, "message": message})
    logger.info("finance: stored message %d", len(state.messages))
    return web.Response(text="ok", content_type="text/plain")


async def sim_messages(request: web.Request) -> web.Response:
    """``GET /_sim/messages``."""
    return web.json_response(request.app[STATE_KEY].messages)


def create_finance_app() -> web.Application:
    """The finance notifications aiohttp application."""
    app = web.Application()
    app[STATE_KEY] = FinanceState()
    app.router.add_post("/hooks/finance", post_message)
    app.router.add_get("/_sim/messages", sim_messages)
    return app
