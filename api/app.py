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

from api.audit_routes import AuditRoutes
from api.auth import auth_middleware
from api.docs_page import DocsRoutes
from api.inbox_delivery import InboxDelivery
from api.inbox_routes import InboxRoutes
from api.limits import (
    RateLimiter,
    client_limits,
    rate_limit_middleware,
    timeout_middleware,
)
from api.observability import metrics, observability_middleware
from api.problems import problem, problem_middleware
from api.reconciliation_routes import ReconciliationRoutes
from api.settings import ApiSettings
from api.shipment_actions import ShipmentActions
from api.shipment_list import Cursors, ShipmentList
from api.shipments import ShipmentRoutes
from api.webhooks import WebhookRoutes, webhook_partners
from observability.gauges import run_gauges
from observability.tracing import traced_client
from workflows.reconciliation_schedule import trigger_now


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
    client = traced_client(client)  # Temporal calls are children of the request's span
    limits = rate_limit_middleware(
        RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    )
    app = web.Application(
        middlewares=[
            observability_middleware(store, settings.trusted_proxies),
            problem_middleware,
            client_limits(settings),  # per client address, before authentication
            timeout_middleware(settings.request_timeout_s),
            auth_middleware(store),
            limits,
        ],
        client_max_size=settings.max_body_bytes,
    )
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz(client, store))
    app.router.add_get("/metrics", metrics)
    ShipmentRoutes(
        client, store, namespace=settings.temporal_namespace, ui_url=settings.temporal_ui_url
    ).add_to(app)
    secret = settings.cursor_secret
    ShipmentList(
        client, namespace=settings.temporal_namespace, ui_url=settings.temporal_ui_url,
        cursors=Cursors(secret.get_secret_value().encode() if secret else None),
    ).add_to(app)  # fmt: skip
    ShipmentActions(
        client, namespace=settings.temporal_namespace, ui_url=settings.temporal_ui_url,
        update_timeout=timedelta(seconds=settings.update_timeout_s),
    ).add_to(app)  # fmt: skip
    DocsRoutes().add_to(app)
    delivery = InboxDelivery(
        client, store,
        unknown_grace=timedelta(seconds=settings.inbox_unknown_grace_s),
        retention=timedelta(days=settings.inbox_retention_days),
    )  # fmt: skip
    partner_rate = RateLimiter(settings.webhook_rate_limit_per_s, settings.webhook_rate_limit_burst)
    WebhookRoutes(
        webhook_partners(settings), delivery, store, partner_rate, settings.trusted_proxies
    ).add_to(app)
    InboxRoutes(store, delivery).add_to(app)
    ReconciliationRoutes(store, lambda: trigger_now(client)).add_to(app)
    AuditRoutes(store).add_to(app)

    async def redeliver(_app: web.Application) -> AsyncIterator[None]:
        loop = asyncio.create_task(delivery.run(every_s=settings.inbox_redelivery_s))
        yield
        loop.cancel()
        await delivery.close()  # before the store closes

    app.cleanup_ctx.append(redeliver)

    async def gauges(_app: web.Application) -> AsyncIterator[None]:
        loop = asyncio.create_task(run_gauges(client, store, every_s=settings.metrics_refresh_s))
        yield
        loop.cancel()

    app.cleanup_ctx.append(gauges)
    return app
