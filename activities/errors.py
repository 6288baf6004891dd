"""How partner failures become Temporal errors.

The rule everywhere: a *business* refusal (the partner understood us and said no) is a
non-retryable ``ApplicationError``; anything transient (5xx, 429, timeouts, connection
errors) is retryable, and a 429's ``Retry-After`` becomes the next retry delay.
"""

from datetime import timedelta

import httpx
from temporalio.exceptions import ApplicationError

from observability.partner_http import partner_transport

PARTNER_REJECTED = "PartnerRejected"
"""Error type of every non-retryable partner refusal."""

PARTNER_UNAVAILABLE = "PartnerUnavailable"
"""Error type of every transient partner failure (retried)."""


def business_error(partner: str, message: str, *, type: str = PARTNER_REJECTED) -> ApplicationError:
    """A refusal that retrying cannot fix."""
    return ApplicationError(f"{partner}: {message}", type=type, non_retryable=True)


def transient_error(
    partner: str, message: str, *, retry_after: timedelta | None = None
) -> ApplicationError:
    """A failure worth retrying, optionally after the delay the partner asked for."""
    return ApplicationError(
        f"{partner}: {message}", type=PARTNER_UNAVAILABLE, next_retry_delay=retry_after
    )


def retry_after(response: httpx.Response) -> timedelta | None:
    """The delay of a ``Retry-After`` header given in seconds (HTTP dates are ignored)."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    return None


def raise_for_status(partner: str, response: httpx.Response, detail: str) -> None:
    """Raise the right Temporal error for a non-2xx response; return for 2xx.

    ``detail`` is the partner's own error message, already extracted from its error shape.
    """
    status = response.status_code
    if status < 300:
        return
    if status == 429 or status == 408 or status >= 500:
        raise transient_error(
            partner, f"HTTP {status}: {detail}", retry_after=retry_after(response)
        )
    if status == 409:
        raise transient_error(partner, f"HTTP 409 conflict: {detail}")
    raise business_error(partner, f"HTTP {status}: {detail}")


def new_http_client(
    base_url: str, *, timeout_s: float, partner: str = "unknown", **kwargs: object
) -> httpx.AsyncClient:
    """An outbound client with explicit timeouts and no redirects, for one partner.

    Every request is counted and timed under ``partner`` (``borderflow_partner_requests_total``,
    ``borderflow_partner_request_seconds``) and traced, with ``traceparent`` sent to the
    partner (see :mod:`observability.partner_http`); a ``transport`` given is wrapped.
    """
    inner = kwargs.pop("transport", None)
    assert inner is None or isinstance(inner, httpx.AsyncBaseTransport)
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(timeout_s, connect=min(5.0, timeout_s)),
        follow_redirects=False,
        transport=partner_transport(partner, inner),
        **kwargs,  # type: ignore[arg-type]
    )
