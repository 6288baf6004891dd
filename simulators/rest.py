"""Building blocks shared by the REST simulators (TMS, carriers, broker).

Handlers raise :class:`HttpError`; :func:`error_middleware` renders it in the partner's own
error shape (RFC 9457 problem+json, or EasyPost's ``{"error": {...}}``), including the
router's 404/405 and unexpected failures (500, logged). :func:`failure_renderer` renders
injected faults in the same shape. Paths under ``/_sim/`` are test helpers and skip
authentication (:mod:`simulators.rest_auth`) and the request log.
"""

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from simulators.clock import iso_now
from simulators.fault_http import FAULT_KEY, FailureRenderer, phrase

logger = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

SIM_PREFIX = "/_sim/"


@dataclass(frozen=True)
class FieldError:
    """One invalid request field, named as a dotted path such as ``packages[0].weight_kg``."""

    field: str
    message: str


class HttpError(Exception):
    """An error answer: HTTP ``status``, a machine ``code`` and a human ``message``."""

    def __init__(
        self, status: int, code: str, message: str, errors: Sequence[FieldError] = ()
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.errors = tuple(errors)
        self.headers: dict[str, str] = {}
        self.instance: str | None = None


ErrorRenderer = Callable[[HttpError], web.Response]


def json_response(data: Any, status: int = 200) -> web.Response:
    """A JSON response whose body is plain bytes (so idempotent replays can copy it)."""
    return web.Response(
        body=json.dumps(data, ensure_ascii=False).encode("utf-8"),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


def problem_renderer(type_base: str, *, with_instance: bool = False) -> ErrorRenderer:
    """RFC 9457 ``application/problem+json``; ``type`` is ``{type_base}/{code}``.

    Field errors are also listed under the ``errors`` extension member as ``{field, message}``.
    With ``with_instance`` the request path is given as ``instance``.
    """

    def render(err: HttpError) -> web.Response:
        body: dict[str, Any] = {
            "type": f"{type_base}/{err.code}",
            "title": phrase(err.status),
            "status": err.status,
            "detail": err.message,
        }
        if with_instance:
            body["instance"] = err.instance
        if err.errors:
            body["errors"] = _field_errors(err)
        return _error_response(err, body, "application/problem+json")

    return render


def easypost_renderer(err: HttpError) -> web.Response:
    """EasyPost's ``{"error": {"code", "message", "errors": [{"field", "message"}]}}``."""
    body = {"error": {"code": err.code, "message": err.message, "errors": _field_errors(err)}}
    return _error_response(err, body, "application/json")


def _field_errors(err: HttpError) -> list[dict[str, str]]:
    return [{"field": e.field, "message": e.message} for e in err.errors]


def _error_response(err: HttpError, body: dict[str, Any], content_type: str) -> web.Response:
    return web.Response(
        body=json.dumps(body).encode("utf-8"),
        status=err.status,
        content_type=content_type,
        charset="utf-8",
        headers=err.headers,
    )


def error_middleware(render: ErrorRenderer, codes: dict[int, str]) -> Middleware:
    """Render :class:`HttpError`, router errors (via ``codes``: status → code) and crashes."""

    def rendered(request: web.Request, err: HttpError) -> web.Response:
        err.instance = err.instance or request.path
        return render(err)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except HttpError as err:
            return rendered(request, err)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            code = codes.get(exc.status, "error")
            return rendered(request, HttpError(exc.status, code, exc.reason))
        except Exception:
            logger.exception("unhandled error on %s %s", request.method, request.path)
            crash = HttpError(500, codes.get(500, "internal_error"), "Internal error")
            return rendered(request, crash)

    return middleware


def failure_renderer(render: ErrorRenderer, code_for: Callable[[int], str]) -> FailureRenderer:
    """Render injected faults as :class:`HttpError` ``(status, code_for(status), message)``."""

    def render_failure(request: web.Request, status: int, message: str) -> web.Response:
        err = HttpError(status, code_for(status), message)
        err.instance = request.path
        return render(err)

    return render_failure


def problem_code(status: int) -> str:
    """A problem ``type`` suffix for an HTTP status: ``too-many-requests``, …"""
    return phrase(status).lower().replace(" ", "-").replace("'", "")


class RequestLog:
    """Every request an app received outside ``/_sim/``, oldest first (no credentials)."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def middleware(self) -> Middleware:
        """Record method, path, query, Idempotency-Key, W3C traceparent, JSON body, final status
        and replay flag."""

        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            if request.path.startswith(SIM_PREFIX):
                return await handler(request)
            raw = await request.read() if request.can_read_body else b""
            try:
                body: Any = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode("utf-8", errors="replace")
            response = await handler(request)
            self.entries.append(
                {
                    "at": iso_now(),
                    "method": request.method,
                    "path": request.path,
                    "query": dict(request.query),
                    "idempotency_key": request.headers.get("Idempotency-Key"),
                    "traceparent": request.headers.get("traceparent"),
                    "body": body,
                    "status": response.status,
                    "replayed": response.headers.get("Idempotent-Replayed") == "true",
                    "fault": request.get(FAULT_KEY),
                }
            )
            return response

        return middleware


async def read_json_object(request: web.Request, code: str = "malformed_request") -> dict[str, Any]:
    """The request body as a JSON object; 400 when it is not valid JSON or not an object."""
    raw = await request.read()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise HttpError(400, code, f"Request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise HttpError(400, code, "Request body must be a JSON object")
    return data


def field_path(loc: Sequence[int | str]) -> str:
    """``("packages", 0, "weight_kg")`` → ``packages[0].weight_kg``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "body"


def parse_body(
    model: type[ModelT], data: Any, code: str, prefix: Sequence[str] = (), status: int = 422
) -> ModelT:
    """Validate ``data`` as ``model``; ``status`` (422) naming every bad field."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        errors = [FieldError(field_path([*prefix, *e["loc"]]), e["msg"]) for e in exc.errors()]
        summary = "; ".join(f"{e.field}: {e.message}" for e in errors)
        raise HttpError(status, code, f"Invalid request: {summary}", errors) from None
