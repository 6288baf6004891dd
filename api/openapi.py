"""The OpenAPI 3.1 document of the API, built from the route table and the pydantic models.

``OPERATIONS`` lists every route the app serves (a test checks it against the app's router);
schemas come from ``model_json_schema`` of the request, query and response models, with every
``$defs`` entry moved to ``#/components/schemas``. Who may call what comes from
``api/auth.py``. ``borderflow openapi`` writes the document to ``docs/openapi.json``;
``--check`` (and a test) fails when that copy is stale.
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema
from pydantic_core import core_schema

from api.auth import PERMISSIONS, PUBLIC
from api.responses import (
    AuditPage,
    AuditQuery,
    Health,
    InboxListQuery,
    InboxPage,
    Problem,
    ReconciliationQuery,
    ReconciliationReports,
    ReconciliationTriggered,
    Replayed,
    ShipmentView,
    Timeline,
    WebhookReceipt,
)
from api.shipment_actions import REQUESTS
from api.shipment_list import ShipmentListQuery, ShipmentPage
from api.shipments import ManualEvent
from api.webhook_partners import SCHEME_DOCS, WEBHOOK_PARTNERS
from workflows.models import ShipmentInput

DOCUMENT_PATH = Path("docs/openapi.json")
REF = "#/components/schemas/{model}"
PROBLEM_REF = {"$ref": REF.format(model="Problem")}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Makes a retry safe: the same key and body are answered as the first time.",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
}  # fmt: skip
PROBLEM_TITLES = {
    400: "Malformed request (not JSON, bad header or query)",
    401: "No valid bearer token (or, for webhooks, no valid signature)",
    403: "The token's role may not use this route (for webhooks: the client address is not "
    "one of the partner's sources)",
    404: "No such shipment, partner or inbox message",
    409: "The current state refuses it: the shipment's stage, the shipment has ended, or the "
    "`Idempotency-Key`'s first request is still running (retry after `Retry-After` seconds)",
    413: "Request body too large",
    422: "Invalid fields, each named in `errors`",
    429: "Over a rate limit (the token's, the partner's or the client address's); retry after "
    "`Retry-After` seconds",
    502: "The shipment's status query failed",
    503: "Temporal, a worker or the store did not answer; when the workflow side cannot answer "
    "now, retry after `Retry-After` seconds",
    504: "The request took longer than the request time limit",
}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    tag: str
    summary: str
    ok: dict[int, type[BaseModel] | None]
    """Success statuses and their JSON body (``None``: described in ``ok_content``)."""
    problems: tuple[int, ...] = ()
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    headers: tuple[dict[str, Any], ...] = ()
    description: str = ""
    ok_content: dict[str, Any] = field(default_factory=dict)
    example: dict[str, Any] | None = None
    """A request body that is accepted."""
    path_values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The values a path parameter may take, when they are a fixed set."""


def _webhook_credentials() -> tuple[dict[str, Any], ...]:
    """One parameter per place a declared partner's credential travels, naming who uses it."""
    users: dict[tuple[str, str, str], list[str]] = {}
    for partner in WEBHOOK_PARTNERS:
        doc = SCHEME_DOCS[partner.scheme]
        users.setdefault((doc.location, doc.parameter, doc.description), []).append(partner.name)
    return tuple(
        {"name": parameter, "in": location, "required": False,
         "description": f"{description}; sent by " + ", ".join(f"`{n}`" for n in names),
         "schema": {"type": "string"}}
        for (location, parameter, description), names in users.items()
    )  # fmt: skip


WEBHOOK_DESCRIPTION = (
    "The body is the partner's own format; how each partner authenticates is in the "
    "parameters (`partner`: "
    + ", ".join(f"`{p.name}` {p.scheme}" for p in WEBHOOK_PARTNERS)
    + "); during a secret rotation two secrets are valid. 404 also for a declared partner "
    "whose secret is not configured; 403 when the client address is not one of the partner's "
    "sources. 200: signalled (or a redelivery); 202: stored, delivered later, kept as a dead "
    "letter, or kept as `late` (its shipment had ended)."
)


