"""RFC 9457 problem details: every error the API returns has this shape."""

import logging
from typing import Any

from aiohttp import web
from pydantic import ValidationError

log = logging.getLogger("borderflow.api")

PROBLEM_JSON = "application/problem+json"
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")
"""Headers of aiohttp's own error answers that the problem+json answer keeps."""


def problem(status: int, title: str, detail: str | None = None, **extra: Any) -> web.Response:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
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
