"""``GET /v1/shipments``: shipments found through Temporal visibility, filtered and paged.

The filters become a visibility query on the search attributes the workflow upserts
(``workflows/models.py``). Every value is validated against a strict pattern first (422
otherwise) and then quoted; nothing from the request reaches the query unchecked.

The cursor is Temporal's ``next_page_token``, prefixed with a MAC over the query it belongs
to, base64url-encoded. A cursor that this API did not issue for the same filters is refused
(422) before Temporal sees it.
"""

import base64
import binascii
import hashlib
import hmac
import secrets
from datetime import timedelta

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from temporalio.client import Client, WorkflowExecution
from temporalio.service import RPCError

from api.problems import problem, validation_problem
from api.unavailable import unavailable
from canonical.codes import OrderRef
from canonical.shipment import Stage
from workflows.client import ui_link
from workflows.models import CARRIER, LANE, ORDER_REF, SHIPMENT_STATUS, SLA_BREACHED

MAX_LIMIT = 200
LIST_TIMEOUT = timedelta(seconds=10)
CARRIER_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
LANE_PATTERN = r"^[A-Z]{2}-[A-Z]{2}$"
WORKFLOW_TYPE = "ShipmentWorkflow"
MAC_BYTES = 16
CURSOR_CHARS = -(-(MAC_BYTES + 1) * 4 // 3)
CURSOR_PATTERN = rf"^[A-Za-z0-9_-]{{{CURSOR_CHARS},}}$"
"""Unpadded base64url of a MAC and at least one byte of page token: 23 characters or more."""


class ShipmentListQuery(BaseModel):
    """The query string of ``GET /v1/shipments``."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    status: Stage | None = None
    """The shipment's stage."""
    carrier: str | None = Field(default=None, pattern=CARRIER_PATTERN)
    """The carrier booked, e.g. ``dhl``."""
    lane: str | None = Field(default=None, pattern=LANE_PATTERN)
    """Origin and destination countries, e.g. ``DE-US``."""
    breached: bool | None = None
    """Only shipments whose SLA is (true) or is not (false) breached."""
    order_ref: OrderRef | None = None
    """The Odoo sale order name."""
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    """Page size, at most 200."""
    cursor: str | None = Field(default=None, pattern=CURSOR_PATTERN, max_length=4096)
    """``next_cursor`` of the previous page (with the same filters)."""


class ShipmentSummary(BaseModel):
    shipment_id: str
    order_ref: str | None
    stage: str | None
    carrier: str | None
    lane: str | None
    sla_breached: bool
    started_at: AwareDatetime
    ui_url: str


class ShipmentPage(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    items: list[ShipmentSummary]
    next_cursor: str | None
    """Pass it as ``cursor`` for the next page; ``null`` on the last page."""


def literal(value: str) -> str:
    """A quoted visibility-query string literal; refuses what could break out of it."""
    if not value or not value.isprintable() or any(ch in value for ch in "'\"\\`"):
        raise ValueError(f"not a safe query value: {value!r}")
    return f"'{value}'"


def visibility_query(filters: ShipmentListQuery) -> str:
    """The Temporal list filter for ``filters`` (values already validated by the model)."""
    clauses = [f"WorkflowType = {literal(WORKFLOW_TYPE)}"]
    keyword_filters = (
        (SHIPMENT_STATUS.name, filters.status.value if filters.status else None),
        (CARRIER.name, filters.carrier),
        (LANE.name, filters.lane),
        (ORDER_REF.name, filters.order_ref),
    )
    for name, value in keyword_filters:
        if value is not None:
            clauses.append(f"{name} = {literal(value)}")
    if filters.breached is True:
        clauses.append(f"{SLA_BREACHED.name} = true")
    elif filters.breached is False:  # shipments that never set it have not breached either
        clauses.append(f"({SLA_BREACHED.name} = false OR {SLA_BREACHED.name} IS NULL)")
    return " AND ".join(clauses)


class Cursors:
    """Seals visibility page tokens to the query they continue."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def _mac(self, query: str, token: bytes) -> bytes:
        message = query.encode() + b"\0" + token
        return hmac.new(self._key, message, hashlib.sha256).digest()[:MAC_BYTES]

    def seal(self, query: str, token: bytes) -> str:
        return base64.urlsafe_b64encode(self._mac(query, token) + token).decode().rstrip("=")

    def open(self, query: str, cursor: str) -> bytes | None:
        """The page token, or ``None`` when the cursor was not issued for this query."""
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        except (binascii.Error, ValueError):
            return None
        mac, token = raw[:MAC_BYTES], raw[MAC_BYTES:]
        if not token or not hmac.compare_digest(mac, self._mac(query, token)):
            return None
        return token


class ShipmentList:
    def __init__(self, client: Client, *, namespace: str, ui_url: str, cursors: Cursors) -> None:
        self._client = client
        self._namespace = namespace
        self._ui_url = ui_url
        self._cursors = cursors

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/v1/shipments", self.list)

    async def list(self, request: web.Request) -> web.Response:
        """One page of shipments matching every filter given, in Temporal's visibility order."""
        try:
            filters = ShipmentListQuery.model_validate(dict(request.query))
        except ValidationError as err:
            return validation_problem(err)
        query = visibility_query(filters)
        token = None
        if filters.cursor is not None:
            token = self._cursors.open(query, filters.cursor)
            if token is None:
                return problem(422, "Invalid cursor",
                               "the cursor was not issued for these filters")  # fmt: skip
        pages = self._client.list_workflows(
            query, page_size=filters.limit, next_page_token=token, rpc_timeout=LIST_TIMEOUT
        )
        try:
            await pages.fetch_next_page()
        except RPCError as err:
            not_now = unavailable(err, "Shipment list unavailable", "Temporal did not answer")
            if not_now is None:
                raise
            return not_now
        found = list(pages.current_page or [])
        more = pages.next_page_token if len(found) == filters.limit else None
        page = ShipmentPage(
            items=[self._summary(execution) for execution in found],
            next_cursor=self._cursors.seal(query, more) if more else None,
        )
        return web.json_response(page.model_dump(mode="json"))

    def _summary(self, execution: WorkflowExecution) -> ShipmentSummary:
        attributes = execution.typed_search_attributes
        return ShipmentSummary(
            shipment_id=execution.id,
            order_ref=attributes.get(ORDER_REF),
            stage=attributes.get(SHIPMENT_STATUS),
            carrier=attributes.get(CARRIER),
            lane=attributes.get(LANE),
            sla_breached=bool(attributes.get(SLA_BREACHED)),
            started_at=execution.start_time,
            ui_url=ui_link(self._ui_url, self._namespace, execution.id),
        )
