"""The audit trail: every partner side effect and every ops action, append-only.

Guarantees:
- append-only: this module has no update or delete, and the database refuses both (triggers
  on SQLite and PostgreSQL, created by the store's migrations: ``store/migrations``), so an
  entry, once written, stays as written;
- no personal data or secret is stored: request summaries and before/after states are
  masked (:mod:`observability.masking`) before they are written;
- each partner call attempt is one entry (a retried activity leaves one per attempt) with its
  idempotency key ``<workflow_id>:<activity_type>``, outcome (``ok`` or the error type),
  latency and trace id; each ops action is one entry with who (token id, role), what,
  and the shipment before and after.

An entry is written as one Core ``INSERT`` on ``audit_entry`` (no ORM session or unit of
work), in its own transaction, its id read back with ``RETURNING``.
"""

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, Table, Text, insert
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, col, select

from observability.masking import mask
from observability.tracing import current_trace_id

MAX_STATE_CHARS = 4000


class AuditKind(StrEnum):
    PARTNER_CALL = "partner_call"
    """An activity ran against a partner (one entry per attempt)."""
    OPS_ACTION = "ops_action"
    """Someone with an API token changed a shipment."""


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    kind: str = Field(max_length=16)
    shipment_id: str | None = Field(default=None, max_length=128, index=True)
    operation: str = Field(max_length=100)
    """The activity type of a partner call; the action of an ops action."""
    outcome: str = Field(max_length=100)
    """``ok``, or the error type (a partner call that failed)."""
    trace_id: str | None = Field(default=None, max_length=32)
    partner: str | None = Field(default=None, max_length=64)
    idempotency_key: str | None = Field(default=None, max_length=300)
    attempt: int | None = None
    latency_ms: int | None = None
    request_summary: str | None = Field(default=None, sa_column=Column(Text))
    """Masked, short JSON of the call's input."""
    token_id: str | None = Field(default=None, max_length=32)
    role: str | None = Field(default=None, max_length=16)
    before: str | None = Field(default=None, sa_column=Column(Text))
    """Masked JSON of the shipment (or what the action touched) before the action."""
    after: str | None = Field(default=None, sa_column=Column(Text))


_TABLE: Table = SQLModel.metadata.tables[AuditEntry.__tablename__]
_INSERT = insert(_TABLE).returning(_TABLE.c.id)
"""Values given as parameters: the statement compiles once per column set (SQLAlchemy's
statement cache), not once per entry."""


def _append(store: Engine, **values: Any) -> int:
    """Insert one entry (a single Core ``INSERT``, committed) and return its id."""
    with store.begin() as connection:
        return int(connection.execute(_INSERT, values).scalar_one())


def _state(value: Any) -> str | None:
    if value is None:
        return None
    text = json.dumps(mask(value), ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= MAX_STATE_CHARS else text[: MAX_STATE_CHARS - 1] + "…"


def record_partner_call(
    store: Engine, *, shipment_id: str | None, partner: str, operation: str,
    idempotency_key: str | None, attempt: int, request_summary: str, outcome: str,
    latency_ms: int, trace_id: str | None,
) -> int:  # fmt: skip
    """Append one partner call attempt (``request_summary`` must be masked already); its id."""
    return _append(
        store, at=datetime.now(UTC), kind=AuditKind.PARTNER_CALL.value, shipment_id=shipment_id,
        partner=partner, operation=operation, idempotency_key=idempotency_key, attempt=attempt,
        request_summary=request_summary, outcome=outcome, latency_ms=latency_ms,
        trace_id=trace_id,
    )  # fmt: skip


def record_ops_action(
    store: Engine,
    token_id: str | None,
    role: str | None,
    action: str,
    shipment_id: str | None,
    before: Any,
    after: Any,
    *,
    outcome: str = "ok",
) -> int:
    """Append one ops action, masking ``before``/``after`` (models, dicts or ``None``); its id.

    The trace id is the current span's (the API request's). Blocking: call it from the API
    with ``asyncio.to_thread``.
    """
    return _append(
        store, at=datetime.now(UTC), kind=AuditKind.OPS_ACTION.value, shipment_id=shipment_id,
        operation=action, outcome=outcome, token_id=token_id, role=role,
        before=_state(before), after=_state(after), trace_id=current_trace_id(),
    )  # fmt: skip


def list_entries(
    store: Engine, *, shipment_id: str | None = None, after_id: int = 0, limit: int = 50
) -> list[AuditEntry]:
    """Entries in the order they were written, optionally of one shipment, after a cursor."""
    with Session(store, expire_on_commit=False) as session:
        query = select(AuditEntry).where(col(AuditEntry.id) > after_id)
        if shipment_id is not None:
            query = query.where(AuditEntry.shipment_id == shipment_id)
        return list(session.exec(query.order_by(col(AuditEntry.id)).limit(limit)))


def entry_view(entry: AuditEntry) -> dict[str, Any]:
    """An entry as JSON-ready data (states and summaries parsed back to JSON)."""
    view = entry.model_dump(mode="json")
    for key in ("request_summary", "before", "after"):
        text = view.get(key)
        if text:
            try:
                view[key] = json.loads(text)
            except ValueError:  # a summary cut at its length limit stays text
                pass
    return view
