"""``/v1/inbox``: what partners sent, what became of it, and replay (admin only)."""

import asyncio
from datetime import datetime

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from api.inbox_delivery import InboxDelivery, as_utc
from api.problems import problem, query_problem
from api.responses import InboxListQuery
from store.inbox import InboxMessage, list_messages

MAX_ID = 2**31 - 1
"""Inbox ids are INTEGER: larger ids and cursors name nothing (and PostgreSQL refuses them)."""


def _moment(moment: datetime | None) -> str | None:
    return None if moment is None else as_utc(moment).isoformat()


def message_view(message: InboxMessage) -> dict[str, object]:
    """The message as ``InboxItem`` (``api/responses.py``) documents it."""
    return {
        "id": message.id, "partner": message.partner, "dedupe_key": message.dedupe_key,
        "state": message.state, "shipment_id": message.shipment_id, "reason": message.reason,
        "attempts": message.attempts, "last_outcome": message.last_outcome,
        "delivered_at": _moment(message.delivered_at), "deliveries": message.deliveries,
        "replays": message.replays, "replayed_at": _moment(message.replayed_at),
        "received_at": _moment(message.received_at), "updated_at": _moment(message.updated_at),
        "size": len(message.body),
    }  # fmt: skip


class InboxRoutes:
    def __init__(self, store: Engine, delivery: InboxDelivery) -> None:
        self._store = store
        self._delivery = delivery

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/v1/inbox", self.list)
        app.router.add_post("/v1/inbox/{message_id}/replay", self.replay)

    async def list(self, request: web.Request) -> web.Response:
        """Messages in id order; ``state``, ``after`` (cursor) and ``limit`` (≤ 200) filter.

        Delivered outcomes are written just after the webhook's answer (``InboxDelivery``):
        this process's are recorded before the list is read; another replica's may show as
        ``received`` for the few milliseconds until its writer runs."""
        try:
            query = InboxListQuery.model_validate(dict(request.query))
        except ValidationError as err:
            return query_problem(err)
        await self._delivery.flush()  # this process's delivered outcomes, recorded first
        messages = await asyncio.to_thread(
            list_messages, self._store, state=query.state, after_id=query.after, limit=query.limit
        )
        items = [message_view(m) for m in messages]
        next_after = messages[-1].id if len(messages) == query.limit else None
        return web.json_response({"items": items, "next_after": next_after})

    async def replay(self, request: web.Request) -> web.Response:
        """One delivery attempt now; the message as it left it, and the attempt's outcome."""
        raw = request.match_info["message_id"]
        if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_ID:
            return problem(404, "Unknown inbox message", f"no inbox message {raw!r}")
        replayed = await self._delivery.replay(int(raw))
        if replayed is None:
            return problem(404, "Unknown inbox message", f"no inbox message {raw}")
        message, outcome = replayed
        return web.json_response({**message_view(message), "outcome": outcome})
