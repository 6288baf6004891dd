"""Delivering stored webhook payloads to their shipments' workflows.

One path for everything: the first attempt right after a payload is stored, the redelivery
loop, and an admin's replay all re-read the stored body and run :meth:`InboxDelivery.deliver`.
Delivery is at-least-once; the workflow records each event once (by ``event_id``), so a
repeated delivery, or two API replicas delivering the same message, changes nothing.

One webhook is at most one signal, ``ShipmentWorkflow.events`` with an ``EventBatch`` of the
events not signalled to that shipment before. Partners send cumulative payloads (the Nth
EasyPost webhook repeats every earlier scan), so this process remembers, within bounds, which
events it signalled to which shipment (``api/delivered_events.py``) and leaves those out; a
payload with nothing new is DELIVERED without a signal. The memory only saves signal size: the
workflow stays the authority (it records each ``event_id`` once), so a cold memory, an
eviction or another replica costs a larger signal, never a lost or doubled event. An admin's
replay sends every event of the payload again, whatever the memory says.

A partner reaches only its own shipments (``api/partner_scope.py``): a payload that names
another partner's shipment is a dead letter at once, with the reason, and signals nothing.

Outcomes: DELIVERED; IGNORED (no shipment event in it); LATE when the shipment's workflow had
ended already (Temporal answers the signal "already completed"): kept, never retried, not
dead; RECEIVED again with a reason when Temporal could not be reached or no shipment matches
yet, retried by the loop; DEAD once no shipment (no workflow at all) has matched for
``unknown_grace``. A carrier's first webhook can arrive while the booking that learnt its
tracking number is still writing the link (EasyPost posts ``tracker.created`` at purchase):
a first attempt that matched no shipment is tried again after ``SOON_S`` (0.2, 1 s), at most
``MAX_SOON`` messages at a time, before the loop's round (every 2 s) would take it up.

An admin's replay is one attempt, recorded as such; a message delivered before stays
delivered whatever the replay finds (``store/inbox.py``), so the loop never takes it up again.

The webhook's own write is the INSERT that stores it (``api/webhooks.py``), made by one
writer task (:meth:`InboxDelivery.store`): each of its rounds is one transaction holding every
payload and every DELIVERED outcome queued since the previous round began (a group commit),
and each payload's caller is answered only once that transaction is committed; when it fails,
each payload is tried again alone, so a failure answers only the payloads not stored, each
with an error, never as stored. A DELIVERED outcome of the loop or of a first attempt is so
recorded off the request path (:meth:`InboxDelivery.flush` waits for it; the loop and a replay
call it first). Until then the message reads RECEIVED; the loop leaves alone a message whose
outcome is waiting. Should that write fail or the process stop first, the message stays
RECEIVED and the loop delivers it again (at-least-once, as above). Every other outcome is
recorded before the attempt returns.
"""

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from api.delivered_events import DeliveredEvents
from api.partner_scope import PartnerScope
from canonical.dialects import MalformedPayload, normalize
from canonical.dialects.normalized import NormalizedWebhook
from canonical.events import ShipmentEvent
from observability.metrics import record_milestone
from observability.tracing import PARTNER, PARTNER_EVENT_ID, tag_shipment, tracer
from store.inbox import (
    Delivery,
    InboxMessage,
    InboxState,
    NewMessage,
    due_for_delivery,
    get_message,
    purge_delivered,
    record_attempt,
    store_messages,
)
from workflows.models import EventBatch
from workflows.shipment import ShipmentWorkflow

