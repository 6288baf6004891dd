"""The API application: ops endpoints, partner webhooks, health."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import text
from sqlalchemy.engine import Engine
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client

from api.auth import auth_middleware
from api.inbox_delivery import InboxDelivery
from api.inbox_routes import InboxRoutes
from api.problems import problem, problem_middleware
from api.settings import ApiSettings
from api.shipments import ShipmentRoutes
from api.webhooks import WebhookRoutes, webhook_partners


async def healthz(_request: web.Request) -> web.Response:
    """The process is up."""
    return web.json_response({"status": "ok"})


def readyz(client: Client, store: Engine) -> Any:
    async def check(_request: web.Request) -> web.Response:
        """Ready when Temporal and the store both answer (503 naming what does not)."""
        failures = {}
        try:
            await client.workflow_service.get_system_info(
                GetSystemInfoRequest(), timeout=timedelta(seconds=3)
            )
        except Exception as err:
            failures["temporal"] = str(err) or type(err).__name__
        try:
            await asyncio.to_thread(_ping, store)
        except Exception as err:
            failures["store"] = str(err) or type(err).__name__
        if failures:
            return problem(503, "Not ready", "; ".join(f"{k}: {v}" for k, v in failures.items()))
        return web.json_response({"status": "ready"})

    return check


def _ping(store: Engine) -> None:
    with store.connect() as connection:
        connection.execute(text("SELECT 1"))


def create_app(settings: ApiSettings, client: Client, store: Engine) -> web.Application:
    app = web.Application(
        middlewares=[problem_middleware, auth_middleware(store)],
        client_max_size=settings.max_body_bytes,
    )
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz(client, store))
    ShipmentRoutes(
        client, store, namespace=settings.temporal_namespace, ui_url=settings.temporal_ui_url
    ).add_to(app)
    delivery = InboxDelivery(
        client, store,
        unknown_grace=timedelta(seconds=settings.inbox_unknown_grace_s),
        retention=timedelta(days=settings.inbox_retention_days),
    )  # fmt: skip
    WebhookRoutes(webhook_partners(settings), delivery, store).add_to(app)
    InboxRoutes(store, delivery).add_to(app)

    async def redeliver(_app: web.Application) -> AsyncIterator[None]:
        loop = asyncio.create_task(delivery.run(every_s=settings.inbox_redelivery_s))
        yield
        loop.cancel()

    app.cleanup_ctx.append(redeliver)
    return app
