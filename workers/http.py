"""The worker's own HTTP port (``BORDERFLOW_WORKER_METRICS_PORT``, default 9464): probes, metrics.

- ``GET /healthz``: 200 while the process's event loop answers (liveness).
- ``GET /readyz``: 200 once every ``Worker`` of the process is polling and Temporal answers;
  503, naming the reason, before that, while draining after SIGTERM, or when Temporal does not
  answer within 3 s (readiness: rollouts wait for it).

Other routes (``/metrics``) are added with :func:`add_routes` before :func:`start_http` runs:
``workers.main`` adds :func:`metrics_route`, which serves Borderflow's metrics and bridges in
the Temporal SDK's (served by the SDK's core on a loopback port, :func:`sdk_runtime`).
Nothing here needs a token: the port is for the cluster's probes and Prometheus, not for users;
bind it to a cluster-internal address (``BORDERFLOW_WORKER_METRICS_HOST``).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
from aiohttp import web
from temporalio.api.workflowservice.v1 import GetSystemInfoRequest
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

from observability.logs import sdk_core_logging
from observability.metrics import CONTENT_TYPE, exposition
from workers.serving import HttpServing, start_serving

SDK_METRICS_TIMEOUT_S = 2.0


@dataclass
class WorkerHealth:
    """What the probes report; ``workers.main`` flips the flags as the process moves on."""

    client: Client
    serving: bool = False
    """Every worker of the process is polling."""
    draining: bool = False
    """A stop signal arrived: running activities finish, nothing new is taken."""
    task_queues: list[str] = field(default_factory=list)


HEALTH_KEY = web.AppKey("health", WorkerHealth)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    health = request.app[HEALTH_KEY]
    if health.draining:
        return web.json_response({"status": "draining"}, status=503)
    if not health.serving:
        return web.json_response({"status": "starting"}, status=503)
    try:
        await health.client.workflow_service.get_system_info(
            GetSystemInfoRequest(), timeout=timedelta(seconds=3)
        )
    except Exception as err:
        reason = str(err) or type(err).__name__
        return web.json_response({"status": "not ready", "temporal": reason}, status=503)
    return web.json_response({"status": "ready", "task_queues": health.task_queues})


def create_http_app(health: WorkerHealth) -> web.Application:
    """The worker's HTTP app with the probe routes."""
    app = web.Application()
    app[HEALTH_KEY] = health
    add_routes(app, [web.get("/healthz", healthz), web.get("/readyz", readyz)])
    return app


def add_routes(app: web.Application, routes: Iterable[web.AbstractRouteDef]) -> None:
    """Add routes (e.g. ``web.get("/metrics", handler)``) to the worker's HTTP app."""
    app.add_routes(list(routes))


async def start_http(
    app: web.Application, host: str, port: int, limits: HttpServing | None = None
) -> web.AppRunner:
    """Serve ``app`` on ``host:port`` with the connection ``limits`` of ``workers/serving.py``
    (default: from the environment); the caller ``await runner.cleanup()`` at the end."""
    return await start_serving(app, host, port, limits)


# -- metrics: Borderflow's and, bridged in, the Temporal SDK's ------------------------------


def sdk_runtime(port: int) -> Runtime:
    """A Temporal runtime whose core serves the SDK metrics (Prometheus text) on
    ``127.0.0.1:port``, a loopback-only port that :func:`metrics_route` bridges into the
    worker's ``/metrics``. Install it with ``Runtime.set_default`` before any client connects.
    The SDK's own names are kept (``temporal_…``), so Temporal's dashboards work as they are.
    The core's own log lines are forwarded to Python logging (``temporalio.core``), so they are
    masked and formatted like every other line (JSON when asked for)."""
    bind = f"127.0.0.1:{port}"
    return Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=bind), logging=sdk_core_logging()
        )
    )


def metrics_route(sdk_port: int | None = None) -> web.RouteDef:
    """``GET /metrics``: this process's ``borderflow_*`` (and Python) metrics, followed by the
    SDK's metrics read from its loopback port (left out, with a comment line saying why, when
    that port does not answer)."""

    async def metrics(_request: web.Request) -> web.Response:
        body = exposition()
        if sdk_port:
            url = f"http://127.0.0.1:{sdk_port}/metrics"
            try:
                timeout = aiohttp.ClientTimeout(total=SDK_METRICS_TIMEOUT_S)
                async with aiohttp.ClientSession(timeout=timeout) as session:
                    async with session.get(url) as reply:
                        reply.raise_for_status()
                        body += await reply.read()
            except (aiohttp.ClientError, TimeoutError) as err:
                reason = str(err).replace("\n", " ") or type(err).__name__
                body += f"# Temporal SDK metrics unavailable: {reason}\n".encode()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE})

    return web.get("/metrics", metrics)
