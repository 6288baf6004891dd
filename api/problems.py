"""RFC 9457 problem details: every error the API returns has this shape.

Every problem built while a request is served (inside :func:`identified`, which the API's
outermost middleware opens, ``api/observability.py``) also carries that request's
``request_id`` and ``trace_id`` members (RFC 9457 §3.2 extension members), the same values as
its ``X-Request-Id`` / ``X-Trace-Id`` headers and its access-log line. Answers written before
any request is read (the connection limits' 408 and 503, ``workers/serving.py``) have none.
"""

import contextvars
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web
from pydantic import ValidationError

__all__ = [
    "KEPT_HEADERS", "PROBLEM_JSON", "bad_idempotency_key", "identified", "problem",
    "problem_middleware", "query_problem", "validation_problem",
]  # fmt: skip
log = logging.getLogger("borderflow.api")
_request_ids: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "borderflow_request_ids", default=None
)

PROBLEM_JSON = "application/problem+json"
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")
"""Headers of aiohttp's own error answers that the problem+json answer keeps."""


@contextmanager
def identified(request_id: str, trace_id: str) -> Iterator[None]:
    """Every :func:`problem` built inside the block names this request and trace."""
    token = _request_ids.set({"request_id": request_id, "trace_id": trace_id})
    try:
        yield
    finally:
        _request_ids.reset(token)


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> web.Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    for key, value in (_request_ids.get() or {}).items():
        body.setdefault(key, value)
    return web.json_response(body, status=status, content_type=PROBLEM_JSON)


def validation_problem(err: ValidationError) -> web.Response:
    """422 naming every invalid field; 400 when the body is not JSON at all."""
    errors = [
        {"field": ".".join(str(part) for part in e["loc"]) or "body", "message": e["msg"]}
        for e in err.errors(include_url=False)
    ]
    if any(e["type"] == "json_invalid" for e in err.errors()):
        return problem(400, "Malformed JSON", errors[0]["message"])
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem(422, "Invalid request", summary, errors=errors)


def query_problem(err: ValidationError) -> web.Response:
    """400 naming every invalid query parameter (the query model is the published contract)."""
    wrong = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
    return problem(400, "Bad query", wrong)


@web.middleware
async def problem_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    """Turn aiohttp's own errors (404, 405, 413, …) and crashes into problem+json; a crash is
    logged by route, not by path (a path may hold a token: the codec server's does)."""
    try:
        response: web.StreamResponse = await handler(request)
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        reply = problem(exc.status, exc.reason, exc.text if exc.text != exc.reason else None)
        for name in KEPT_HEADERS:  # 405 names the allowed methods (RFC 9110 §15.5.6)
            if name in exc.headers:
                reply.headers[name] = exc.headers[name]
        return reply
    except Exception:
        resource = request.match_info.route.resource
        route = resource.canonical if resource is not None else "(no route)"
        log.exception("unhandled error on %s %s", request.method, route)
        return problem(500, "Internal Server Error")


def bad_idempotency_key() -> web.Response:
    return problem(400, "Bad Idempotency-Key", "a key has 1 to 255 printable ASCII characters")
