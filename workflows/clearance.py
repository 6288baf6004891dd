"""Customs clearance: one declaration per direction the Incoterm puts on the seller, in turn.

EXW files nothing (the buyer clears both sides); most terms file the export; DDP files the
export and the import. Each declaration is filed with the broker, then folded from the broker
events the shipment receives (``workflows.customs``); customs events that arrive before the
first filing wait and are applied once it is filed. A RELEASED declaration lets the next one
start; a REJECTED (or CANCELLED) one raises ``CustomsRejected`` and the shipment is
compensated. A hold tells ops (once per hold) and shows on the shipment until it is lifted.
"""

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.models import FileCustomsInput
    from activities.shipment import ShipmentActivities
    from canonical.customs import CustomsDirection, DeclarationStatus
    from canonical.events import ShipmentEvent
    from workflows.context import ShipmentContext
    from workflows.customs import Declaration, Step
    from workflows.escalation import Escalation
    from workflows.models import CUSTOMS_STATUS
    from workflows.partners import BROKER
    from workflows.state import KEEP_PENDING_CUSTOMS, TimelineKind

S = DeclarationStatus


class CustomsRejected(Exception):
    """A declaration was rejected: the shipment is compensated and ends CANCELLED."""


class Clearance:
    def __init__(self, context: ShipmentContext, escalation: Escalation) -> None:
        self._context = context
        self._state = context.state
        self._escalation = escalation

    def wanted(self) -> list[tuple[CustomsDirection, str]]:
        """The declarations to file, with the country each is filed in."""
        shipment = self._state.shipment
        assert shipment is not None and shipment.origin and shipment.destination
        wanted = []
        if not shipment.incoterm.buyer_clears_export:
            wanted.append((CustomsDirection.EXPORT, shipment.origin.country))
        if shipment.incoterm.seller_clears_import:
            wanted.append((CustomsDirection.IMPORT, shipment.destination.country))
        return wanted

    async def clear(self, wanted: list[tuple[CustomsDirection, str]]) -> None:
        for direction, country in wanted:
            await self._declare(direction, country)

    async def _declare(self, direction: CustomsDirection, country: str) -> None:
        """File one declaration and wait until RELEASED (CustomsRejected if it is not)."""
        declaration = self._state.declaration(direction)
        if declaration is None:
            declaration = Declaration.draft(direction, country)
            self._state.declarations.append(declaration)
        if not declaration.filed:
            await self._file(declaration)
        told = -1
        while True:
            current = declaration.current
            if current.status is S.RELEASED:
                return
            if current.status in (S.REJECTED, S.CANCELLED):
                raise CustomsRejected(
                    f"customs {current.status.value.lower()} the {direction.value} declaration"
                )
            if current.status is S.HELD and told != current.version:
                told = current.version
                await self._escalation.tell(
                    "ops", "customs.held", "Customs hold", self._state.exception or "held",
                    f"customs-{direction.value}-held-{current.version}",
                )  # fmt: skip
            seen = current.version
            await self._context.wait(
                lambda: declaration.current.version != seen,  # noqa: B023
                f"customs: the {direction.value} declaration",
            )

    async def _file(self, declaration: Declaration) -> None:
        context, state = self._context, self._state
        assert state.shipment is not None and state.references.tracking_number is not None
        direction = declaration.current.direction
        filing = FileCustomsInput(
            shipment_id=context.shipment_id, shipment=state.shipment,
            tracking_number=state.references.tracking_number, direction=direction,
        )  # fmt: skip
        filed = await context.call(
            BROKER, ShipmentActivities.file_customs, filing,
            f"file the {direction.value} declaration",
        )  # fmt: skip
        declaration.file(filed.declaration_id, filed.lrn, workflow.now())
        waiting, state.customs_waiting = state.customs_waiting, []
        for event in waiting:
            declaration.add(Step(at=event.recorded_at, event=event))
        self.changed(declaration)

    def receive(self, event: ShipmentEvent) -> None:
        """A customs event (or a retraction of one): to the declaration in progress, or kept
        until the first one is filed."""
        state = self._state
        filed = [d for d in state.declarations if d.filed]
        open_ = next((d for d in filed if not d.current.status.is_final), None)
        declaration = open_ or (filed[-1] if filed else None)
        if declaration is None:
            state.customs_waiting = [*state.customs_waiting, event][-KEEP_PENDING_CUSTOMS:]
        elif declaration.add(Step(at=workflow.now(), event=event)):
            self.changed(declaration)

    def resolve_hold(self, declaration: Declaration, note: str) -> None:
        """Ops supplied what customs asked for: back to review."""
        if declaration.add(Step(at=workflow.now(), resolution_note=note)):
            self.changed(declaration)

    def changed(self, declaration: Declaration) -> None:
        """A declaration's status changed: timeline, search attribute, references, holds."""
        context, state, current = self._context, self._state, declaration.current
        context.attributes.set(CUSTOMS_STATUS, current.status.value)
        if current.direction is CustomsDirection.EXPORT or state.references.declaration_id is None:
            context.refer(declaration_id=current.declaration_id, mrn=current.mrn)
        context.note(
            TimelineKind.CUSTOMS, f"{current.direction.value} declaration {current.status.value}",
            declaration_id=current.declaration_id, mrn=current.mrn,
            hold_reason=current.hold_reason, note=current.resolution_note,
        )  # fmt: skip
        if current.status is S.HELD:
            state.exception = (
                f"customs hold on the {current.direction.value} declaration: {current.hold_reason}"
            )
        elif state.exception and state.exception.startswith("customs hold"):
            state.exception = None
