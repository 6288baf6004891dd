"""The API application: ops endpoints, partner webhooks, health."""

from aiohttp import web
from sqlalchemy.engine import Engine
from temporalio.client import Client

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
    WebhookRoutes(webhook_partners(settings), client, store).add_to(app)
    return app
