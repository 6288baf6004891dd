"""``/v1/reconciliation``: the latest reconciliation reports, and a run on demand.

- ``GET /v1/reconciliation?limit=N`` (1–100, default 10): the newest reports first, each with
  its counts and its findings (stale shipments, events found by polling, drifts with reasons
  and whether they were repaired, problems).
- ``POST /v1/reconciliation/run``: trigger the reconciliation schedule now → ``202``; ``409``
  when no schedule exists yet (no worker has started), ``503`` when Temporal does not answer.
"""

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.engine import Engine
from temporalio.service import RPCError

from api.problems import problem, query_problem
from api.responses import ReconciliationQuery
from store.reconciliation import latest_reports
from workflows.reconciliation_schedule import SCHEDULE_ID, ScheduleMissing


class ReconciliationRoutes:
    def __init__(self, store: Engine, trigger: Callable[[], Awaitable[None]]) -> None:
        self._store = store
        self._trigger = trigger

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/v1/reconciliation", self.reports)
        app.router.add_post("/v1/reconciliation/run", self.run)

    async def reports(self, request: web.Request) -> web.Response:
        try:
            query = ReconciliationQuery.model_validate(dict(request.query))
        except ValidationError as err:
            return query_problem(err)
        reports = await asyncio.to_thread(latest_reports, self._store, query.limit)
        return web.json_response({"items": [r.model_dump(mode="json") for r in reports]})

    async def run(self, _request: web.Request) -> web.Response:
        try:
            await self._trigger()
        except ScheduleMissing:
            return problem(
                409,
                "No reconciliation schedule",
                f"schedule {SCHEDULE_ID} does not exist yet: start a worker, which creates it",
            )
        except RPCError as err:
            return problem(503, "Temporal unavailable", err.message)
        return web.json_response({"schedule_id": SCHEDULE_ID, "triggered": True}, status=202)