ACTIONS = {
    "cancel": (
        "Cancel the shipment; what was done is undone, in reverse",
        {"reason": "the customer withdrew the order"},
    ),
    "amend": (
        "Change the consignee, promised date or service level",
        {"promised_date": "2026-12-24T12:00:00+01:00", "reason": "customer asked"},
    ),
    "resolve": (
        "Resolve an exception (book a carrier) or a customs hold",
        {"kind": "exception", "note": "DHL confirmed by phone", "carrier": "dhl"},
    ),
    "rebook": (
        "Cancel the current carrier booking and book another carrier",
        {"carrier": "dhl", "reason": "EasyPost missed the pickup"},
    ),
}
PACKAGE = {"weight_kg": "2.5", "length_cm": "40", "width_cm": "30", "height_cm": "20"}
UPDATE_PROBLEMS = (400, 404, 409, 413, 422, 503)
OPERATIONS: tuple[Operation, ...] = (
    Operation("GET", "/healthz", "health", "The process is up", {200: Health}),
    Operation("GET", "/readyz", "health", "Temporal and the store answer", {200: Health}, (503,)),
    Operation("GET", "/openapi.json", "docs", "This document", {200: None},
              ok_content={"application/json": {"schema": {"type": "object"}}}),
    Operation("GET", "/docs", "docs", "This document as a readable page", {200: None},
              ok_content={"text/html": {"schema": {"type": "string"}}}),
    Operation("POST", "/v1/shipments", "shipments", "Start the shipment of a sale order",
              {201: ShipmentView, 200: ShipmentView}, (400, 409, 413, 422, 503),
              body=ShipmentInput, headers=(IDEMPOTENCY_KEY,),
              description="Workflow update-with-start `accept`: the order is read and confirmed "
                          "before the answer. 201 when new; 200 with the existing shipment of "
                          "that order; 422 when the order cannot ship. With `Idempotency-Key` "
                          "the key is reserved before anything starts: 409 (with `Retry-After`) "
                          "while its first request runs; then the first answer again "
                          "(`Idempotent-Replayed: true`), or 422 for another body. A 5xx frees "
                          "the key.",
              example={"order_ref": "S00001", "packages": [PACKAGE], "carrier": "easypost",
                       "service_level": "standard"}),
    Operation("GET", "/v1/shipments", "shipments", "List shipments, filtered and paged",
              {200: ShipmentPage}, (422, 503), query=ShipmentListQuery),
    Operation("GET", "/v1/shipments/{shipment_id}", "shipments", "A shipment's status",
              {200: ShipmentView}, (404, 502, 503)),
    Operation("GET", "/v1/shipments/{shipment_id}/timeline", "shipments",
              "Stages and partner events in time order", {200: Timeline}, (404, 502, 503)),
    Operation("POST", "/v1/shipments/{shipment_id}/events", "actions",
              "Record a milestone by hand", {200: ShipmentView}, UPDATE_PROBLEMS,
              body=ManualEvent, headers=(IDEMPOTENCY_KEY,),
              description="Workflow update `record_milestone`.",
              example={"milestone": "EXCEPTION", "reason": "parcel damaged at the hub"}),
    *(Operation("POST", f"/v1/shipments/{{shipment_id}}/{name}", "actions", summary,
                {200: ShipmentView}, UPDATE_PROBLEMS, body=REQUESTS[name], example=example,
                description=f"Workflow update `{name}`; `actor` is the caller's token.")
      for name, (summary, example) in ACTIONS.items()),
    Operation("POST", "/v1/webhooks/{partner}", "webhooks", "A partner's signed event payload",
              {200: WebhookReceipt, 202: WebhookReceipt}, (400, 401, 403, 404, 413, 422, 429),
              headers=_webhook_credentials(), description=WEBHOOK_DESCRIPTION,
              path_values={"partner": tuple(p.name for p in WEBHOOK_PARTNERS)}),
    Operation("GET", "/v1/inbox", "inbox", "Stored partner payloads and their fate",
              {200: InboxPage}, (400,), query=InboxListQuery),
    Operation("POST", "/v1/inbox/{message_id}/replay", "inbox", "Deliver a payload again",
              {200: Replayed}, (404,),
              description="One delivery attempt now, counted in `attempts` and `replays`; "
                          "`outcome` is what it found. A delivered message stays `delivered`."),
    Operation("GET", "/v1/reconciliation", "reconciliation", "The latest reconciliation reports",
              {200: ReconciliationReports}, (400,), query=ReconciliationQuery),
    Operation("GET", "/v1/audit", "audit", "The audit trail: partner calls and ops actions",
              {200: AuditPage}, (400,), query=AuditQuery),
    Operation("GET", "/metrics", "health", "Prometheus metrics of this API process", {200: None},
              ok_content={"text/plain": {"schema": {"type": "string"}}}),
    Operation("POST", "/v1/reconciliation/run", "reconciliation", "Reconcile now",
              {202: ReconciliationTriggered}, (409, 503),
              description="409 when no worker has created the schedule yet."),
)  # fmt: skip


