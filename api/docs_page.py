"""``GET /openapi.json`` and ``GET /docs``: the API's own description, no authentication.

``/docs`` is one self-contained HTML page rendered here from the OpenAPI document: no script,
no stylesheet or font from elsewhere (the page works offline). Operations come first, grouped
by tag, then every schema with its fields; each schema reference is a link.
"""

import json
from html import escape
from typing import Any

from aiohttp import web

from api.openapi import build_document

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 2rem;
color:#1d2330}
h1{margin-bottom:.2rem}h2{border-bottom:2px solid #dde;margin-top:2.5rem}
section.op{border:1px solid #dde;border-radius:6px;margin:1rem 0;padding:.4rem 1rem}
.method{display:inline-block;min-width:4rem;font-weight:700;color:#fff;border-radius:4px;
text-align:center;padding:0 .4rem;margin-right:.5rem}.get{background:#2f7ebd}
.post{background:#3c9a5f}code,.path{font-family:ui-monospace,monospace}
table{border-collapse:collapse;margin:.4rem 0 .8rem}td,th{border:1px solid #dde;
padding:.2rem .6rem;text-align:left;vertical-align:top}th{background:#f4f5f9}
.muted{color:#667}nav a{margin-right:1rem}
"""


def _type(schema: dict[str, Any]) -> str:
    """A short, linked, human reading of a JSON schema."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return " | ".join(_type(option) for option in schema[key])
    if "enum" in schema:
        return "one of " + ", ".join(
            f"<code>{escape(json.dumps(v))}</code>" for v in schema["enum"]
        )
    if "const" in schema:
        return f"<code>{escape(json.dumps(schema['const']))}</code>"
    kind = schema.get("type", "any")
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if kind == "object" and "additionalProperties" in schema:
        extra = schema["additionalProperties"]
        return f"map of {_type(extra) if isinstance(extra, dict) else 'any'}"
    text = escape(str(kind))
    limits = [f"{k} {schema[k]}" for k in ("format", "pattern", "minimum", "maximum",
              "minLength", "maxLength", "minItems") if k in schema]  # fmt: skip
    return text + (f' <span class="muted">({escape(", ".join(map(str, limits)))})</span>'
                   if limits else "")  # fmt: skip


def _operation(method: str, path: str, op: dict[str, Any]) -> str:
    parts = [
        f'<section class="op" id="{escape(op["operationId"])}">',
        f'<h3><span class="method {method}">{method.upper()}</span>'
        f'<span class="path">{escape(path)}</span></h3>',
        f"<p><strong>{escape(op['summary'])}</strong> {escape(op.get('description', ''))}</p>",
    ]
    if op["parameters"]:
        rows = "".join(
            f"<tr><td><code>{escape(p['name'])}</code></td><td>{p['in']}</td>"
            f"<td>{'yes' if p.get('required') else 'no'}</td><td>{_type(p['schema'])}</td>"
            f"<td>{escape(p.get('description', ''))}</td></tr>"
            for p in op["parameters"]
        )
        parts.append("<table><tr><th>parameter</th><th>in</th><th>required</th><th>type</th>"
                     f"<th></th></tr>{rows}</table>")  # fmt: skip
    if "requestBody" in op:
        body = next(iter(op["requestBody"]["content"].values()))["schema"]
        parts.append(f"<p>Body: {_type(body)}</p>")
    rows = ""
    for status, response in op["responses"].items():
        content = response.get("content", {})
        shapes = ", ".join(
            f"{_type(media.get('schema', {}))} <span class='muted'>{escape(kind)}</span>"
            for kind, media in content.items()
        )
        rows += f"<tr><td>{status}</td><td>{escape(response['description'])}</td>"
        rows += f"<td>{shapes}</td></tr>"
    parts.append(f"<table><tr><th>status</th><th>meaning</th><th>body</th></tr>{rows}</table>")
    return "\n".join(parts) + "</section>"


def _schema(name: str, schema: dict[str, Any]) -> str:
    head = f'<section class="op" id="schema-{escape(name)}"><h3>{escape(name)}</h3>'
    text = escape(schema.get("description", ""))
    properties = schema.get("properties")
    if not properties:
        return f"{head}<p>{text}</p><p>{_type(schema)}</p></section>"
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{escape(key)}</code></td><td>{'yes' if key in required else 'no'}</td>"
        f"<td>{_type(value)}</td><td>{escape(value.get('description', ''))}</td></tr>"
        for key, value in properties.items()
    )
    return (f"{head}<p>{text}</p><table><tr><th>field</th><th>required</th><th>type</th><th></th>"
            f"</tr>{rows}</table></section>")  # fmt: skip


def render_html(document: dict[str, Any]) -> str:
    info = document["info"]
    by_tag: dict[str, list[str]] = {}
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            by_tag.setdefault(op["tags"][0], []).append(_operation(method, path, op))
    nav = "".join(f'<a href="#tag-{escape(tag)}">{escape(tag)}</a>' for tag in by_tag)
    body = [f"<h1>{escape(info['title'])}</h1><p>{escape(info['description'])}</p>",
            f'<nav>{nav}<a href="#schemas">schemas</a>'
            '<a href="/openapi.json">openapi.json</a></nav>']  # fmt: skip
    for tag, sections in by_tag.items():
        body.append(f'<h2 id="tag-{escape(tag)}">{escape(tag)}</h2>' + "\n".join(sections))
    body.append('<h2 id="schemas">Schemas</h2>')
    body += [_schema(name, s) for name, s in document["components"]["schemas"].items()]
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{escape(info['title'])}</title><style>{STYLE}</style></head><body>"
            + "\n".join(body) + "</body></html>")  # fmt: skip


class DocsRoutes:
    def __init__(self) -> None:
        self._document = build_document()
        self._html = render_html(self._document)

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/openapi.json", self.openapi)
        app.router.add_get("/docs", self.docs)

    async def openapi(self, _request: web.Request) -> web.Response:
        return web.json_response(self._document)

    async def docs(self, _request: web.Request) -> web.Response:
        return web.Response(text=self._html, content_type="text/html")
