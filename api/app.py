"""The API application: ops endpoints, partner webhooks, health."""

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

from aiohttp import web
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api.inbox_delivery import InboxDelivery
from api.problems import problem_middleware
from api.settings import ApiSettings
from api.shipments import ShipmentRoutes
from api.webhooks import WebhookRoutes, webhook_partners


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def create_app(settings: ApiSettings, client: Client, store: Engine) -> web.Application:
    app = web.Application(middlewares=[problem_middleware], client_max_size=settings.max_body_bytes)
    app.router.add_get("/healthz", healthz)
    ShipmentRoutes(
        client, namespace=settings.temporal_namespace, ui_url=settings.temporal_ui_url
    ).add_to(app)
    delivery = InboxDelivery(
        client, store,
        unknown_grace=timedelta(seconds=settings.inbox_unknown_grace_s),
        retention=timedelta(days=settings.inbox_retention_days),
    )  # fmt: skip
    WebhookRoutes(webhook_partners(settings), delivery, store).add_to(app)

    async def redeliver(_app: web.Application) -> AsyncIterator[None]:
        loop = asyncio.create_task(delivery.run(every_s=settings.inbox_redelivery_s))
        yield
        loop.cancel()

    app.cleanup_ctx.append(redeliver)
    return app
