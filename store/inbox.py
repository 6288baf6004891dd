"""The durable webhook inbox: every accepted partner payload, stored before the 2xx.

Guarantees:
- a payload is stored (raw body and headers) before the partner hears "accepted", so nothing
  acknowledged is ever lost, whatever happens to Temporal or the worker afterwards;
- ``(partner, dedupe_key)`` is unique: a redelivered payload is recognised and not signalled
  twice;
- a payload that cannot be delivered (unknown shipment, normalization failure) is kept as a
  dead letter with its reason, and can be replayed; one that arrives after its shipment ended
  is kept as ``late`` (never retried);
- every attempt is counted and its outcome kept (``last_outcome``, ``reason``); a delivery is
  never taken back: once delivered, a message stays ``delivered`` (``delivered_at``,
  ``deliveries``) whatever a later attempt (an admin's replay) finds, so it never goes back
  to the redelivery loop. Replays are counted (``replays``, ``replayed_at``).
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Column, LargeBinary, UniqueConstraint, func
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


class InboxState(StrEnum):
    RECEIVED = "received"
    """Stored, not yet signalled (or signalling failed and will be retried)."""
    DELIVERED = "delivered"
    """Every event was signalled to its shipment."""
    IGNORED = "ignored"
    """The payload carried no shipment event."""
    DEAD = "dead"
    """Could not be delivered; ``reason`` says why. Replayable."""
    LATE = "late"
    """Arrived after its shipment had ended: kept, not retried, not dead. Replayable."""


class InboxMessage(SQLModel, table=True):
    __tablename__ = "inbox_message"
    __table_args__ = (UniqueConstraint("partner", "dedupe_key", name="uq_inbox_partner_key"),)

    id: int | None = Field(default=None, primary_key=True)
    partner: str = Field(max_length=64, index=True)
    dedupe_key: str = Field(max_length=200)
    received_at: datetime
    updated_at: datetime
    headers: str
    """JSON object of the request headers, private ones removed."""
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    state: str = Field(max_length=16, index=True)
    shipment_id: str | None = Field(default=None, max_length=128)
    reason: str | None = None
    """Why the last attempt did not deliver it; for a delivered one, a note when it signalled
    nothing (every event in it had been signalled before), else ``None``."""
    attempts: int = 0
    """Delivery attempts: the first, the redelivery loop's and replays."""
    last_outcome: str | None = Field(default=None, max_length=16)
    """The last attempt's outcome (an :class:`InboxState`); ``None`` before any attempt."""
    delivered_at: datetime | None = None
    """When an attempt first delivered it."""
    deliveries: int = 0
    """How many attempts delivered it (a replay of a delivered message delivers it again)."""
    replays: int = 0
    replayed_at: datetime | None = None
    """When an admin last replayed it."""


def _now() -> datetime:
    return datetime.now(UTC)


def store_message(
    engine: Engine,
    *,
    partner: str,
    dedupe_key: str,
    headers: Mapping[str, str],
    body: bytes,
    state: InboxState = InboxState.RECEIVED,
    reason: str | None = None,
) -> tuple[InboxMessage, bool]:
    """Store a payload; returns ``(message, True)``, or ``(existing, False)`` for a duplicate."""
    kept = {k: v for k, v in headers.items() if k.lower() not in PRIVATE_HEADERS}
    now = _now()
    message = InboxMessage(
        partner=partner, dedupe_key=dedupe_key, received_at=now, updated_at=now,
        headers=json.dumps(kept, sort_keys=True), body=body, state=state, reason=reason,
        last_outcome=None if state is InboxState.RECEIVED else state,
    )  # fmt: skip
    try:
        with Session(engine, expire_on_commit=False) as session:
            session.add(message)
            session.commit()
            return message, True
    except IntegrityError:
        existing = find_message(engine, partner, dedupe_key)
        assert existing is not None
        return existing, False


def find_message(engine: Engine, partner: str, dedupe_key: str) -> InboxMessage | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.exec(
            select(InboxMessage).where(
                InboxMessage.partner == partner, InboxMessage.dedupe_key == dedupe_key
            )
        ).first()


def get_message(engine: Engine, message_id: int) -> InboxMessage | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.get(InboxMessage, message_id)


def record_attempt(
    engine: Engine,
    message_id: int,
    outcome: InboxState,
    *,
    shipment_id: str | None = None,
    reason: str | None = None,
    replay: bool = False,
) -> InboxMessage:
    """Record one delivery attempt's outcome (``replay``: an admin's); returns the message.

    The state becomes the outcome, except that a delivered message stays delivered."""
    with Session(engine, expire_on_commit=False) as session:
        message = session.get(InboxMessage, message_id, with_for_update=True)
        if message is None:
            raise KeyError(message_id)
        now = _now()
        if outcome is InboxState.DELIVERED:
            message.deliveries += 1
            message.delivered_at = message.delivered_at or now
        message.state = InboxState.DELIVERED if message.delivered_at else outcome
        message.last_outcome = outcome
        message.shipment_id = shipment_id or message.shipment_id
        message.reason = reason
        message.attempts += 1
        message.updated_at = now
        if replay:
            message.replays += 1
            message.replayed_at = now
        session.add(message)
        session.commit()
        return message


def list_messages(
    engine: Engine, *, state: InboxState | None = None, after_id: int = 0, limit: int = 50
) -> list[InboxMessage]:
    """Messages in id order, optionally in one state, after a cursor."""
    with Session(engine, expire_on_commit=False) as session:
        query = select(InboxMessage).where(col(InboxMessage.id) > after_id)
        if state is not None:
            query = query.where(InboxMessage.state == state)
        return list(session.exec(query.order_by(col(InboxMessage.id)).limit(limit)))


def count_messages(engine: Engine, state: InboxState) -> int:
    """How many messages are in ``state`` (the dead- and late-letter gauges)."""
    with Session(engine) as session:
        query = select(func.count()).select_from(InboxMessage)
        return int(session.exec(query.where(InboxMessage.state == state)).one())


def due_for_delivery(engine: Engine, *, older_than: timedelta, limit: int = 100) -> list[int]:
    """Ids of RECEIVED messages not touched for ``older_than``: the redelivery loop's work."""
    cutoff = _now() - older_than
    with Session(engine) as session:
        query = (
            select(InboxMessage.id)
            .where(InboxMessage.state == InboxState.RECEIVED)
            .where(col(InboxMessage.updated_at) < cutoff)
            .order_by(col(InboxMessage.id))
            .limit(limit)
        )
        return [message_id for message_id in session.exec(query) if message_id is not None]


def purge_delivered(engine: Engine, *, older_than: timedelta) -> int:
    """Forget delivered and ignored messages older than ``older_than`` (retention; keep ≥ 4 d
    so that late redeliveries are still recognised as duplicates). Dead and late letters are
    kept."""
    cutoff = _now() - older_than
    with Session(engine) as session:
        old = session.exec(
            select(InboxMessage)
            .where(col(InboxMessage.state).in_([InboxState.DELIVERED, InboxState.IGNORED]))
            .where(col(InboxMessage.received_at) < cutoff)
        ).all()
        for message in old:
            session.delete(message)
        session.commit()
        return len(old)
