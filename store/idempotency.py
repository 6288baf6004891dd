"""Idempotency keys for our own API (Stripe semantics).

The first request with a key stores its response; a repeat with the same key and the same body
gets that response again; the same key with a different body is refused. Keys are scoped to the
caller (its token), so two callers cannot collide.
"""

import hashlib
from datetime import UTC, datetime

from sqlalchemy import UniqueConstraint
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, select


class StoredResponse(SQLModel, table=True):
    __tablename__ = "idempotent_response"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotent_scope_key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=64)
    key: str = Field(max_length=255)
    request_sha256: str = Field(max_length=64)
    status: int
    body: str
    created_at: datetime


def request_digest(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()


def find_response(engine: Engine, scope: str, key: str) -> StoredResponse | None:
    with Session(engine, expire_on_commit=False) as session:
        return session.exec(
            select(StoredResponse).where(StoredResponse.scope == scope, StoredResponse.key == key)
        ).first()


def keep_response(
    engine: Engine, *, scope: str, key: str, request_sha256: str, status: int, body: str
) -> StoredResponse:
    """Store the first response for ``key``; a concurrent first wins and is returned."""
    row = StoredResponse(scope=scope, key=key, request_sha256=request_sha256, status=status,
                         body=body, created_at=datetime.now(UTC))  # fmt: skip
    try:
        with Session(engine, expire_on_commit=False) as session:
            session.add(row)
            session.commit()
            return row
    except IntegrityError:
        existing = find_response(engine, scope, key)
        assert existing is not None
        return existing
