"""The OpenAPI document: complete, resolvable, committed up to date, served with a /docs page."""

import json
import re
import subprocess
import sys
from html import escape
from pathlib import Path
from typing import Any

import httpx
import schemathesis
from live import LiveApi
from temporalio.client import Client

from api.app import create_app
from api.openapi import OPERATIONS, build_document, is_stale, render
from api.settings import ApiSettings
from store.db import make_engine

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
    app = create_app(settings, temporal, make_engine(f"sqlite:///{tmp_path / 'store.db'}"))
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
