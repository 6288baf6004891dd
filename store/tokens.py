"""API tokens: bearer secrets, stored only as hashes, each with one role.

A token reads ``bf_<id>.<secret>``: the id finds the row, the secret is checked against its
SHA-256 in constant time. The plain token is shown once, when it is created, and never stored.
"""

import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select


class Role(StrEnum):
    OPS = "ops"
    """Start, amend, cancel and resolve shipments; record milestones."""
    SUPPORT = "support"
    """Read shipments."""
    FINANCE = "finance"
    """Read shipments and invoices."""
    ADMIN = "admin"
    """Everything, plus the webhook inbox and tokens."""
    CODEC = "codec"
    """Decode payloads on the codec server, nothing else: every API route refuses it (403)."""


class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: str = Field(primary_key=True, max_length=32)
    name: str = Field(max_length=200)
    role: str = Field(max_length=16)
    secret_sha256: str = Field(max_length=64)
    created_at: datetime
    revoked_at: datetime | None = None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(engine: Engine, role: Role, name: str) -> tuple[ApiToken, str]:
    """A new token for ``role``; returns the row and the plain token (shown once)."""
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    row = ApiToken(id=token_id, name=name, role=role, secret_sha256=_digest(secret),
                   created_at=datetime.now(UTC))  # fmt: skip
    with Session(engine, expire_on_commit=False) as session:
        session.add(row)
        session.commit()
    return row, f"bf_{token_id}.{secret}"


TOKEN_FORMAT = re.compile(r"bf_([0-9a-f]{1,32})\.([A-Za-z0-9_-]{1,256})")
"""What a token can look like: ``bf_<hex id>.<url-safe secret>``, ASCII only."""


def authenticate(engine: Engine, token: str) -> ApiToken | None:
    """The live token matching ``token``, or ``None``.

    Anything that is not a well-formed token (non-ASCII text, bytes that were not UTF-8 and
    reached us surrogate-escaped, an id longer than the column) is ``None`` without a look-up.
    """
    matched = TOKEN_FORMAT.fullmatch(token)
    if matched is None:
        return None
    token_id, secret = matched.groups()
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return None
    return row if hmac.compare_digest(row.secret_sha256, _digest(secret)) else None


def revoke_token(engine: Engine, token_id: str) -> bool:
    with Session(engine) as session:
        row = session.get(ApiToken, token_id)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = datetime.now(UTC)
        session.add(row)
        session.commit()
        return True


def list_tokens(engine: Engine) -> list[ApiToken]:
    with Session(engine, expire_on_commit=False) as session:
        return list(session.exec(select(ApiToken).order_by(col(ApiToken.created_at))))
