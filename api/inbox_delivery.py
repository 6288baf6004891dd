"""Delivering stored webhook payloads to their shipments' workflows.

One path for everything: the first attempt right after a payload is stored, the redelivery
loop, and an admin's replay all re-read the stored body and run :meth:`InboxDelivery.deliver`.
Delivery is at-least-once; the workflow records each event once (by ``event_id``), so a
repeated delivery, or two API replicas delivering the same message, changes nothing.

A partner reaches only its own shipments (``api/partner_scope.py``): a payload that names
another partner's shipment is a dead letter at once, with the reason, and signals nothing.

Outcomes: DELIVERED; IGNORED (no shipment event in it); LATE when the shipment's workflow had
ended already (Temporal answers the signal "already completed"): kept, never retried, not
dead; RECEIVED again with a reason when Temporal could not be reached or no shipment matches
yet (the tracking link may not be written yet), retried by the loop; DEAD once no shipment
(no workflow at all) has matched for ``unknown_grace``.

An admin's replay is one attempt, recorded as such; a message delivered before stays
delivered whatever the replay finds (``store/inbox.py``), so the loop never takes it up again.
"""

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
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
    purge_delivered,
    record_attempt,
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
        self, message: InboxMessage, normalized: NormalizedWebhook | None = None,
        *, replay: bool = False,
    ) -> InboxState:  # fmt: skip
        """Try once to signal every event of ``message``; record and return the outcome
        (``replay``: the attempt is an admin's replay)."""
        assert message.id is not None
        attempt = partial(self._mark, message.id, replay=replay)
        try:
            normalized = normalized or normalize(
                message.partner, message.body, received_at=message.received_at
            )
        except MalformedPayload as err:
            return await attempt(InboxState.DEAD, reason=f"not understood: {err}")
        if not normalized.events:
            return await attempt(InboxState.IGNORED)
        found = await asyncio.to_thread(
            partner_scope.route, self._store, message.partner, normalized.references
        )
        if found.refused is not None:
            return await attempt(InboxState.DEAD, reason=f"refused: {found.refused}")
        shipment_id = found.shipment_id
        if shipment_id is None:
            refs = normalized.references.model_dump(exclude_none=True)
            return await self._unknown(
                message, f"no shipment matches {message.partner} {refs}", replay=replay
            )
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
            if err.status != RPCStatusCode.NOT_FOUND:
                return await attempt(InboxState.RECEIVED, shipment_id=shipment_id,
                                     reason=f"Temporal unavailable: {err.message}")  # fmt: skip
            try:
                ended = await _ended(handle)
            except RPCError as again:
                return await attempt(InboxState.RECEIVED, shipment_id=shipment_id,
                                     reason=f"Temporal unavailable: {again.message}")  # fmt: skip
            if ended is None:
                return await self._unknown(
                    message, f"shipment {shipment_id} is not running", replay=replay
                )
            return await attempt(InboxState.LATE, shipment_id=shipment_id,
                                 reason=f"shipment {shipment_id} had ended ({ended}) when this "
                                        "arrived; its events were not applied")  # fmt: skip
        for event in normalized.events:
            record_milestone(message.partner, event.milestone.value)
        return await attempt(InboxState.DELIVERED, shipment_id=shipment_id)

    async def replay(self, message_id: int) -> tuple[InboxMessage, InboxState] | None:
        """An admin's replay: one attempt to deliver a stored message, whatever its state.

        Returns the message as the attempt left it and the attempt's outcome (``None``: no
        such message)."""
        message = await asyncio.to_thread(get_message, self._store, message_id)
        if message is None:
            return None
        outcome = await self.deliver(message, replay=True)
        after = await asyncio.to_thread(get_message, self._store, message_id)
        return (after or message), outcome

    async def redeliver(self, message_id: int) -> InboxState | None:
        """The loop's attempt: only a message still RECEIVED (another replica may have
        delivered it since it was listed)."""
        message = await asyncio.to_thread(get_message, self._store, message_id)
        if message is None or message.state != InboxState.RECEIVED:
            return None
        return await self.deliver(message)

    async def run(self, *, every_s: float = 2.0) -> None:
        """The redelivery loop: retries what is still RECEIVED, and applies retention."""
        last_purge = datetime.min.replace(tzinfo=UTC)
        while True:
            try:
                due = await asyncio.to_thread(
                    due_for_delivery, self._store, older_than=timedelta(seconds=every_s)
                )
                for message_id in due:
                    await self.redeliver(message_id)
                if datetime.now(UTC) - last_purge > timedelta(hours=1):
                    await asyncio.to_thread(
                        purge_delivered, self._store, older_than=self._retention
                    )
                    last_purge = datetime.now(UTC)
            except Exception:  # the loop must outlive any one failure
                log.exception("inbox redelivery round failed")
            await asyncio.sleep(every_s)

    async def _unknown(self, message: InboxMessage, reason: str, *, replay: bool) -> InboxState:
        assert message.id is not None
        young = datetime.now(UTC) - as_utc(message.received_at) < self._unknown_grace
        state = InboxState.RECEIVED if young else InboxState.DEAD
        return await self._mark(message.id, state, reason=reason, replay=replay)

    async def _mark(
        self, message_id: int, outcome: InboxState, *, shipment_id: str | None = None,
        reason: str | None = None, replay: bool = False,
    ) -> InboxState:  # fmt: skip
        message = await asyncio.to_thread(
            record_attempt, self._store, message_id, outcome, shipment_id=shipment_id,
            reason=reason, replay=replay,
        )  # fmt: skip
        if message.state == InboxState.DEAD:
            log.warning("inbox message %s is a dead letter: %s", message_id, reason)
        elif message.state == InboxState.LATE:
            log.warning("inbox message %s arrived late: %s", message_id, reason)
        return outcome


async def _ended(handle: WorkflowHandle[object, object]) -> str | None:
    """How the shipment's workflow ended (``completed``, ``terminated``, …); ``None`` when
    Temporal knows no such workflow. Raises ``RPCError`` when Temporal does not answer."""
    try:
        description = await handle.describe(rpc_timeout=SIGNAL_TIMEOUT)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    status = description.status
    if status is None or status == WorkflowExecutionStatus.RUNNING:
        return None  # ended and started again since the signal: retried like an unknown one
    return status.name.lower()


def as_utc(moment: datetime) -> datetime:
    """SQLite hands datetimes back naive (they were stored in UTC)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
