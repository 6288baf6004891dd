"""The transport of every outbound partner client: counted, timed and traced.

:func:`partner_transport` wraps the real transport twice:

- the inner layer (:class:`MeteredTransport`) records
  ``borderflow_partner_requests_total{partner,outcome}`` and
  ``borderflow_partner_request_seconds{partner}`` for every request, including those that fail
  before any response (``timeout``, ``connection_error``);
- the outer layer (:class:`TracedTransport`) makes one ``CLIENT`` span per request (child of the
  current activity's span, ended when the response headers arrive) and sends the W3C
  ``traceparent`` of that span to the partner.

The client span follows the stable HTTP semantic conventions, always (no dependency on
``OTEL_SEMCONV_STABILITY_OPT_IN``): its name is the method; its attributes are
``http.request.method`` (``_OTHER`` plus ``http.request.method_original`` for a non-standard
one), ``url.full``, ``server.address``, ``server.port``, ``network.protocol.version`` and
``http.response.status_code`` once a response came; ``error.type`` is the status code for a
4xx or 5xx answer (the span's status is then ``ERROR``) or the exception's qualified class name
(``httpx.ConnectTimeout``) when no response came. The pre-1.0 names (``http.method``,
``http.url``, ``http.status_code``) are never written. ``url.full`` carries no secret: user
and password read ``REDACTED``, every query value reads ``REDACTED`` (parameter names are
kept), and the fragment is dropped.
"""

import time
from urllib.parse import quote

import httpx
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from observability.metrics import record_partner_request

__all__ = [
    "MeteredTransport",
    "TracedTransport",
    "outcome_of",
    "partner_transport",
    "redacted_url",
]

REDACTED = "REDACTED"
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "QUERY"}
)
DEFAULT_PORTS = {"http": 80, "https": 443}


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


def redacted_url(url: httpx.URL) -> str:
    """``url`` as ``url.full`` may carry it: no credentials, no query values, no fragment."""
    bare = url.copy_with(query=None, fragment=None)
    if url.userinfo:
        bare = bare.copy_with(username=REDACTED, password=REDACTED)
    names = [quote(name, safe="") for name, _value in url.params.multi_items()]
    query = "&".join(f"{name}={REDACTED}" for name in names)
    return f"{bare}?{query}" if query else str(bare)


def request_attributes(request: httpx.Request) -> dict[str, str | int]:
    """The semantic-convention attributes known before the request is sent."""
    url = request.url
    method = request.method.upper()
    attributes: dict[str, str | int] = {
        "http.request.method": method if method in KNOWN_METHODS else "_OTHER",
        "url.full": redacted_url(url),
        "server.address": url.host,
    }
    port = url.port or DEFAULT_PORTS.get(url.scheme)
    if port is not None:
        attributes["server.port"] = port
    if method not in KNOWN_METHODS:
        attributes["http.request.method_original"] = request.method
    return attributes


def record_response(span: trace.Span, response: httpx.Response) -> None:
    status = response.status_code
    span.set_attribute("http.response.status_code", status)
    version = response.extensions.get("http_version")
    if isinstance(version, bytes) and version.startswith(b"HTTP/"):
        span.set_attribute("network.protocol.version", version.decode().removeprefix("HTTP/"))
    if status >= 400:
        span.set_attribute("error.type", str(status))
        span.set_status(Status(StatusCode.ERROR))


def error_type(err: BaseException) -> str:
    kind = type(err)
    return f"{kind.__module__}.{kind.__qualname__}"


class TracedTransport(httpx.AsyncBaseTransport):
    """One client span per request, and the ``traceparent`` of that span on the request."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self._inner = inner
        self._tracer = trace.get_tracer("borderflow.partner_http", tracer_provider=tracer_provider)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        attributes = request_attributes(request)
        method = str(attributes["http.request.method"])
        name = "HTTP" if method == "_OTHER" else method
        with self._tracer.start_as_current_span(
            name, kind=SpanKind.CLIENT, attributes=attributes
        ) as span:
            propagate.inject(request.headers)
            try:
                response = await self._inner.handle_async_request(request)
            except Exception as err:  # recorded as the span's exception event, then re-raised
                span.set_attribute("error.type", error_type(err))
                raise
            record_response(span, response)
            return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def partner_transport(
    partner: str, inner: httpx.AsyncBaseTransport | None = None
) -> httpx.AsyncBaseTransport:
    """The metered and traced transport for ``partner`` (default inner: a plain HTTP one)."""
    return TracedTransport(MeteredTransport(partner, inner or httpx.AsyncHTTPTransport()))
