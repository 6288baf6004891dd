"""The shipment follows the vendor's own current status, whatever its times say (issue 15 #5).

Each webhook is one ``EventBatch`` of the events new to the shipment, with the vendor's
current-status event named by ``current_event_id`` (the API's way, ``api/inbox_delivery.py``).
"""

from datetime import UTC, datetime
from typing import Any

from stand_ins import StandInActivities, event, start, until
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from canonical.events import ShipmentEvent
from canonical.milestones import Milestone
from canonical.shipment import Stage
from workflows.models import EventBatch
from workflows.shipment import ShipmentWorkflow

M = Milestone


def at(hour: int) -> datetime:
    return datetime(2026, 11, 20, hour, tzinfo=UTC)


async def webhook(
    handle: WorkflowHandle[Any, Any], *new: ShipmentEvent, current: ShipmentEvent
) -> None:
    batch = EventBatch(events=list(new), partner="easypost", current_event_id=current.event_id)
    await handle.signal(ShipmentWorkflow.events, batch)


async def test_a_current_exception_stamped_before_the_last_scan_leaves_the_shipment_in_exception(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S15005")
        await until(handle, lambda s: s.stage is Stage.CUSTOMS)
        picked, moving = event(M.PICKED_UP, "d1", at=at(8)), event(M.IN_TRANSIT, "d2", at=at(12))
        await webhook(handle, picked, moving, current=moving)
        await until(handle, lambda s: s.transport_status is M.IN_TRANSIT)
        # EasyPost's status is now "failure": a new detail, stamped before the last scan.
        stuck = event(M.EXCEPTION, "d3", at=at(10))
        await webhook(handle, stuck, current=stuck)
        status = await until(handle, lambda s: len(s.events) == 3)
        assert status.transport_status is M.EXCEPTION
        # Moving again: a new in-transit detail, stamped before the exception, is current.
        again = event(M.IN_TRANSIT, "d4", at=at(9))
        await webhook(handle, again, current=again)
        status = await until(handle, lambda s: len(s.events) == 4)
        assert status.transport_status is M.IN_TRANSIT
        # The vendor falls back to the exception it already sent: only its id comes again.
        await webhook(handle, event(M.UNKNOWN, "d5", at=at(13)), current=stuck)
        status = await until(handle, lambda s: len(s.events) == 5)
        assert status.transport_status is M.EXCEPTION
    await handle.terminate()
