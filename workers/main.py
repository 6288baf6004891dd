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
from activities.carrier import EasyPostClient
from activities.finance import FinanceNotifier
from activities.odoo import OdooClient
from activities.shipment import ShipmentActivities
from activities.tms import TmsClient
from store.db import make_engine
from workers.settings import WorkerSettings
from workflows.client import connect
from workflows.models import TASK_QUEUE
from workflows.shipment import ShipmentWorkflow

log = logging.getLogger("borderflow.worker")


def build_worker(client: Client, settings: WorkerSettings, stack: AsyncExitStack) -> Worker:
    """A worker with its partner clients; ``stack`` closes the clients when it unwinds."""
    odoo = OdooClient(
        settings.odoo_url, settings.odoo_db, settings.odoo_login, settings.odoo_password
    )
    tms = TmsClient(settings.tms_url, settings.tms_api_key)
    carrier = EasyPostClient(settings.carrier_url, settings.carrier_api_key)
    broker = BrokerClient(settings.broker_url, settings.broker_api_key)
    finance = FinanceNotifier(settings.finance_url)
    for partner in (odoo, tms, carrier, broker, finance):
        stack.push_async_callback(partner.aclose)
    activities = ShipmentActivities(
        odoo=odoo,
        tms=tms,
        carrier=carrier,
        broker=broker,
        finance=finance,
        store=make_engine(settings.database_url),
    )
    return Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[ShipmentWorkflow],
        activities=[
            activities.accept_order,
            activities.create_transport_order,
            activities.book_carrier,
            activities.record_tracking,
            activities.file_customs,
            activities.release_invoice,
            activities.notify_finance,
        ],
        graceful_shutdown_timeout=timedelta(seconds=settings.graceful_shutdown_s),
    )


async def serve(settings: WorkerSettings) -> None:
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with AsyncExitStack() as stack:
        worker = build_worker(client, settings, stack)
        async with worker:
            print(f"worker ready on task queue {TASK_QUEUE}", flush=True)
            await stop.wait()
            log.info("stopping: letting running activities finish")


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(serve(WorkerSettings()))
