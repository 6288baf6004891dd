"""The shapes the API answers with, as pydantic models: the OpenAPI document is built from them.

Handlers that predate these models build the same JSON by hand; the schemathesis suite
(``tests/api/test_schemathesis.py``) checks every answer against these schemas.
"""

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from activities.reconcile_models import ReconciliationReport
from store.inbox import InboxState
from workflows.models import ShipmentStatus


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow", use_attribute_docstrings=True)

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None
    """422: every invalid field, named."""
    code: str | None = None
    """An ops action the workflow refused: its error type (``NotAllowedNow``, …)."""


class Health(BaseModel):
    status: str


class ShipmentView(ShipmentStatus):
    """The shipment's status, with links."""

    status_url: str
    ui_url: str


class TimelineItem(BaseModel):
    """A stage reached (``kind`` stage) or a partner event (``kind`` event)."""

    at: AwareDatetime
    kind: str
    stage: str | None = None
    milestone: str | None = None
    classifier: str | None = None
    partner: str | None = None
    event_id: str | None = None
    reason: str | None = None
    retracted: bool | None = None
    retracts: str | None = None


class Timeline(BaseModel):
    shipment_id: str
    entries: list[TimelineItem]


class InboxListQuery(BaseModel):
    """The query string of ``GET /v1/inbox``."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    state: InboxState | None = None
    after: int = Field(default=0, ge=0, le=2**31 - 1)
    """The last ``id`` of the previous page."""
    limit: int = Field(default=50, ge=1, le=200)


class InboxItem(BaseModel):
    """A stored partner payload: what became of it, and the history of its deliveries."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    id: int
    partner: str
    dedupe_key: str
    state: InboxState
    """Its fate. Once ``delivered`` it stays so, whatever a later replay finds."""
    shipment_id: str | None
    reason: str | None
    """Why the last attempt did not deliver it (``null`` when it did)."""
    attempts: int
    """Delivery attempts: the first, the redelivery loop's and replays."""
    last_outcome: InboxState | None
    """The last attempt's outcome (``null``: stored as it is, never attempted)."""
    delivered_at: AwareDatetime | None
    """When an attempt first delivered it."""
    deliveries: int
    """How many attempts delivered it."""
    replays: int
    """How many times an admin replayed it."""
    replayed_at: AwareDatetime | None
    """When an admin last replayed it."""
    received_at: AwareDatetime
    updated_at: AwareDatetime
    """When the last attempt ended."""
    size: int
    """The stored body's size in bytes."""


class InboxPage(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[InboxItem]
    next_after: int | None
    """Pass it as ``after`` for the next page; ``null`` on the last page."""


class Replayed(InboxItem):
    """The message after the replay (one attempt, counted in ``attempts`` and ``replays``)."""

    outcome: InboxState
    """What this attempt found: ``delivered``, ``late`` (the shipment has ended), ``dead``,
    ``ignored``, or ``received`` (not now: the redelivery loop retries it, unless it had been
    delivered before)."""


class WebhookReceipt(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    inbox_id: int | None
    duplicate: bool
    state: InboxState
    received: int | None = None
    """How many events the payload carried (first delivery only)."""


class ReconciliationQuery(BaseModel):
    """The query string of ``GET /v1/reconciliation``."""

    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=10, ge=1, le=100)


class ReconciliationReports(BaseModel):
    items: list[ReconciliationReport]
    """The newest reports first."""

    model_config = ConfigDict(use_attribute_docstrings=True)


class ReconciliationTriggered(BaseModel):
    schedule_id: str
    triggered: bool


class AuditQuery(BaseModel):
    """The query string of ``GET /v1/audit``."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    shipment: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
    """Keep one shipment's entries (a shipment id, e.g. ``shipment-S00001``)."""
    after: int = Field(default=0, ge=0, le=2**31 - 1)
    """The last ``id`` of the previous page."""
    limit: int = Field(default=50, ge=1, le=200)


class AuditItem(BaseModel):
    """One audit entry: a partner call attempt, or an ops action (personal data masked)."""

    id: int
    at: str
    kind: str
    shipment_id: str | None
    operation: str
    outcome: str
    trace_id: str | None
    partner: str | None
    idempotency_key: str | None
    attempt: int | None
    latency_ms: int | None
    request_summary: object | None
    token_id: str | None
    role: str | None
    before: object | None
    after: object | None


class AuditPage(BaseModel):
    items: list[AuditItem]
    next_after: int | None
