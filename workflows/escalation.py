"""The SLA ladder's side effects: who is told at each rung, and the notices the lifecycle sends.

``workflows.sla`` decides *when* (pure); this collaborator of ``ShipmentWorkflow`` does the
telling: WARN and BREACH go to ops (BREACH also sets ``SlaBreached``), ESCALATED to the account
team with an Odoo to-do on the sale order, CRITICAL to both. Every notice has a key made of the
shipment, the clock and the level, so a retried or replayed rung sends nothing twice; a rung is
recorded on the clock and the timeline only once its notices went out.
"""

from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.lifecycle import LifecycleActivities
    from activities.models import EscalationInput, NotifyInput
    from workflows.context import ShipmentContext
    from workflows.models import SLA_BREACHED
    from workflows.partners import NOTIFY, ODOO
    from workflows.sla import Rung
    from workflows.sla_clock import SlaLevel
    from workflows.state import TimelineKind


class Escalation:
    def __init__(self, context: ShipmentContext) -> None:
        self._context = context
        self._state = context.state
        self.busy = False
        """A rung's notices are being sent (continue-as-new waits for them)."""

    def due(self, eta: datetime | None) -> Rung | None:
        """The next rung to take (``None``: no open clock, or no policy yet)."""
        policy = self._state.policy
        if policy is None:
            return None
        return self._state.sla.due(policy.escalation, eta, workflow.now())

    async def climb(self, rung: Rung) -> None:
        """Take one rung: tell who must know, then record it."""
        self.busy = True
        try:
            await self._tell_rung(rung)
        finally:
            self.busy = False
        clock = self._state.sla.climb(rung)
        self._context.note(
            TimelineKind.SLA,
            f"SLA {clock.clock}: {rung.level.value}",
            deadline=clock.deadline.isoformat(),
        )

    async def tell(self, channel: str, event: str, title: str, text: str, key: str) -> None:
        """One notice to ``channel`` (``ops``, ``account``, ``finance``), sent once per key."""
        notice = NotifyInput(
            shipment_id=self._context.shipment_id,
            order_ref=self._context.input.order_ref,
            channel=channel,
            event=event,
            title=title,
            text=text,
            key=f"{self._context.shipment_id}:{key}",
        )
        await self._context.call(
            NOTIFY, LifecycleActivities.notify, notice, f"notify {channel}: {title}"
        )

    async def _tell_rung(self, rung: Rung) -> None:
        clock = self._state.sla.get(rung.clock)
        assert clock is not None
        level, name = rung.level, clock.clock
        title = f"SLA {name}: {level.value}"
        text = f"{self._context.input.order_ref}: {name} was due {clock.deadline.isoformat()}"
        key = f"sla-{name}-{level.value}"
        if level is SlaLevel.WARN:
            await self.tell("ops", f"sla.{name}.warn", title, text, key)
        elif level is SlaLevel.BREACH:
            self._context.attributes.set(SLA_BREACHED, True)
            await self.tell("ops", f"sla.{name}.breach", title, text, key)
        elif level is SlaLevel.ESCALATED:
            await self.tell("account", f"sla.{name}.escalated", title, text, key)
            sale_order_id = self._state.references.sale_order_id
            if sale_order_id is not None:
                todo = EscalationInput(
                    sale_order_id=sale_order_id,
                    key=f"{self._context.shipment_id}:{key}",
                    summary=title,
                    note=text,
                    deadline=workflow.now().date(),
                )
                await self._context.call(
                    ODOO,
                    LifecycleActivities.open_escalation,
                    todo,
                    "open an Odoo activity for the account team",
                )
        else:
            await self.tell("ops", f"sla.{name}.critical", title, text, key)
            await self.tell("account", f"sla.{name}.critical", title, text, key)