log = logging.getLogger("borderflow.inbox")
SIGNAL_TIMEOUT = timedelta(seconds=5)
SOON_S = (0.2, 1.0)
"""Delays of the early retries of a first attempt that matched no shipment."""
MAX_SOON = 1000
"""Messages retried early at once; beyond, the redelivery loop alone retries them."""
EVENT_COUNT = "borderflow.event_count"
"""Span attribute: how many events the delivery signalled (0: none was new)."""


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
        self._delivered = DeliveredEvents()
        self._scope = PartnerScope(store)
        self._pending: dict[int, Delivery] = {}
        """DELIVERED outcomes not yet recorded, by message id."""
        self._next = _Round()
        """What the writer's next transaction takes."""
        self._current: _Round | None = None
        """What the writer's transaction under way holds."""
        self._writer: asyncio.Task[None] | None = None
        self._soon: set[asyncio.Task[None]] = set()
        """Early retries under way (``SOON_S``)."""

    async def deliver(
        self, message: InboxMessage, normalized: NormalizedWebhook | None = None,
        *, replay: bool = False,
    ) -> InboxState:  # fmt: skip
        """Try once to signal the events of ``message`` new to its shipment (``replay``, an
        admin's: all of them) in one signal; record and return the outcome."""
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
        found = self._scope.cached(message.partner, normalized.references)
        if found is None:
            found = await asyncio.to_thread(
                self._scope.route, message.partner, normalized.references
            )
        if found.refused is not None:
            return await attempt(InboxState.DEAD, reason=f"refused: {found.refused}")
        shipment_id = found.shipment_id
        if shipment_id is None:
            refs = normalized.references.model_dump(exclude_none=True)
            outcome = await self._unknown(
                message, f"no shipment matches {message.partner} {refs}", replay=replay
            )
            if outcome == InboxState.RECEIVED and not replay and message.attempts == 0:
                self._retry_soon(message.id)
            return outcome
        events = normalized.events
        if not replay:
            unsent = set(self._delivered.unsent(shipment_id, (e.event_id for e in events)))
            events = [event for event in events if event.event_id in unsent]
        events = [e.model_copy(update={"shipment_id": shipment_id}) for e in events]
        handle = self._client.get_workflow_handle(shipment_id)
        try:
            await self._signal(handle, message, events, normalized.current_event_id)
        except RPCError as err:
            return await self._not_signalled(message, handle, err, replay=replay)
        for event in events:  # each event signalled (a repeat left out is not counted)
            record_milestone(message.partner, event.milestone.value)
        note = None if events else f"nothing new: every event was signalled to {shipment_id} before"
        if replay:
            return await attempt(InboxState.DELIVERED, shipment_id=shipment_id, reason=note)
        self._record_later(Delivery(message.id, shipment_id, note))
        return InboxState.DELIVERED

    async def _signal(
        self, handle: WorkflowHandle[Any, Any], message: InboxMessage,
        events: list[ShipmentEvent], current_event_id: str | None = None,
    ) -> None:  # fmt: skip
        """One span, at most one signal: ``events`` (none: no signal), then remember them."""
        with tracer().start_as_current_span("deliver events") as span:
            tag_shipment(handle.id, span)
            span.set_attribute(PARTNER, message.partner)
            span.set_attribute(EVENT_COUNT, len(events))
            if not events:
                return
            first = events[0]
            span.set_attribute(PARTNER_EVENT_ID, first.source.partner_event_id or first.dedupe_key)
            batch = EventBatch(
                events=events, partner=message.partner, inbox_message_id=message.id,
                current_event_id=current_event_id,
            )  # fmt: skip
            await handle.signal(ShipmentWorkflow.events, batch, rpc_timeout=SIGNAL_TIMEOUT)
        self._delivered.signalled(handle.id, (event.event_id for event in events))

    async def _not_signalled(
        self, message: InboxMessage, handle: WorkflowHandle[object, object], err: RPCError,
        *, replay: bool,
    ) -> InboxState:  # fmt: skip
        """The outcome of a signal Temporal refused: not reachable, no workflow, or ended."""
        assert message.id is not None
        attempt = partial(self._mark, message.id, shipment_id=handle.id, replay=replay)
        if err.status != RPCStatusCode.NOT_FOUND:
            return await attempt(InboxState.RECEIVED, reason=f"Temporal unavailable: {err.message}")
        try:
            ended = await _ended(handle)
        except RPCError as again:
            return await attempt(InboxState.RECEIVED,
                                 reason=f"Temporal unavailable: {again.message}")  # fmt: skip
        if ended is None:
            return await self._unknown(message, f"shipment {handle.id} is not running",
                                       replay=replay)  # fmt: skip
        return await attempt(InboxState.LATE,
                             reason=f"shipment {handle.id} had ended ({ended}) when this "
                                    "arrived; its events were not applied")  # fmt: skip

    async def replay(self, message_id: int) -> tuple[InboxMessage, InboxState] | None:
        """An admin's replay: one attempt to deliver a stored message, whatever its state.

        Returns the message as the attempt left it and the attempt's outcome (``None``: no
        such message)."""
        await self.flush()
        message = await asyncio.to_thread(get_message, self._store, message_id)
        if message is None:
            return None
        outcome = await self.deliver(message, replay=True)
        after = await asyncio.to_thread(get_message, self._store, message_id)
        return (after or message), outcome

    async def redeliver(self, message_id: int) -> InboxState | None:
        """The loop's attempt: only a message still RECEIVED (another replica may have
        delivered it since it was listed, or its outcome is still to be recorded)."""
        if message_id in self._pending:
            return None
        message = await asyncio.to_thread(get_message, self._store, message_id)
        if message is None or message.state != InboxState.RECEIVED:
            return None
        return await self.deliver(message)

    async def run(self, *, every_s: float = 2.0) -> None:
        """The redelivery loop: retries what is still RECEIVED, and applies retention."""
        last_purge = datetime.min.replace(tzinfo=UTC)
        while True:
            try:
                await self.flush()
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

    def _retry_soon(self, message_id: int) -> None:
        if len(self._soon) >= MAX_SOON:
            return
        task = asyncio.create_task(self._soon_attempts(message_id))
        self._soon.add(task)
        task.add_done_callback(self._soon.discard)

    async def _soon_attempts(self, message_id: int) -> None:
        """Up to ``len(SOON_S)`` early attempts, until one leaves the message not RECEIVED."""
        for delay in SOON_S:
            await asyncio.sleep(delay)
            try:
                outcome = await self.redeliver(message_id)
            except Exception:  # the loop retries it anyway
                log.exception("early retry of inbox message %s failed", message_id)
                return
            if outcome != InboxState.RECEIVED:
                return

    async def close(self) -> None:
        """Stop the early retries (the loop's next run, here or on a replica, takes them up)
        and record the DELIVERED outcomes still queued."""
        for task in list(self._soon):
            task.cancel()
        await asyncio.gather(*self._soon, return_exceptions=True)
        await self.flush()
        if self._writer is not None:  # payloads still being stored
            await asyncio.shield(self._writer)

    async def store(self, message: NewMessage) -> tuple[InboxMessage, bool]:
        """Store a payload with whatever else is waiting, in the writer's next transaction
        (a group commit); returns once its row is committed: ``(message, True)``, or
        ``(existing, False)`` for a duplicate. Raises when it could not be stored."""
        stored: asyncio.Future[tuple[InboxMessage, bool]] = (
            asyncio.get_running_loop().create_future()
        )
        self._next.stores.append((message, stored))
        self._start_writer()
        return await stored

    def _record_later(self, delivery: Delivery) -> None:
        """Queue a DELIVERED outcome for the writer's next transaction."""
        self._pending[delivery.message_id] = delivery
        self._next.deliveries.append(delivery)
        self._start_writer()

    def _start_writer(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_rounds())

    async def _write_rounds(self) -> None:
        """One transaction per round, with everything queued since the last one began, until
        nothing is left; each round's waiters are answered once it is committed."""
        while self._next.stores or self._next.deliveries:
            batch, self._next = self._next, _Round()
            self._current = batch
            try:
                await self._write(batch)
            finally:
                self._current = None
                for _, waiter in batch.stores:  # the writer was stopped mid-round
                    _fail(waiter, RuntimeError("the inbox writer stopped before storing it"))
                for delivery in batch.deliveries:
                    if self._pending.get(delivery.message_id) is delivery:
                        del self._pending[delivery.message_id]
                batch.done.set()

    async def _write(self, batch: "_Round") -> None:
        """Store the round's payloads and record its deliveries in one transaction. When it
        fails, each payload is tried again alone (one bad row fails only its own request),
        then the deliveries; deliveries not recorded are dropped: the loop delivers them
        again."""
        new = [message for message, _ in batch.stores]
        try:
            stored = await asyncio.to_thread(store_messages, self._store, new, batch.deliveries)
        except Exception as err:
            if len(new) == 1 and not batch.deliveries:
                _fail(batch.stores[0][1], err)
                return
            for message, waiter in batch.stores:
                try:
                    (alone,) = await asyncio.to_thread(store_messages, self._store, [message])
                except Exception as again:
                    _fail(waiter, again)
                else:
                    _answer(waiter, alone)
            await self._record_alone(batch.deliveries)
            return
        for (_, waiter), result in zip(batch.stores, stored, strict=True):
            _answer(waiter, result)

    async def _record_alone(self, deliveries: list[Delivery]) -> None:
        if not deliveries:
            return
        try:
            await asyncio.to_thread(store_messages, self._store, [], deliveries)
        except Exception:
            log.exception("recording %d deliveries failed: the loop retries them", len(deliveries))

    async def flush(self) -> None:
        """Wait until every DELIVERED outcome queued so far is recorded (or its write failed)."""
        rounds = [r for r in (self._current, self._next) if r is not None and r.deliveries]
        for waiting in rounds:
            await waiting.done.wait()

    async def _unknown(self, message: InboxMessage, reason: str, *, replay: bool) -> InboxState:
        assert message.id is not None
        young = datetime.now(UTC) - as_utc(message.received_at) < self._unknown_grace
        state = InboxState.RECEIVED if young else InboxState.DEAD
        return await self._mark(message.id, state, reason=reason, replay=replay)

    async def _mark(
        self, message_id: int, outcome: InboxState, *, shipment_id: str | None = None,
        reason: str | None = None, replay: bool = False,
    ) -> InboxState:  # fmt: skip
        state = await asyncio.to_thread(
            record_attempt, self._store, message_id, outcome, shipment_id=shipment_id,
            reason=reason, replay=replay,
        )  # fmt: skip
        if state == InboxState.DEAD:
            log.warning("inbox message %s is a dead letter: %s", message_id, reason)
        elif state == InboxState.LATE:
            log.warning("inbox message %s arrived late: %s", message_id, reason)
        return outcome


@dataclass
class _Round:
    """One transaction of the writer: payloads to store (each with its waiter) and DELIVERED
    outcomes to record; ``done`` once it is over (committed or failed)."""

    stores: list[tuple[NewMessage, "asyncio.Future[tuple[InboxMessage, bool]]"]] = field(
        default_factory=list
    )
    deliveries: list[Delivery] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)


def _answer(waiter: "asyncio.Future[tuple[InboxMessage, bool]]",
            result: tuple[InboxMessage, bool]) -> None:  # fmt: skip
    if not waiter.done():  # its request may have been cancelled meanwhile
        waiter.set_result(result)


def _fail(waiter: "asyncio.Future[tuple[InboxMessage, bool]]", err: BaseException) -> None:
    if not waiter.done():
        waiter.set_exception(err)


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
