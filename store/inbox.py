"""The durable webhook inbox: every accepted partner payload, stored before the 2xx.

Guarantees:
- a payload is stored (raw body and headers) before the partner hears "accepted", so nothing
  acknowledged is ever lost, whatever happens to Temporal or the worker afterwards;
- ``(partner, dedupe_key)`` is unique: a redelivered payload is recognised and not signalled
  twice;
- :func:`store_messages` stores several payloads (and records deliveries) in one transaction,
  all or none: a caller answering after it returns answers only for committed rows;
- a payload that cannot be delivered (unknown shipment, normalization failure) is kept as a
  dead letter with its reason, and can be replayed; one that arrives after its shipment ended
  is kept as ``late`` (never retried);
- every attempt is counted and its outcome kept (``last_outcome``, ``reason``); a delivery is
  never taken back: once delivered, a message stays ``delivered`` (``delivered_at``,
  ``deliveries``) whatever a later attempt (an admin's replay) finds, so it never goes back
  to the redelivery loop. Replays are counted (``replays``, ``replayed_at``).
"""

import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, LargeBinary, UniqueConstraint, bindparam, case, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

PRIVATE_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization", "x-webhook-token"})


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


@dataclass(frozen=True)
class Delivery:
    """A first attempt that delivered ``message_id`` to ``shipment_id`` (``reason``: a note)."""

    message_id: int
    shipment_id: str
    reason: str | None = None


@dataclass(frozen=True)
class NewMessage:
    """A payload to store (:func:`store_messages`)."""

    partner: str
    dedupe_key: str
    headers: Mapping[str, str]
    body: bytes
    state: InboxState = InboxState.RECEIVED
    reason: str | None = None


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
    """Store a payload in one INSERT; returns ``(message, True)``, or ``(existing, False)`` for
    a duplicate."""
    (stored,) = store_messages(
        engine, [NewMessage(partner, dedupe_key, headers, body, state, reason)]
    )
    return stored


def store_messages(
    engine: Engine, messages: Sequence[NewMessage], deliveries: Sequence[Delivery] = ()
) -> list[tuple[InboxMessage, bool]]:
    """Store payloads, one INSERT each, and record ``deliveries`` (as
    :func:`record_deliveries`), all in **one** transaction: when it returns, every row is
    committed; when it raises, none is (the group commit of ``api/inbox_delivery.py``).

    Returns, in order, ``(message, True)`` for each payload stored, or ``(existing, False)``
    for a duplicate of a stored one (an earlier one in ``messages`` included)."""
    if not messages and not deliveries:
        return []
    now = _now()
    statement = _insert_statement(engine.dialect.name)
    table = InboxMessage.__table__  # type: ignore[attr-defined]
    out: list[tuple[InboxMessage, bool]] = []
    with engine.begin() as connection:
        for new in messages:
            values = _row(new, now)
            key = connection.execute(statement, values).scalar_one_or_none()
            if key is not None:
                out.append((InboxMessage(id=key, **values), True))
                continue
            existing = connection.execute(
                sa_select(table).where(
                    table.c.partner == new.partner, table.c.dedupe_key == new.dedupe_key
                )
            ).first()
            if existing is None:  # the row it clashed with was purged since: a rare race
                raise IntegrityError("inbox insert", None, Exception("duplicate vanished"))
            out.append((InboxMessage.model_validate(existing._mapping), False))
        if deliveries:
            connection.execute(_DELIVERED, _delivery_rows(deliveries, now))
    return out


def _row(new: NewMessage, now: datetime) -> dict[str, Any]:
    kept = {k: v for k, v in new.headers.items() if k.lower() not in PRIVATE_HEADERS}
    return {
        "partner": new.partner, "dedupe_key": new.dedupe_key, "received_at": now,
        "updated_at": now, "headers": json.dumps(kept, sort_keys=True), "body": new.body,
        "state": new.state, "reason": new.reason,
        "last_outcome": None if new.state is InboxState.RECEIVED else new.state,
        "attempts": 0, "deliveries": 0, "replays": 0,
    }  # fmt: skip


@functools.cache
def _insert_statement(dialect: str) -> Any:
    """``INSERT … ON CONFLICT (partner, dedupe_key) DO NOTHING RETURNING id``: the new id, or
    no row for a duplicate (built once per dialect, so its compiled form is cached)."""
    table = InboxMessage.__table__  # type: ignore[attr-defined]
    conflict = ["partner", "dedupe_key"]
    if dialect == "postgresql":
        statement: Any = postgresql.insert(table).on_conflict_do_nothing(index_elements=conflict)
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)
    else:
        raise NotImplementedError(f"the inbox supports SQLite and PostgreSQL, not {dialect}")
    return statement.returning(table.c.id)


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
) -> InboxState:
    """Record one delivery attempt's outcome (``replay``: an admin's) in one UPDATE; returns
    the message's state after it.

    The state becomes the outcome, except that a delivered message stays delivered. Raises
    ``KeyError`` when there is no such message."""
    now = _now()
    delivered = outcome is InboxState.DELIVERED
    values: dict[str, Any] = {
        "state": InboxState.DELIVERED if delivered else case(
            (col(InboxMessage.delivered_at).is_not(None), InboxState.DELIVERED.value),
            else_=outcome.value,
        ),
        "last_outcome": outcome, "reason": reason, "updated_at": now,
        "attempts": col(InboxMessage.attempts) + 1,
    }  # fmt: skip
    if shipment_id:
        values["shipment_id"] = shipment_id
    if delivered:
        values["deliveries"] = col(InboxMessage.deliveries) + 1
        values["delivered_at"] = func.coalesce(col(InboxMessage.delivered_at), now)
    if replay:
        values["replays"] = col(InboxMessage.replays) + 1
        values["replayed_at"] = now
    with engine.begin() as connection:
        state = connection.execute(
            update(InboxMessage)
            .where(col(InboxMessage.id) == message_id)
            .values(values)
            .returning(col(InboxMessage.state))
        ).scalar_one_or_none()
    if state is None:
        raise KeyError(message_id)
    return InboxState(state)


_DELIVERED = (
    update(InboxMessage)
    .where(col(InboxMessage.id) == bindparam("b_id"))
    .values(
        state=InboxState.DELIVERED, last_outcome=InboxState.DELIVERED,
        shipment_id=bindparam("b_shipment"), reason=bindparam("b_reason"),
        attempts=col(InboxMessage.attempts) + 1,
        deliveries=col(InboxMessage.deliveries) + 1,
        delivered_at=func.coalesce(col(InboxMessage.delivered_at), bindparam("b_now")),
        updated_at=bindparam("b_now"),
    )
)  # fmt: skip
"""Record one delivering first attempt (its parameters: :func:`_delivery_rows`)."""


def _delivery_rows(deliveries: Sequence[Delivery], now: datetime) -> list[dict[str, Any]]:
    return [{"b_id": d.message_id, "b_shipment": d.shipment_id, "b_reason": d.reason,
             "b_now": now} for d in deliveries]  # fmt: skip


def record_deliveries(engine: Engine, deliveries: Sequence[Delivery]) -> None:
    """Record attempts that delivered, as :func:`record_attempt` would one by one, in one
    transaction of one statement (a message no longer stored is skipped)."""
    if not deliveries:
        return
    with engine.begin() as connection:
        connection.execute(_DELIVERED, _delivery_rows(deliveries, _now()))


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
