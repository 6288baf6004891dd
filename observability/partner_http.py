"""The transport of every outbound partner client: counted, timed and traced.

:func:`partner_transport` wraps the real transport twice: the inner layer records
``borderflow_partner_requests_total{partner,outcome}`` and
``borderflow_partner_request_seconds{partner}`` for every request, including those that fail
before any response (``timeout``, ``connection_error``); the outer layer, from
``opentelemetry-instrumentation-httpx``, makes a client span per request (child of the current
activity's span) and sends the W3C ``traceparent`` header to the partner.
"""

import time

import httpx
from opentelemetry.instrumentation.httpx import AsyncOpenTelemetryTransport

from observability.metrics import record_partner_request


def outcome_of(status: int) -> str:
    if status < 400:
        return "ok"
    return "client_error" if status < 500 else "server_error"


class MeteredTransport(httpx.AsyncBaseTransport):
    """Counts and times each request of one partner; changes nothing else."""

    def __init__(self, partner: str, inner: httpx.AsyncBaseTransport) -> None:
        self._partner = partner
        self._inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        started = time.perf_counter()
        outcome = "connection_error"
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TimeoutException:
            outcome = "timeout"
            raise
        else:
            outcome = outcome_of(response.status_code)
            return response
        finally:
            record_partner_request(self._partner, outcome, time.perf_counter() - started)

    async def aclose(self) -> None:
        await self._inner.aclose()


def partner_transport(
    partner: str, inner: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncBaseTransport:
    """The metered and traced transport for ``partner`` (default inner: a plain HTTP one)."""
    metered = MeteredTransport(partner, inner or httpx.AsyncHTTPTransport())
    return AsyncOpenTelemetryTransport(metered)
