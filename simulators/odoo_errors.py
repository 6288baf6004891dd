"""Odoo's exceptions, its JSON-RPC error envelope and its JSON-2 error responses.

Every :class:`OdooError` subclass carries the qualified exception name Odoo reports in
``error.data.name`` (JSON-RPC) or ``name`` (JSON-2); :func:`error_envelope` renders the
documented JSON-RPC envelope (always ``code: 200, message: "Odoo Server Error"``, HTTP 200) and
:func:`json2_error` the JSON-2 body with the status :func:`json2_status` maps the name to.
"""

import traceback
from typing import Any, ClassVar

INVALID_REQUEST = {"code": -32600, "message": "Invalid Request"}


class OdooError(Exception):
    """Base class; ``qualified_name`` is what the client sees in ``error.data.name``."""

    qualified_name: ClassVar[str] = "builtins.Exception"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AccessDenied(OdooError):
    """Wrong credentials."""

    qualified_name = "odoo.exceptions.AccessDenied"

    def __init__(self, message: str = "Access Denied") -> None:
        super().__init__(message)


class AccessError(OdooError):
    """The operation is not allowed (e.g. calling a private method)."""

    qualified_name = "odoo.exceptions.AccessError"


class MissingError(OdooError):
    """Some of the requested records do not exist."""

    qualified_name = "odoo.exceptions.MissingError"


class UserError(OdooError):
    """A business rule refused the operation (e.g. confirming a confirmed order)."""

    qualified_name = "odoo.exceptions.UserError"


class ValidationError(OdooError):
    """A value is not acceptable (wrong type, dangling reference, missing required field)."""

    qualified_name = "odoo.exceptions.ValidationError"


class OdooValueError(OdooError):
    """Odoo's plain ``ValueError``: bad domain, unknown field or model."""

    qualified_name = "builtins.ValueError"


class OdooTypeError(OdooError):
    """Wrong arguments for a method."""

    qualified_name = "builtins.TypeError"


class OdooAttributeError(OdooError):
    """Unknown method on a model."""

    qualified_name = "builtins.AttributeError"


class DatabaseError(OdooError):
    """Unknown database name."""

    qualified_name = "psycopg2.OperationalError"


class ServiceNotFound(OdooError):
    """Unknown JSON-RPC service."""

    qualified_name = "werkzeug.exceptions.NotFound"


class NotFound(OdooError):
    """JSON-2: unknown model, method or database."""

    qualified_name = "werkzeug.exceptions.NotFound"


class Unauthorized(OdooError):
    """JSON-2: missing or wrong API key."""

    qualified_name = "werkzeug.exceptions.Unauthorized"


class UnprocessableEntity(OdooError):
    """JSON-2: the body is not a JSON object of named arguments."""

    qualified_name = "werkzeug.exceptions.UnprocessableEntity"


class ConcurrencyError(OdooError):
    """A lock or serialization failure (Odoo ≥ 18); the client should retry."""

    qualified_name = "odoo.exceptions.ConcurrencyError"


class InjectedError(OdooError):
    """A fault-injected failure reported under any exception name."""

    def __init__(self, name: str) -> None:
        if name.endswith("ConcurrencyError"):
            message = "could not serialize access due to concurrent update"
        else:
            message = f"{name.rsplit('.', 1)[-1]} (simulated by fault injection)"
        super().__init__(message)
        self.injected_name = name


def error_name(exc: BaseException) -> str:
    """The qualified exception name a client sees."""
    if isinstance(exc, InjectedError):
        return exc.injected_name
    if isinstance(exc, OdooError):
        return exc.qualified_name
    return f"builtins.{type(exc).__name__}"


JSON2_STATUSES = {
    "werkzeug.exceptions.Unauthorized": 401,
    "odoo.exceptions.AccessDenied": 401,
    "odoo.exceptions.AccessError": 403,
    "werkzeug.exceptions.Forbidden": 403,
    "odoo.exceptions.MissingError": 404,
    "werkzeug.exceptions.NotFound": 404,
    "odoo.exceptions.ConcurrencyError": 409,
    "psycopg2.errors.SerializationFailure": 409,
    "psycopg2.errors.LockNotAvailable": 409,
    "odoo.exceptions.UserError": 422,
    "odoo.exceptions.ValidationError": 422,
    "odoo.exceptions.RedirectWarning": 422,
    "werkzeug.exceptions.UnprocessableEntity": 422,
    "builtins.TypeError": 422,
    "builtins.ValueError": 422,
}


def json2_status(name: str) -> int:
    """The JSON-2 HTTP status for an exception name (500 for anything unlisted)."""
    return JSON2_STATUSES.get(name, 500)


def missing_records(model: str, ids: list[int], uid: int = 2) -> MissingError:
    """Odoo 17's wording for reading or writing records that do not exist."""
    shown = ", ".join(str(i) for i in ids)
    return MissingError(
        f"Record does not exist or has been deleted.\n(Record: {model}({shown},), User: {uid})"
    )


def error_data(exc: BaseException, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """``{"name", "message", "arguments", "context", "debug"}`` for any exception.

    Non-Odoo exceptions are reported as ``builtins.<ClassName>``.
    """
    name = error_name(exc)
    message = exc.message if isinstance(exc, OdooError) else str(exc)
    frames = "".join(traceback.format_tb(exc.__traceback__))
    arguments: list[Any] = [message]
    if name.startswith("werkzeug.exceptions."):
        arguments.append(json2_status(name))
    return {
        "name": name,
        "message": message,
        "arguments": arguments,
        "context": context or {},
        "debug": f"Traceback (most recent call last):\n{frames}{name}: {message}\n",
    }


def error_envelope(request_id: Any, exc: BaseException) -> dict[str, Any]:
    """The documented JSON-RPC ``{"jsonrpc", "id", "error": {...}}`` for any exception."""
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {"code": 200, "message": "Odoo Server Error", "data": error_data(exc)},
    }


def json2_error(exc: BaseException, context: dict[str, Any] | None = None) -> tuple[int, Any]:
    """``(status, body)`` of a JSON-2 error response."""
    data = error_data(exc, context)
    return json2_status(data["name"]), data
