"""``/v1/reconciliation`` over real HTTP with the real auth and problem middlewares and store.

The trigger is injected: here it records calls or raises what the real one raises; the real
one (a Temporal Schedule trigger) runs in ``tests/e2e/test_platform_reconciliation.py``.
"""

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from tests_support import migrated_engine

from activities.reconcile_models import ReconciliationReport
from api.auth import auth_middleware
from api.problems import problem_middleware
from api.reconciliation_routes import ReconciliationRoutes
from store.reconciliation import save_report
from store.tokens import Role, create_token
from workflows.reconciliation_schedule import ScheduleMissing

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
Trigger = Callable[[], Awaitable[None]]


class Api:
    def __init__(self, client: TestClient, tokens: dict[Role, str], triggered: list[str]) -> None:
        self.client = client
        self.tokens = tokens
        self.triggered = triggered

    def auth(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    store = migrated_engine(f"sqlite:///{tmp_path / 'store.db'}")
    for minutes in range(3):
        run = ReconciliationReport(
            run_id=f"run-{minutes}", started_at=T0 + timedelta(minutes=minutes)
        )
        save_report(store, run)
    tokens = {role: create_token(store, role, "test")[1] for role in Role}
    triggered: list[str] = []

    async def trigger() -> None:
        if triggered and triggered[-1] == "missing":
            raise ScheduleMissing("borderflow-reconciliation")
        triggered.append("run")

    app = web.Application(middlewares=[problem_middleware, auth_middleware(store)])
    ReconciliationRoutes(store, trigger).add_to(app)
    async with TestClient(TestServer(app)) as client:
        yield Api(client, tokens, triggered)
    store.dispose()


async def test_support_and_admin_read_the_latest_reports_newest_first(api: Api) -> None:
    for role in (Role.SUPPORT, Role.ADMIN):
        reply = await api.client.get("/v1/reconciliation?limit=2", headers=api.auth(role))
        assert reply.status == 200
        assert [r["run_id"] for r in (await reply.json())["items"]] == ["run-2", "run-1"]
    for role in (Role.OPS, Role.FINANCE):
        reply = await api.client.get("/v1/reconciliation", headers=api.auth(role))
        assert reply.status == 403
        assert reply.content_type == "application/problem+json"
    assert (await api.client.get("/v1/reconciliation")).status == 401


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1"])
async def test_a_bad_limit_is_a_problem(api: Api, limit: str) -> None:
    reply = await api.client.get(f"/v1/reconciliation?limit={limit}", headers=api.auth(Role.ADMIN))
    assert reply.status == 400
    assert reply.content_type == "application/problem+json"
    assert "limit" in (await reply.json())["detail"]


async def test_a_run_is_triggered_by_support_or_admin_only(api: Api) -> None:
    reply = await api.client.post("/v1/reconciliation/run", headers=api.auth(Role.SUPPORT))
    assert reply.status == 202
    assert (await reply.json())["triggered"] is True
    reply = await api.client.post("/v1/reconciliation/run", headers=api.auth(Role.OPS))
    assert reply.status == 403
    assert api.triggered == ["run"]


async def test_without_a_schedule_a_run_is_a_conflict_naming_the_fix(api: Api) -> None:
    api.triggered.append("missing")
    reply = await api.client.post("/v1/reconciliation/run", headers=api.auth(Role.ADMIN))
    assert reply.status == 409
    assert "start a worker" in (await reply.json())["detail"]
