"""Odoo's exceptions and its JSON-RPC error envelope.

Every :class:`OdooError` subclass carries the qualified exception name Odoo reports in
``error.data.name``; :func:`error_envelope` renders the documented envelope (always
``code: 200, message: "Odoo Server Error"``, HTTP 200).
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


def missing_records(model: str, ids: list[int], uid: int = 2) -> MissingError:
    """Odoo 17's wording for reading or writing records that do not exist."""
    shown = ", ".join(str(i) for i in ids)
    return MissingError(
        f"Record does not exist or has been deleted.\n(Record: {model}({shown},), User: {uid})"
    )


def error_envelope(request_id: Any, exc: BaseException) -> dict[str, Any]:
    """The documented ``{"jsonrpc", "id", "error": {...}}`` for any exception.

    Non-Odoo exceptions are reported as ``builtins.<ClassName>``.
    """
    if isinstance(exc, OdooError):
        name, message = exc.qualified_name, exc.message
    else:
        name, message = f"builtins.{type(exc).__name__}", str(exc)
    frames = "".join(traceback.format_tb(exc.__traceback__))
    debug = f"Traceback (most recent call last):\n{frames}{name}: {message}\n"
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {
            "code": 200,
            "message": "Odoo Server Error",
            "data": {
                "name": name,
                "message": message,
                "arguments": [message],
                "context": {},
                "debug": debug,
            },
        },
    }
