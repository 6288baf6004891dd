"""The durable webhook inbox: every accepted partner payload, stored before the 2xx.

Guarantees:
- a payload is stored (raw body and headers) before the partner hears "accepted", so nothing
  acknowledged is ever lost, whatever happens to Temporal or the worker afterwards;
- ``(partner, dedupe_key)`` is unique: a redelivered payload is recognised and not signalled
  twice;
- a payload that cannot be delivered (unknown shipment, normalization failure) is kept as a
  dead letter with its reason, and can be replayed.
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Column, LargeBinary, UniqueConstraint
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
    attempts: int = 0


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


def mark(
    engine: Engine,
    message_id: int,
    state: InboxState,
    *,
    shipment_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Record a delivery attempt's outcome."""
    with Session(engine) as session:
        message = session.get(InboxMessage, message_id)
        if message is None:
            raise KeyError(message_id)
        message.state = state
        message.shipment_id = shipment_id or message.shipment_id
        message.reason = reason
        message.attempts += 1
        message.updated_at = _now()
        session.add(message)
        session.commit()


def list_messages(
    engine: Engine, *, state: InboxState | None = None, after_id: int = 0, limit: int = 50
) -> list[InboxMessage]:
    """Messages in id order, optionally in one state, after a cursor."""
    with Session(engine, expire_on_commit=False) as session:
        query = select(InboxMessage).where(col(InboxMessage.id) > after_id)
        if state is not None:
            query = query.where(InboxMessage.state == state)
        return list(session.exec(query.order_by(col(InboxMessage.id)).limit(limit)))


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
    so that late redeliveries are still recognised as duplicates). Dead letters are kept."""
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
