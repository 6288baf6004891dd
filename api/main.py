"""The API process: serve until SIGINT/SIGTERM."""

import asyncio

from api.app import create_app
from api.settings import ApiSettings
from observability.logs import setup_logging
from observability.tracing import setup_tracing
from store.db import make_engine
from store.migrate import require_current_schema
from workers.lifetime import exit_process, serve_until_terminated
from workflows.client import connect


async def serve(settings: ApiSettings) -> None:
    setup_tracing("borderflow-api", settings.otel_exporter, settings.otel_endpoint)
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    app = create_app(settings, client, make_engine(settings.database_url))
    await serve_until_terminated(app, settings.api_host, settings.api_port, "api", settings)


def main() -> None:
    settings = ApiSettings()
    setup_logging(settings.log_format, settings.log_level)
    require_current_schema(settings.database_url, "api")  # before connecting to anything
    asyncio.run(serve(settings))
    exit_process(0)
