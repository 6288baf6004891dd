"""The worker: runs ShipmentWorkflow and its activities until SIGINT/SIGTERM.

On a stop signal it stops polling, lets running activities finish for up to
``graceful_shutdown_s`` seconds, then closes its partner connections.
"""

import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from datetime import timedelta

from temporalio.client import Client
from temporalio.runtime import Runtime
from temporalio.worker import Interceptor, Worker

from activities.broker import BrokerClient
from activities.carriers.port import CarrierPort
from activities.carriers.registry import build_carriers
from activities.lifecycle import LifecycleActivities
from activities.notify import Notifier
from activities.odoo import OdooClient
from activities.reconcile import ReconcileActivities
from activities.shipment import ShipmentActivities
from activities.tms import TmsClient
from observability.logs import LogSettings, setup_logging
from observability.tracing import setup_tracing, traced_client
from store.db import make_engine
from store.migrate import require_current_schema
from workers.audit import AuditInterceptor
from workers.http import (
    WorkerHealth,
    add_routes,
    create_http_app,
    metrics_route,
    sdk_runtime,
    start_http,
)
from workers.lifetime import exit_process
from workers.liveness import LivenessInterceptor
from workers.regions import regional_task_queue
from workers.sandbox import workflow_runner
from workers.settings import WorkerSettings
from workflows.client import connect
from workflows.models import TASK_QUEUE
from workflows.partners import CARRIER_ACTIVITIES, LOCAL, PARTNERS, for_carrier
from workflows.reconciliation import ReconciliationWorkflow
from workflows.reconciliation_schedule import ensure_schedule
from workflows.shipment import ShipmentWorkflow

log = logging.getLogger("borderflow.worker")


def build_workers(
    client: Client, settings: WorkerSettings, stack: AsyncExitStack,
    carriers: dict[str, CarrierPort] | None = None,
) -> list[Worker]:  # fmt: skip
    """The workers of one process: the workflow queue, one queue per partner of the registry
    that the platform calls, and one queue per configured carrier.

    Each partner queue is capped by ``calls_per_second`` (enforced by the server across every
    worker); every carrier's queue serves the same carrier activities (they dispatch by the
    carrier named in their input) with the carrier's own limit. ``stack`` closes the partner
    clients when it unwinds (``carriers``: built from ``settings`` when not given). Every
    worker traces (Temporal's ``TracingInterceptor``, added to ``client`` if missing), writes
    each activity attempt to the audit trail under its partner's name (``AuditInterceptor``),
    and heartbeats for every running attempt that has a heartbeat timeout
    (``LivenessInterceptor``).
    """
    client = traced_client(client)
    odoo = OdooClient(
        settings.odoo_url, settings.odoo_db, settings.odoo_login, settings.odoo_password,
        api_key=settings.odoo_api_key, transport=settings.odoo_transport,
    )  # fmt: skip
    tms = TmsClient(settings.tms_url, settings.tms_api_key)
    carriers = build_carriers(settings) if carriers is None else carriers
    broker = BrokerClient(settings.broker_url, settings.broker_api_key)
    notifier = Notifier(settings.notify_url)
    for close in (odoo.aclose, tms.aclose, broker.aclose, notifier.aclose):
        stack.push_async_callback(close)
    for carrier in carriers.values():
        stack.push_async_callback(carrier.aclose)
    store = make_engine(settings.database_url)
    activities = ShipmentActivities(
        odoo=odoo, tms=tms, carriers=carriers, broker=broker, notifier=notifier, store=store,
    )  # fmt: skip
    lifecycle = LifecycleActivities(
        odoo=odoo, tms=tms, carriers=carriers, broker=broker, notifier=notifier
    )
    groups = activities.by_partner()
    for partner, extra in lifecycle.by_partner().items():
        groups[partner] = [*groups.get(partner, []), *extra]
    groups[LOCAL.partner] += [a for p, g in lifecycle.by_partner().items() if p != LOCAL.partner
                              for a in g]  # fmt: skip
    reconcile = ReconcileActivities(
        client=client, odoo=odoo, carriers=carriers, broker=broker, store=store
    )
    for partner, extra in reconcile.by_partner().items():
        groups[partner] = [*groups.get(partner, []), *extra]
    common = {
        "graceful_shutdown_timeout": timedelta(seconds=settings.graceful_shutdown_s),
        **settings.worker_options(),
    }

    def interceptors(partner: str) -> list[Interceptor]:
        return [AuditInterceptor(store, partner), LivenessInterceptor()]

    workers = [
        Worker(client, task_queue=TASK_QUEUE,
               workflows=[ShipmentWorkflow, ReconciliationWorkflow],
               workflow_runner=workflow_runner(),
               activities=groups[LOCAL.partner], interceptors=interceptors(LOCAL.partner),
               **common)  # type: ignore[arg-type]
    ]  # fmt: skip
    queues = [*PARTNERS, *(for_carrier(name) for name in carriers)]
    for calls in queues:
        assert calls.task_queue is not None
        activities_of = groups[CARRIER_ACTIVITIES if calls.partner in carriers else calls.partner]
        workers.append(
            Worker(
                client, task_queue=regional_task_queue(calls.task_queue, settings.region),
                activities=activities_of, interceptors=interceptors(calls.partner),
                max_task_queue_activities_per_second=settings.calls_per_second(calls.partner),
                **common,  # type: ignore[arg-type]
            )
        )  # fmt: skip
    return workers


async def serve(settings: WorkerSettings) -> None:
    setup_tracing("borderflow-worker", settings.otel_exporter, settings.otel_endpoint)
    if settings.worker_sdk_metrics_port:
        Runtime.set_default(sdk_runtime(settings.worker_sdk_metrics_port))
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    health = WorkerHealth(client)
    async with AsyncExitStack() as stack:
        carriers = build_carriers(settings)
        await schedule_reconciliation(client, settings, list(carriers))
        if settings.worker_metrics_port:
            app = create_http_app(health)
            add_routes(app, [metrics_route(settings.worker_sdk_metrics_port)])
            runner = await start_http(
                app, settings.worker_metrics_host, settings.worker_metrics_port, settings
            )
            stack.push_async_callback(runner.cleanup)
        workers = build_workers(client, settings, stack, carriers)
        async with AsyncExitStack() as running:
            for worker in workers:
                await running.enter_async_context(worker)
            health.task_queues = [worker.task_queue for worker in workers]
            health.serving = True
            queues = ", ".join(health.task_queues)
            print(f"worker ready on task queues {queues}", flush=True)
            await stop.wait()
            health.draining = True
            log.info("stopping: letting running activities finish")


async def schedule_reconciliation(
    client: Client, settings: WorkerSettings, carriers: list[str]
) -> None:
    """Create (or update) the reconciliation schedule (polling only ``carriers``, those this
    worker serves); a failure is logged, never fatal."""
    every = timedelta(minutes=settings.reconcile_every_min)
    try:
        outcome = await ensure_schedule(client, every, settings.reconcile_input(carriers))
    except Exception:
        log.exception("reconciliation schedule could not be created; shipments still run")
        return
    print(f"reconciliation schedule {outcome}: every {settings.reconcile_every_min:g} min",
          flush=True)  # fmt: skip


def main() -> None:
    LogSettings().apply()  # first: an error in the settings is logged as asked for
    settings = WorkerSettings()
    setup_logging(settings.log_format, settings.log_level)
    require_current_schema(settings.database_url, "worker")  # before connecting to anything
    asyncio.run(serve(settings))
    exit_process(0)
