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
from temporalio.worker import Worker

from activities.broker import BrokerClient
from activities.carriers.registry import CarrierSettings, build_carriers
from activities.notify import Notifier
from activities.odoo import OdooClient
from activities.shipment import ShipmentActivities
from activities.tms import TmsClient
from store.db import make_engine
from workers.settings import WorkerSettings
from workflows.client import connect
from workflows.models import TASK_QUEUE
from workflows.partners import LOCAL, PARTNERS
from workflows.shipment import ShipmentWorkflow

log = logging.getLogger("borderflow.worker")


def build_workers(client: Client, settings: WorkerSettings, stack: AsyncExitStack) -> list[Worker]:
    """The workers of one process: the workflow queue and one queue per partner.

    Each partner queue is capped by its ``<partner>_calls_per_s`` setting (enforced by the
    server across every worker); ``stack`` closes the partner clients when it unwinds.
    """
    odoo = OdooClient(
        settings.odoo_url, settings.odoo_db, settings.odoo_login, settings.odoo_password,
        api_key=settings.odoo_api_key, transport=settings.odoo_transport,
    )  # fmt: skip
    tms = TmsClient(settings.tms_url, settings.tms_api_key)
    carriers = build_carriers(
        CarrierSettings(
            easypost_url=settings.carrier_url, easypost_api_key=settings.carrier_api_key,
            dhl_url=settings.dhl_url, dhl_api_key=settings.dhl_api_key,
        )
    )  # fmt: skip
    broker = BrokerClient(settings.broker_url, settings.broker_api_key)
    notifier = Notifier(settings.notify_url)
    for close in (odoo.aclose, tms.aclose, broker.aclose, notifier.aclose):
        stack.push_async_callback(close)
    for carrier in carriers.values():
        stack.push_async_callback(carrier.aclose)
    activities = ShipmentActivities(
        odoo=odoo, tms=tms, carriers=carriers, broker=broker, notifier=notifier,
        store=make_engine(settings.database_url),
    )  # fmt: skip
    groups = activities.by_partner()
    common = {
        "graceful_shutdown_timeout": timedelta(seconds=settings.graceful_shutdown_s),
        "max_concurrent_activities": settings.max_concurrent_activities,
    }
    workers = [
        Worker(client, task_queue=TASK_QUEUE, workflows=[ShipmentWorkflow],
               activities=groups[LOCAL.partner], **common)  # type: ignore[arg-type]
    ]  # fmt: skip
    for calls in PARTNERS:
        assert calls.task_queue is not None
        workers.append(
            Worker(
                client, task_queue=calls.task_queue, activities=groups[calls.partner],
                max_task_queue_activities_per_second=settings.calls_per_second(calls.partner),
                **common,  # type: ignore[arg-type]
            )
        )  # fmt: skip
    return workers


async def serve(settings: WorkerSettings) -> None:
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        workers = build_workers(client, settings, stack)
        async with AsyncExitStack() as running:
            for worker in workers:
                await running.enter_async_context(worker)
            queues = ", ".join(worker.task_queue for worker in workers)
            print(f"worker ready on task queues {queues}", flush=True)
            await stop.wait()
            log.info("stopping: letting running activities finish")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(serve(WorkerSettings()))
