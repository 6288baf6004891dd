"""What every part of a running shipment shares: its state, and how it records and waits.

``ShipmentWorkflow`` makes one ``ShipmentContext`` and hands it to the collaborators it
composes (booking, customs clearance, invoicing, escalation, compensation). The context holds
no state of its own beyond what ``ShipmentState`` carries; it only gives every collaborator the
same way to call a partner on the shipment's region, note a line on the timeline, move a
reference, reach a stage, and wait at a safe point (where continue-as-new and cancellation
are honoured).
"""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from canonical.shipment import Stage
    from workflows.attributes import SearchAttributes
    from workflows.models import SHIPMENT_STATUS, ShipmentInput
    from workflows.partners import Activity, PartnerCalls, call
    from workflows.progress import EventLog
    from workflows.state import ShipmentState, StageReached, TimelineEntry, TimelineKind
    from workflows.status import details_line

ArgT = TypeVar("ArgT")
ResultT = TypeVar("ResultT")


class ContinueAsNewDue(Exception):
    """Raised at a safe point of a long wait when the server suggests continue-as-new."""


@dataclass
class ShipmentContext:
    shipment_id: str
    input: ShipmentInput
    state: ShipmentState
    log: EventLog
    attributes: SearchAttributes

    async def call(
        self, partner: PartnerCalls, activity: Activity[ArgT, ResultT], arg: ArgT, summary: str
    ) -> ResultT:
        """One partner activity on this shipment's region's queue."""
        return await call(partner, activity, arg, summary, self.input.region)

    def note(self, kind: TimelineKind, title: str, **details: str | None) -> None:
        """A line on the timeline (details that are empty are left out)."""
        kept = {key: value for key, value in details.items() if value}
        self.state.note(TimelineEntry(at=workflow.now(), kind=kind, title=title, details=kept))
        self._show()

    def refer(self, **references: object) -> None:
        self.state.references = self.state.references.model_copy(update=references)

    def reach(self, stage: Stage) -> None:
        self.state.stage = stage
        self.state.stages.append(StageReached(stage=stage, at=workflow.now()))
        self.attributes.set(SHIPMENT_STATUS, stage.value)
        self._show()

    async def wait(self, ready: Callable[[], bool], what: str) -> None:
        """Wait for ``ready``; at a safe point, leave for continue-as-new when it is due, or
        for compensation when ops cancelled."""
        await workflow.wait_condition(
            lambda: (
                ready()
                or workflow.info().is_continue_as_new_suggested()
                or self.state.cancel is not None
            )
        )
        self.stop_if_cancelled()
        if not ready():
            raise ContinueAsNewDue(what)

    def stop_if_cancelled(self) -> None:
        """Raise ``CancelledError`` once ops cancelled.

        ``cancel`` also cancels the lifecycle task, but the SDK may swallow that request (an
        activity that completes anyway); every wait and stage boundary checks again, so a
        cancellation is never lost."""
        if self.state.cancel is not None:
            raise asyncio.CancelledError()

    def _show(self) -> None:
        workflow.set_current_details(details_line(self.input.order_ref, self.state, self.log))
