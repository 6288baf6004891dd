"""A stand-in ``ShipmentWorkflow`` for the API tests: the real contract, none of the partners.

It carries the name, the ``status`` query, the ``events`` signal (and the older ``event``),
the ``accept`` update of ``POST /v1/shipments`` and the ops updates of the real
workflow (``workflows/ops.py``), with validators that refuse the way the contract says
(``NotAllowedNow`` → 409, ``InvalidUpdate`` → 422), and it upserts the search attributes the
API lists by (all but ``SlaBreached`` and ``Lane``, which tests set when they start one).
The stage moves only through ops updates and the test-only ``set_stage`` signal.
What the real workflow does with each update is tested with the workflow itself.
"""

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from canonical.events import ShipmentEvent
    from canonical.shipment import References, Stage
    from workflows.models import (
        CARRIER,
        ORDER_REF,
        SHIPMENT_STATUS,
        AcceptedShipment,
        EventBatch,
        ShipmentInput,
        ShipmentStatus,
        StageReached,
        TimelineEntry,
        TimelineKind,
    )
    from workflows.ops import (
        INVALID_UPDATE,
        NOT_ALLOWED_NOW,
        Actor,
        AmendInput,
        CancelInput,
        ManualMilestoneInput,
        RebookInput,
        ResolutionKind,
        ResolveInput,
    )

KNOWN_CARRIERS = ("easypost", "dhl", "broken")
REFUSING_CARRIER = "dhl"
"""Rebooking onto this carrier fails in the update handler (not the validator)."""
BROKEN_CARRIER = "broken"
"""Rebooking onto this carrier crashes the workflow task (a bug, not a refusal)."""
BEFORE_BOOKING = (Stage.ACCEPT, Stage.BOOK)
CLOSED = (Stage.CANCELLED, Stage.INVOICED, Stage.REJECTED)


@workflow.defn(name="ShipmentWorkflow")
class StandInShipment:
    @workflow.init
    def __init__(self, input: ShipmentInput) -> None:
        self._input = input
        self._shipment_id = f"shipment-{input.order_ref}"
        self._stage = Stage.BOOK
        self._stages = [StageReached(stage=Stage.BOOK, at=workflow.now())]
        self._carrier = input.carrier
        self._events: list[ShipmentEvent] = []
        self._seen: set[str] = set()
        self._log: list[TimelineEntry] = []
        self._promised = input.promised_date
        self._accepts = 0

    @workflow.run
    async def run(self, input: ShipmentInput) -> ShipmentStatus:
        workflow.upsert_search_attributes(
            [
                ORDER_REF.value_set(input.order_ref),
                SHIPMENT_STATUS.value_set(self._stage.value),
                CARRIER.value_set(self._carrier),
            ]
        )
        await workflow.wait_condition(lambda: self._stage in CLOSED)
        return self.status()

    # -- the contract ---------------------------------------------------------------------

    @workflow.query
    def status(self) -> ShipmentStatus:
        return ShipmentStatus(
            shipment_id=self._shipment_id, order_ref=self._input.order_ref, stage=self._stage,
            stages=list(self._stages), references=References(), events=list(self._events),
            carrier=self._carrier, promised_date=self._promised, log=list(self._log),
        )  # fmt: skip

    @workflow.update
    def accept(self) -> AcceptedShipment:
        """Update-with-start of ``POST /v1/shipments``: the stand-in accepts every order."""
        self._accepts += 1
        return AcceptedShipment(first=self._accepts == 1, status=self.status())

    @workflow.signal
    def event(self, event: ShipmentEvent) -> None:
        if event.event_id not in self._seen:
            self._seen.add(event.event_id)
            self._events.append(event)

    @workflow.signal
    def events(self, batch: EventBatch) -> None:
        for event in batch.events:
            self.event(event)

    @workflow.update
    def cancel(self, input: CancelInput) -> ShipmentStatus:
        self._note("cancelled", input.actor, input.reason)
        self._reach(Stage.CANCELLED)
        return self.status()

    @cancel.validator
    def _check_cancel(self, input: CancelInput) -> None:
        if self._stage not in (*BEFORE_BOOKING, Stage.CUSTOMS, Stage.EXCEPTION):
            raise ApplicationError(f"cannot cancel in stage {self._stage}", type=NOT_ALLOWED_NOW)

    @workflow.update
    def amend(self, input: AmendInput) -> ShipmentStatus:
        self._promised = input.promised_date or self._promised
        self._note("amended", input.actor, input.reason)
        return self.status()

    @amend.validator
    def _check_amend(self, input: AmendInput) -> None:
        if input.consignee is None and input.promised_date is None and not input.service_level:
            raise ApplicationError("nothing to amend", type=INVALID_UPDATE)
        if input.service_level is not None and self._stage not in BEFORE_BOOKING:
            raise ApplicationError("the carrier is booked already", type=NOT_ALLOWED_NOW)

    @workflow.update
    def resolve(self, input: ResolveInput) -> ShipmentStatus:
        self._note("resolved", input.actor, input.note)
        self._reach(Stage.CUSTOMS)
        return self.status()

    @resolve.validator
    def _check_resolve(self, input: ResolveInput) -> None:
        if input.kind is ResolutionKind.EXCEPTION and self._stage is not Stage.EXCEPTION:
            raise ApplicationError("no exception to resolve", type=NOT_ALLOWED_NOW)
        if input.kind is ResolutionKind.CUSTOMS_HOLD:
            raise ApplicationError("no customs hold to resolve", type=NOT_ALLOWED_NOW)

    @workflow.update
    def rebook(self, input: RebookInput) -> ShipmentStatus:
        if input.carrier == BROKEN_CARRIER:
            raise RuntimeError("a bug in the workflow")  # fails the task, not the update
        if input.carrier == REFUSING_CARRIER:
            raise ApplicationError(f"{input.carrier} refused the booking", type="BookingRefused")
        self._carrier = input.carrier or KNOWN_CARRIERS[0]
        workflow.upsert_search_attributes([CARRIER.value_set(self._carrier)])
        self._note("rebooked", input.actor, input.reason)
        return self.status()

    @rebook.validator
    def _check_rebook(self, input: RebookInput) -> None:
        if input.carrier is not None and input.carrier not in KNOWN_CARRIERS:
            raise ApplicationError(f"unknown carrier {input.carrier!r}", type=INVALID_UPDATE)

    @workflow.update
    def record_milestone(self, input: ManualMilestoneInput) -> ShipmentStatus:
        self.event(input.event)
        return self.status()

    @record_milestone.validator
    def _check_milestone(self, input: ManualMilestoneInput) -> None:
        if input.event.shipment_id not in (None, self._shipment_id):
            raise ApplicationError("the event names another shipment", type=INVALID_UPDATE)

    # -- test controls --------------------------------------------------------------------

    @workflow.signal
    def set_stage(self, stage: Stage) -> None:
        self._reach(stage)

    def _reach(self, stage: Stage) -> None:
        self._stage = stage
        self._stages.append(StageReached(stage=stage, at=workflow.now()))
        workflow.upsert_search_attributes([SHIPMENT_STATUS.value_set(stage.value)])

    def _note(self, title: str, actor: Actor, why: str) -> None:
        details = {"actor": f"{actor.token_id}/{actor.role}", "why": why}
        self._log.append(
            TimelineEntry(at=workflow.now(), kind=TimelineKind.OPS, title=title, details=details)
        )
