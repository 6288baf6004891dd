"""``GET /v1/audit``: the audit trail, for support and admins.

``shipment`` (optional) keeps one shipment's entries; ``after`` (the last id seen) and
``limit`` (1 to 200, default 50) page through it in the order it was written.
"""

import asyncio

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from api.problems import query_problem
from api.responses import AuditQuery
from store.audit import entry_view, list_entries


class AuditRoutes:
    def __init__(self, store: Engine) -> None:
        self._store = store

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/v1/audit", self.list)

    async def list(self, request: web.Request) -> web.Response:
        try:
            query = AuditQuery.model_validate(dict(request.query))
        except ValidationError as err:
            return query_problem(err)
        entries = await asyncio.to_thread(
            list_entries, self._store, shipment_id=query.shipment, after_id=query.after,
            limit=query.limit,
        )  # fmt: skip
        next_after = entries[-1].id if len(entries) == query.limit else None
        return web.json_response(
            {"items": [entry_view(entry) for entry in entries], "next_after": next_after}
        )
