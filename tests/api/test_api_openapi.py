"""The OpenAPI document: complete, resolvable, committed up to date, served with a /docs page."""

import json
import re
import subprocess
import sys
from html import escape
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import schemathesis
from live import LiveApi
from temporalio.client import Client
from tests_support import migrated_engine

from api.app import create_app
from api.openapi import OPERATIONS, build_document, is_stale, render
from api.settings import ApiSettings

ROOT = Path(__file__).parent.parent.parent
BORDERFLOW = str(Path(sys.executable).parent / "borderflow")


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


async def test_every_route_the_app_serves_is_documented_and_nothing_else(
    temporal: Client, tmp_path: Path
) -> None:
    settings = ApiSettings(_env_file=None, easypost_webhook_secret="s",  # type: ignore[call-arg]
                           broker_webhook_secret="s")  # fmt: skip
    app = create_app(settings, temporal, migrated_engine(f"sqlite:///{tmp_path / 'store.db'}"))
    served = {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.method != "HEAD" and route.resource is not None
    }
    documented = {(op.method, op.path) for op in OPERATIONS}
    assert served == documented


def test_every_reference_resolves_and_no_defs_are_left() -> None:
    document = build_document()
    text = json.dumps(document)
    assert '"$defs"' not in text
    schemas = document["components"]["schemas"]
    targets = set(refs(document))
    assert targets, "the document references its schemas"
    for target in targets:
        assert target.startswith("#/components/schemas/"), target
        assert target.rsplit("/", 1)[1] in schemas, target
    ops = document["paths"]["/v1/shipments/{shipment_id}/cancel"]["post"]
    body = ops["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert set(schemas[body.rsplit("/", 1)[1]]["properties"]) == {"reason"}  # no actor
    assert ops["security"] == [{"bearer": []}] and "Roles: admin, ops." in ops["description"]
    assert document["paths"]["/healthz"]["get"]["security"] == []
    listing = document["paths"]["/v1/shipments"]["get"]
    names = [p["name"] for p in listing["parameters"]]
    assert names == ["status", "carrier", "lane", "breached", "order_ref", "limit", "cursor"]
    problem = listing["responses"]["422"]["content"]["application/problem+json"]["schema"]
    assert problem == {"$ref": "#/components/schemas/Problem"}
    assert "Retry-After" in listing["responses"]["429"]["headers"]


def test_schemathesis_reads_it_as_openapi_3_1() -> None:
    schema = schemathesis.openapi.from_dict(build_document())
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) == len(OPERATIONS)


def test_the_committed_copy_is_current() -> None:
    assert not is_stale(ROOT / "docs" / "openapi.json"), "run `borderflow openapi`"