def _not_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a value: drop the ``null`` branch of an optional."""
    options = [s for s in schema.get("anyOf", []) if s != {"type": "null"}]
    if len(options) == 1 and "anyOf" in schema:
        rest = {k: v for k, v in schema.items() if k not in ("anyOf", "default")}
        return {**options[0], **rest}
    return schema


class _Generator(GenerateJsonSchema):
    """Decimals given as strings are documented with the syntax they must have."""

    def get_decimal_pattern(self, schema: core_schema.DecimalSchema) -> str | None:
        return self.build_decimal_pattern(schema)


class _Schemas:
    """Every model's JSON schema, with one shared set of components."""

    def __init__(self, operations: tuple[Operation, ...]) -> None:
        wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Problem, "serialization")]
        for op in operations:
            wanted += [(m, "serialization") for m in op.ok.values() if m is not None]
            wanted += [(m, "validation") for m in (op.body, op.query) if m is not None]
        keyed, defs = models_json_schema(
            list(dict.fromkeys(wanted)), ref_template=REF, schema_generator=_Generator
        )
        self.refs = keyed
        self.components: dict[str, Any] = dict(sorted(defs.get("$defs", {}).items()))

    def ref(self, model: type[BaseModel], mode: JsonSchemaMode) -> dict[str, Any]:
        return dict(self.refs[(model, mode)])

    def properties(self, model: type[BaseModel]) -> tuple[dict[str, Any], set[str]]:
        target = self.ref(model, "validation")["$ref"].rsplit("/", 1)[1]
        schema = self.components[target]
        return schema.get("properties", {}), set(schema.get("required", []))


def _path_schema(op: Operation, name: str) -> dict[str, Any]:
    if name in op.path_values:
        return {"type": "string", "enum": list(op.path_values[name])}
    return {"type": "string", "minLength": 1}


def _parameters(op: Operation, schemas: _Schemas) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(op, name)}
        for name in re.findall(r"{(\w+)}", op.path)
    ]
    if op.query is not None:
        properties, required = schemas.properties(op.query)
        for name, schema in properties.items():
            param = {"name": name, "in": "query", "required": name in required,
                     "schema": _not_null(schema)}  # fmt: skip
            if "description" in schema:
                param["description"] = schema["description"]
            params.append(param)
    return params + [dict(header) for header in op.headers]


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", path.lower()).strip("_")


def _problem(status: int) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": PROBLEM_TITLES[status],
        "content": {"application/problem+json": {"schema": PROBLEM_REF}},
    }
    if status in (429, 503):
        response["headers"] = {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}
    return response


def _operation(op: Operation, schemas: _Schemas) -> dict[str, Any]:
    public = op.path in PUBLIC
    problems = set(op.problems) | {429, 504}  # 429: the per-client-address limits, too
    if not public:
        problems |= {401, 403}
    roles = sorted(PERMISSIONS.get((op.method, op.path), ()))
    who = "Anyone." if public else f"Roles: {', '.join(roles)}."
    responses: dict[str, Any] = {}
    for status, model in sorted(op.ok.items()):
        content = op.ok_content or {
            "application/json": {"schema": schemas.ref(model, "serialization")} if model else {}
        }
        responses[str(status)] = {"description": "OK", "content": content}
    responses.update({str(status): _problem(status) for status in sorted(problems)})
    spec: dict[str, Any] = {
        "operationId": f"{op.method.lower()}_{_slug(op.path)}",
        "tags": [op.tag],
        "summary": op.summary,
        "description": f"{op.description} {who}".strip(),
        "parameters": _parameters(op, schemas),
        "responses": responses,
        "security": [] if public else [{"bearer": []}],
    }
    if op.body is not None:
        media: dict[str, Any] = {"schema": schemas.ref(op.body, "validation")}
        if op.example is not None:
            media["example"] = op.example
        spec["requestBody"] = {"required": True, "content": {"application/json": media}}
    elif op.path == "/v1/webhooks/{partner}":
        spec["requestBody"] = {
            "required": True, "content": {"application/json": {"schema": {"type": "object"}}},
        }  # fmt: skip
    return spec


def build_document(operations: tuple[Operation, ...] = OPERATIONS) -> dict[str, Any]:
    """The OpenAPI 3.1 document (deterministic: the same code gives the same bytes)."""
    schemas = _Schemas(operations)
    paths: dict[str, dict[str, Any]] = {}
    for op in operations:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, schemas)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Borderflow API",
            "version": "1",
            "description": "Start and operate cross-border shipments; receive partner webhooks. "
            "Every error is `application/problem+json` (RFC 9457). Rate limits and the request "
            "time limit are enforced per API process.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token `bf_<id>.<secret>` (`borderflow token create`).",
                },
            },
        },
    }


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def is_stale(path: Path = DOCUMENT_PATH) -> bool:
    """True when the committed copy differs from what the code builds now."""
    return not path.exists() or path.read_text() != render(build_document())


def write_document(path: Path = DOCUMENT_PATH) -> bool:
    """(Re)write the committed copy; True when it changed."""
    if not is_stale(path):
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(build_document()))
    return True
