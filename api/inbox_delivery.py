"""Delivering stored webhook payloads to their shipments' workflows.

One path for everything: the first attempt right after a payload is stored, the redelivery
loop, and an admin's replay all re-read the stored body and run :meth:`InboxDelivery.deliver`.
Delivery is at-least-once; the workflow records each event once (by ``event_id``), so a
repeated delivery, or two API replicas delivering the same message, changes nothing.

A partner reaches only its own shipments (``api/partner_scope.py``): a payload that names
another partner's shipment is a dead letter at once, with the reason, and signals nothing.

Outcomes: DELIVERED; IGNORED (no shipment event in it); RECEIVED again with a reason when
Temporal could not be reached or no shipment matches yet (the tracking link may not be written
yet), retried by the loop; DEAD once no shipment has matched for ``unknown_grace``.
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api import partner_scope
from canonical.dialects import MalformedPayload, normalize
from canonical.dialects.normalized import NormalizedWebhook
from observability.metrics import record_milestone
from observability.tracing import PARTNER, PARTNER_EVENT_ID, tag_shipment, tracer
from store.inbox import (
    InboxMessage,
    InboxState,
    due_for_delivery,
    get_message,
    mark,
    purge_delivered,
)
from workflows.shipment import ShipmentWorkflow

log = logging.getLogger("borderflow.inbox")
SIGNAL_TIMEOUT = timedelta(seconds=5)


class InboxDelivery:
    def __init__(
        self,
        client: Client,
        store: Engine,
        *,
        unknown_grace: timedelta = timedelta(minutes=10),
        retention: timedelta = timedelta(days=7),
    ) -> None:
        self._client = client
        self._store = store
        self._unknown_grace = unknown_grace
        self._retention = retention

    async def deliver(
        self, message: InboxMessage, normalized: NormalizedWebhook | None = None
    ) -> InboxState:
        """Try once to signal every event of ``message``; record and return the outcome."""
        assert message.id is not None
        try:
            normalized = normalized or normalize(
                message.partner, message.body, received_at=message.received_at
            )
        except MalformedPayload as err:
            return await self._mark(message.id, InboxState.DEAD, reason=f"not understood: {err}")
        if not normalized.events:
            return await self._mark(message.id, InboxState.IGNORED)
        found = await asyncio.to_thread(
            partner_scope.route, self._store, message.partner, normalized.references
        )
        if found.refused is not None:
            return await self._mark(message.id, InboxState.DEAD, reason=f"refused: {found.refused}")
        shipment_id = found.shipment_id
        if shipment_id is None:
            refs = normalized.references.model_dump(exclude_none=True)
            return await self._unknown(message, f"no shipment matches {message.partner} {refs}")
        handle = self._client.get_workflow_handle(shipment_id)
        try:
            for event in normalized.events:
                routed = event.model_copy(update={"shipment_id": shipment_id})
                with tracer().start_as_current_span("deliver event") as span:
                    tag_shipment(shipment_id, span)
                    span.set_attribute(PARTNER, message.partner)
                    partner_event_id = event.source.partner_event_id or event.dedupe_key
                    span.set_attribute(PARTNER_EVENT_ID, partner_event_id)
                    await handle.signal(ShipmentWorkflow.event, routed, rpc_timeout=SIGNAL_TIMEOUT)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return await self._unknown(message, f"shipment {shipment_id} is not running")
            return await self._mark(message.id, InboxState.RECEIVED, shipment_id=shipment_id,
                                    reason=f"Temporal unavailable: {err.message}")  # fmt: skip
        for event in normalized.events:
            record_milestone(message.partner, event.milestone.value)
        return await self._mark(message.id, InboxState.DELIVERED, shipment_id=shipment_id)

    async def replay(self, message_id: int) -> InboxState | None:
        """Deliver a stored message again, whatever its state (``None``: no such message)."""
        message = await asyncio.to_thread(get_message, self._store, message_id)
        return None if message is None else await self.deliver(message)

    async def run(self, *, every_s: float = 2.0) -> None:
        """The redelivery loop: retries what is still RECEIVED, and applies retention."""
        last_purge = datetime.min.replace(tzinfo=UTC)
        while True:
            try:
                due = await asyncio.to_thread(
                    due_for_delivery, self._store, older_than=timedelta(seconds=every_s)
                )
                for message_id in due:
                    await self.replay(message_id)
                if datetime.now(UTC) - last_purge > timedelta(hours=1):
                    await asyncio.to_thread(
                        purge_delivered, self._store, older_than=self._retention
                    )
                    last_purge = datetime.now(UTC)
            except Exception:  # the loop must outlive any one failure
                log.exception("inbox redelivery round failed")
            await asyncio.sleep(every_s)

    async def _unknown(self, message: InboxMessage, reason: str) -> InboxState:
        assert message.id is not None
        young = datetime.now(UTC) - as_utc(message.received_at) < self._unknown_grace
        state = InboxState.RECEIVED if young else InboxState.DEAD
        return await self._mark(message.id, state, reason=reason)

    async def _mark(
        self, message_id: int, state: InboxState, *, shipment_id: str | None = None,
        reason: str | None = None,
    ) -> InboxState:  # fmt: skip
        await asyncio.to_thread(
            mark, self._store, message_id, state, shipment_id=shipment_id, reason=reason
        )
        if state is InboxState.DEAD:
            log.warning("inbox message %s is a dead letter: %s", message_id, reason)
        return state


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive (they were stored in UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