def test_borderflow_openapi_writes_and_checks(tmp_path: Path) -> None:
    path = tmp_path / "openapi.json"
    path.write_text("{}\n")
    stale = subprocess.run([BORDERFLOW, "openapi", "--check", "--out", str(path)],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert stale.returncode == 1 and stale.stderr.count("\n") == 1 and "stale" in stale.stderr
    written = subprocess.run([BORDERFLOW, "openapi", "--out", str(path)],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert written.returncode == 0 and path.read_text() == render(build_document())
    fresh = subprocess.run([BORDERFLOW, "openapi", "--check", "--out", str(path)],
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    assert fresh.returncode == 0, fresh.stderr


async def test_the_document_and_the_docs_page_are_served_without_a_token(api: LiveApi) -> None:
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        served = await http.get("/openapi.json")
        page = await http.get("/docs")
    assert served.status_code == 200 and served.json() == build_document()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    # self-contained: nothing is fetched from elsewhere
    for outside in ("<script", "<link", "src=", "@import", "url("):
        assert outside not in html, outside
    assert not re.findall(r'href="(?!#|/openapi\.json)', html)
    # readable: every operation and schema is there, and every link lands
    document = build_document()
    for path in document["paths"]:
        assert f">{escape(path)}<" in html, path
    anchors = set(re.findall(r'id="([^"]+)"', html))
    for schema in document["components"]["schemas"]:
        assert f"schema-{schema}" in anchors
    assert set(re.findall(r'href="#([^"]+)"', html)) <= anchors


def test_every_documented_example_is_a_body_the_api_accepts() -> None:
    examples = [op for op in OPERATIONS if op.example is not None]
    assert len(examples) == 6
    for op in examples:
        assert op.body is not None
        op.body.model_validate_json(json.dumps(op.example))


def _body_schema(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    media = document["paths"][path][method]["requestBody"]["content"]["application/json"]
    return {**media["schema"], "components": document["components"]}


def test_the_document_takes_exactly_what_the_api_takes() -> None:
    """Every body here is valid for the published schema iff the API's model takes it (an
    amendment naming nothing to change, which the schema also refuses, is refused by the
    workflow: 422 ``InvalidUpdate``, see test_api_actions.py). One rule JSON Schema cannot state:
    an address's subdivision and UN/LOCODE belong to its country (see test_api_schemathesis.py)."""
    from pydantic import ValidationError

    from api.shipment_actions import REQUESTS
    from api.shipments import ManualEvent
    from workflows.models import ShipmentInput

    document = build_document()
    package = {"weight_kg": "2.5", "length_cm": "40", "width_cm": "30", "height_cm": "20"}
    start = {"order_ref": "S00001", "packages": [package]}
    event = {"milestone": "EXCEPTION", "reason": "damaged"}
    consignee = {"name": "Acme", "address": {"lines": ["1 Main St"], "city": "Boston",
                                             "country": "US"}}  # fmt: skip
    cases: list[tuple[str, type[Any], dict[str, Any], bool]] = [
        ("/v1/shipments", ShipmentInput, start, True),
        ("/v1/shipments", ShipmentInput, {**start, "packages": [package] * 200}, True),
        ("/v1/shipments", ShipmentInput, {**start, "packages": [package] * 201}, False),
        *(
            (
                "/v1/shipments",
                ShipmentInput,
                {**start, "packages": [{**package, "length_cm": v}]},
                ok,
            )
            for v, ok in [
                ("0", False),
                ("0.0", False),
                (0, False),
                ("10000", True),
                ("10000.5", False),
                ("1e2", False),
                ("+1", False),
                (".5", True),
                ("9999.99", True),
                (10000, True),
                (10001, False),
            ]
        ),
        ("/v1/shipments", ShipmentInput, {**start, "carrier": "UPS!"}, False),
        ("/v1/shipments", ShipmentInput, {**start, "promised_date": 0}, False),
        ("/v1/shipments", ShipmentInput, {**start, "promised_date": "0"}, False),
        (
            "/v1/shipments",
            ShipmentInput,
            {**start, "promised_date": "2026-12-24T12:00:00+01:00"},
            True,
        ),
        ("/v1/shipments/{shipment_id}/events", ManualEvent, event, True),
        (
            "/v1/shipments/{shipment_id}/events",
            ManualEvent,
            {**event, "location": {"country": "DE"}},
            True,
        ),
        (
            "/v1/shipments/{shipment_id}/events",
            ManualEvent,
            {**event, "location": {"country": "PX"}},
            False,
        ),
        (
            "/v1/shipments/{shipment_id}/events",
            ManualEvent,
            {**event, "location": {"name": "x" * 201}},
            False,
        ),
        (
            "/v1/shipments/{shipment_id}/amend",
            REQUESTS["amend"],
            {"reason": "r", "promised_date": 0},
            False,
        ),
        *(
            (
                "/v1/shipments/{shipment_id}/amend",
                REQUESTS["amend"],
                {"reason": "r", "consignee": {**consignee, "vat": vat}},
                ok,
            )
            for vat, ok in [("", False), ("CHE-123.456.789", True), ("de123", False)]
        ),
        (
            "/v1/shipments/{shipment_id}/rebook",
            REQUESTS["rebook"],
            {"reason": "r", "carrier": "x" * 65},
            False,
        ),
    ]
    for path, model, body, accepted in cases:
        validator = jsonschema_rs.validator_for(
            _body_schema(document, "post", path), validate_formats=True
        )
        try:
            model.model_validate_json(json.dumps(body))
            taken = True
        except ValidationError:
            taken = False
        assert (validator.is_valid(body), taken) == (accepted, accepted), (path, body)


def test_the_published_cursor_format_refuses_what_no_cursor_can_be() -> None:
    listing = build_document()["paths"]["/v1/shipments"]["get"]["parameters"]
    [cursor] = [p for p in listing if p["name"] == "cursor"]
    assert re.fullmatch(cursor["schema"]["pattern"], "0") is None
    assert re.fullmatch(cursor["schema"]["pattern"], "A" * 23)
