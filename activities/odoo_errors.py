"""Odoo failures → Temporal errors, by the exception's qualified name (never by code).

Business errors (retrying cannot fix them) are non-retryable and carry Odoo's message:
- the ORM's refusals: ValidationError, UserError, AccessError, AccessDenied, MissingError;
- a request Odoo could not understand (unknown model, method or field; bad arguments): fixing
  it takes a code change, not a retry.
Everything else is retried: lock and serialization failures (``ConcurrencyError``, psycopg's
``SerializationFailure``/``OperationalError``), server errors, timeouts, connection errors.
"""

from datetime import timedelta

from temporalio.exceptions import ApplicationError

from activities.errors import business_error, transient_error

PARTNER = "odoo"

REFUSALS = frozenset(
    {
        "odoo.exceptions.ValidationError",
        "odoo.exceptions.UserError",
        "odoo.exceptions.AccessError",
        "odoo.exceptions.AccessDenied",
        "odoo.exceptions.MissingError",
        "odoo.exceptions.RedirectWarning",
    }
)
BAD_REQUESTS = frozenset(
    {
        "builtins.ValueError",
        "builtins.TypeError",
        "builtins.KeyError",
        "builtins.AttributeError",
        "werkzeug.exceptions.NotFound",
        "werkzeug.exceptions.BadRequest",
        "werkzeug.exceptions.Unauthorized",
        "werkzeug.exceptions.Forbidden",
        "werkzeug.exceptions.UnprocessableEntity",
    }
)


def odoo_error(
    name: str, message: str, *, retry_after: timedelta | None = None
) -> ApplicationError:
    """The Temporal error for an Odoo exception ``name`` (e.g. ``odoo.exceptions.UserError``).

    ``retry_after`` (from a 429's header) becomes the next retry delay of a transient error.
    """
    text = f"{message} ({name})"
    if name in REFUSALS:
        return business_error(PARTNER, text, type=name.rsplit(".", 1)[-1])
    if name in BAD_REQUESTS:
        kind = "AccessDenied" if name.endswith("Unauthorized") else "OdooRequestRefused"
        return business_error(PARTNER, text, type=kind)
    return transient_error(PARTNER, text, retry_after=retry_after)
