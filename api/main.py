"""The API process: serve until SIGINT/SIGTERM.

Logging is set up first (``observability.logs.setup_logging``: with
``BORDERFLOW_LOG_FORMAT=json`` every line the process writes is JSON), and the Temporal
runtime forwards its core's log lines to Python logging, so they are formatted the same way.
aiohttp's own access log is off (``workers.serving`` serves with ``access_log=None``); the
API's is ``borderflow.access`` (``api/observability.py``).
"""

import asyncio

from temporalio.runtime import Runtime, TelemetryConfig

from api.app import create_app
from api.settings import ApiSettings
from observability.logs import LogSettings, sdk_core_logging
from observability.tracing import setup_tracing
from store.db import make_engine
from store.migrate import require_current_schema
from workers.lifetime import exit_process, serve_until_terminated
from workflows.client import connect


async def serve(settings: ApiSettings) -> None:
    setup_tracing("borderflow-api", settings.otel_exporter, settings.otel_endpoint)
    Runtime.set_default(Runtime(telemetry=TelemetryConfig(logging=sdk_core_logging())))
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    app = create_app(settings, client, make_engine(settings.database_url))
    await serve_until_terminated(app, settings.api_host, settings.api_port, "api", settings)


def main() -> None:
    LogSettings().apply()  # first: an error in the settings is logged as asked for
    settings = ApiSettings()
    require_current_schema(settings.database_url, "api")  # before connecting to anything
    asyncio.run(serve(settings))
    exit_process(0)
