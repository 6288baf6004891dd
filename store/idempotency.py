"""Idempotency keys for our own API (Stripe semantics): a key is reserved before the work.

Guarantees, per ``(scope, key)`` (the scope is the caller's token, so two callers never
collide):
- :func:`reserve` inserts the reservation (the request's digest, state ``in_flight``, a holder
  id of its own) in one statement; the unique constraint makes exactly one of any number of
  concurrent requests its holder. Every other request gets the existing record, and does
  nothing: the caller answers 409 while it is in flight, replays it once finished, and refuses
  another request's digest (422).
- Only the holder ends a reservation: :func:`finish` stores the response (status and body) and
  the state ``finished`` in one ``UPDATE``, so a record is never ``finished`` without its
  response (a check constraint says so too); :func:`release` deletes it (the request ended in
  5xx, crashed or was cancelled) so that a retry may run.
- A reservation still in flight :data:`RESERVATION_TTL` after it was made was abandoned (its
  process died): the next request takes it over, atomically, and becomes its holder. The old
  holder can then neither finish nor release it.
"""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import CheckConstraint, UniqueConstraint, delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

RESERVATION_TTL = timedelta(minutes=5)
"""How long a reservation may stay in flight before another request may take it over; longer
than any request can run (``request_timeout_s`` ends it, 60 s by default)."""


class IdempotencyState(StrEnum):
    IN_FLIGHT = "in_flight"
    """Reserved: its request is running (or its process died: see ``RESERVATION_TTL``)."""
    FINISHED = "finished"
    """The response is stored and is what every repeat gets."""


class StoredResponse(SQLModel, table=True):
    __tablename__ = "idempotent_response"
    __table_args__ = (
        UniqueConstraint("scope", "key", name="uq_idempotent_scope_key"),
        CheckConstraint(
            "state = 'in_flight' OR (status IS NOT NULL AND body IS NOT NULL)",
            name="ck_idempotent_finished_has_response",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=64)
    key: str = Field(max_length=255)
    request_sha256: str = Field(max_length=64)
    state: str = Field(max_length=16)
    holder: str | None = Field(default=None, max_length=32)
    """The request holding the reservation (``None`` once finished)."""
    status: int | None = None
    body: str | None = None
    created_at: datetime
    """When the key was reserved (or taken over)."""
    finished_at: datetime | None = None


MAX_KEY_LENGTH = 255


def valid_key(key: str) -> bool:
    """An Idempotency-Key is 1 to 255 printable ASCII characters (anything else: 400)."""
    return 1 <= len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


def request_digest(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def find_response(engine: Engine, scope: str, key: str) -> StoredResponse | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.exec(
            select(StoredResponse).where(StoredResponse.scope == scope, StoredResponse.key == key)
        ).first()


def reserve(
    engine: Engine, *, scope: str, key: str, request_sha256: str,
    ttl: timedelta = RESERVATION_TTL,
) -> tuple[StoredResponse | None, bool]:  # fmt: skip
    """Reserve ``key``: ``(reservation, True)`` when this request holds it now, else
    ``(existing record, False)``, in flight or finished; ``(None, False)`` when the key keeps
    being reserved and released under us (busy: answer as if in flight)."""
    holder = uuid.uuid4().hex
    for _ in range(3):  # a record may be released between our insert and our read
        row = StoredResponse(scope=scope, key=key, request_sha256=request_sha256,
                             state=IdempotencyState.IN_FLIGHT, holder=holder,
                             created_at=_now())  # fmt: skip
        try:
            with Session(engine, expire_on_commit=False) as session:
                session.add(row)
                session.commit()
                return row, True
        except IntegrityError:
            pass
        existing = find_response(engine, scope, key)
        if existing is None:
            continue
        if existing.state == IdempotencyState.IN_FLIGHT and _abandoned(existing, ttl):
            taken = _take_over(engine, existing, holder=holder, request_sha256=request_sha256)
            if taken is not None:
                return taken, True
            continue
        return existing, False
    return None, False


def _abandoned(record: StoredResponse, ttl: timedelta) -> bool:
    reserved = record.created_at
    reserved = reserved if reserved.tzinfo else reserved.replace(tzinfo=UTC)  # SQLite: naive
    return _now() - reserved > ttl


def _take_over(
    engine: Engine, record: StoredResponse, *, holder: str, request_sha256: str
) -> StoredResponse | None:
    """Become the holder of an abandoned reservation, unless another request just did."""
    now = _now()
    with engine.begin() as connection:
        taken = connection.execute(
            update(StoredResponse)
            .where(col(StoredResponse.id) == record.id)
            .where(col(StoredResponse.state) == IdempotencyState.IN_FLIGHT)
            .where(col(StoredResponse.holder) == record.holder)
            .values(holder=holder, request_sha256=request_sha256, created_at=now)
        )
    if taken.rowcount != 1:
        return None
    return record.model_copy(
        update={"holder": holder, "request_sha256": request_sha256, "created_at": now}
    )


def finish(engine: Engine, reservation: StoredResponse, *, status: int, body: str) -> bool:
    """Store the response of the request holding ``reservation``, in one statement; False when
    it no longer holds it (it was taken over after ``RESERVATION_TTL``)."""
    with engine.begin() as connection:
        done = connection.execute(
            update(StoredResponse)
            .where(col(StoredResponse.id) == reservation.id)
            .where(col(StoredResponse.holder) == reservation.holder)
            .where(col(StoredResponse.state) == IdempotencyState.IN_FLIGHT)
            .values(
                state=IdempotencyState.FINISHED,
                status=status,
                body=body,
                holder=None,
                finished_at=_now(),
            )
        )
    return done.rowcount == 1


def release(engine: Engine, reservation: StoredResponse) -> None:
    """Free the key of a request that stored no response (a retry may run); a no-op when it
    no longer holds it."""
    with engine.begin() as connection:
        connection.execute(
            delete(StoredResponse)
            .where(col(StoredResponse.id) == reservation.id)
            .where(col(StoredResponse.holder) == reservation.holder)
            .where(col(StoredResponse.state) == IdempotencyState.IN_FLIGHT)
        )
