"""The periodic gauges: shipments per ``ShipmentStatus``, the inbox's dead and late letters.

Counts come from Temporal visibility (one ``count_workflows`` per stage, which every
visibility store supports) and from our store. A failed round leaves the previous values and
is retried at the next one; the loop never ends on an error.
"""

import asyncio
import logging

from sqlalchemy.engine import Engine
from temporalio.client import Client

from canonical.shipment import Stage
from observability.metrics import set_dead_letters, set_late_letters, set_shipments
from store.inbox import InboxState, count_messages
from workflows.models import SHIPMENT_STATUS

log = logging.getLogger("borderflow.metrics")


def count_dead_letters(store: Engine) -> int:
    return count_messages(store, InboxState.DEAD)


async def count_shipments(client: Client) -> dict[str, int]:
    """Shipments per stage: running ones for a stage in progress, all that visibility still
    holds (retention) for a final stage (invoiced, rejected, cancelled)."""
    counts = {}
    for stage in Stage:
        query = f'{SHIPMENT_STATUS.name} = "{stage.value}"'
        if not stage.is_final:
            query += ' AND ExecutionStatus = "Running"'
        counts[stage.value] = (await client.count_workflows(query)).count
    return counts


async def refresh_gauges(client: Client, store: Engine) -> None:
    """One round: every gauge set from fresh counts."""
    set_shipments(await count_shipments(client))
    set_dead_letters(await asyncio.to_thread(count_dead_letters, store))
    set_late_letters(await asyncio.to_thread(count_messages, store, InboxState.LATE))


async def run_gauges(client: Client, store: Engine, *, every_s: float = 15.0) -> None:
    """Refresh the gauges every ``every_s`` seconds, until cancelled."""
    while True:
        try:
            await refresh_gauges(client, store)
        except Exception as err:  # the loop must outlive Temporal or store outages
            log.warning("metrics gauges not refreshed: %s", err or type(err).__name__)
        await asyncio.sleep(every_s)
