"""Partner client spans follow the stable HTTP semantic conventions; every process's resource
names its service and version."""

import os
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode, format_span_id, format_trace_id

from observability.partner_http import TracedTransport, partner_transport, redacted_url
from observability.tracing import service_resource

OLD_NAMES = {"http.method", "http.url", "http.status_code", "http.scheme", "http.host",
             "net.peer.name", "net.peer.port", "http.flavor"}  # fmt: skip
Handler = Callable[[httpx.Request], httpx.Response]


async def one_call(
    handler: Handler, url: str, method: str = "GET"
) -> tuple[ReadableSpan, list[httpx.Request]]:
    """The finished client span of one request through :class:`TracedTransport`, and the
    requests the partner received."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    received: list[httpx.Request] = []

    def partner(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return handler(request)

    transport = TracedTransport(httpx.MockTransport(partner), tracer_provider=provider)
    async with httpx.AsyncClient(transport=transport) as http:
        try:
            await http.request(method, url)
        except httpx.HTTPError:
            pass
    (span,) = memory.get_finished_spans()
    return span, received


async def test_a_call_has_the_current_names_and_sends_its_own_traceparent() -> None:
    span, received = await one_call(
        lambda _: httpx.Response(201), "https://tms.example:8443/v1/orders?api_key=s3cret&page=2"
    )
    assert span.kind is SpanKind.CLIENT and span.name == "GET"
    attributes = dict(span.attributes or {})
    assert attributes == {
        "http.request.method": "GET",
        "url.full": "https://tms.example:8443/v1/orders?api_key=REDACTED&page=REDACTED",
        "server.address": "tms.example",
        "server.port": 8443,
        "http.response.status_code": 201,
    }
    assert not OLD_NAMES & set(attributes)
    assert span.status.status_code is StatusCode.UNSET
    (request,) = received
    version, trace_id, parent_id, _flags = request.headers["traceparent"].split("-")
    assert version == "00" and trace_id == format_trace_id(span.context.trace_id)
    assert parent_id == format_span_id(span.context.span_id)


async def test_an_error_answer_sets_error_type_and_the_span_status() -> None:
    span, _ = await one_call(lambda _: httpx.Response(503), "http://broker.example/declarations")
    attributes = dict(span.attributes or {})
    assert attributes["http.response.status_code"] == 503
    assert attributes["error.type"] == "503"
    assert attributes["server.port"] == 80  # the scheme's default, named explicitly
    assert attributes["url.full"] == "http://broker.example/declarations"
    assert span.status.status_code is StatusCode.ERROR


async def test_no_response_names_the_exception_class() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    span, _ = await one_call(refuse, "https://easypost.example/v2/shipments")
    attributes = dict(span.attributes or {})
    assert attributes["error.type"] == "httpx.ConnectError"
    assert "http.response.status_code" not in attributes
    assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]


async def test_a_non_standard_method_is_other_with_the_original_kept() -> None:
    span, _ = await one_call(lambda _: httpx.Response(200), "https://x.example/", method="PURGE")
    attributes = dict(span.attributes or {})
    assert span.name == "HTTP"
    assert attributes["http.request.method"] == "_OTHER"
    assert attributes["http.request.method_original"] == "PURGE"


@pytest.mark.parametrize(
    ("url", "full"),
    [
        ("https://user:pw@dhl.example/track?trackingNumber=123#top",
         "https://REDACTED:REDACTED@dhl.example/track?trackingNumber=REDACTED"),
        ("https://dhl.example/a%20b?k=1&k=2&sig=x", "https://dhl.example/a%20b?k=REDACTED&k=REDACTED&sig=REDACTED"),
        ("http://127.0.0.1:9000/", "http://127.0.0.1:9000/"),
    ],
)  # fmt: skip
def test_url_full_carries_no_secret(url: str, full: str) -> None:
    assert redacted_url(httpx.URL(url)) == full


async def test_the_partner_transport_is_traced_and_metered() -> None:
    transport = partner_transport("tms", httpx.MockTransport(lambda _: httpx.Response(200)))
    assert isinstance(transport, TracedTransport)
    async with httpx.AsyncClient(transport=transport) as http:
        assert (await http.get("http://tms.example/ping")).status_code == 200


def test_the_resource_names_the_service_and_the_package_version() -> None:
    attributes = service_resource("borderflow-api").attributes
    assert attributes["service.name"] == "borderflow-api"
    assert attributes["service.version"] == metadata.version("borderflow")


def test_every_process_installs_a_provider_with_service_version() -> None:
    """``setup_tracing`` (what the API, the worker and the CLI call) in a fresh process, with
    ``OTEL_RESOURCE_ATTRIBUTES`` trying to override the version."""
    code = (
        "from observability.tracing import setup_tracing\n"
        "provider = setup_tracing('borderflow-worker')\n"
        "attributes = provider.resource.attributes\n"
        "print(attributes['service.name'], attributes['service.version'])\n"
    )
    env = {"OTEL_RESOURCE_ATTRIBUTES": "service.version=9.9.9,deployment.environment=test"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60,
        env={**os.environ, **env},
    )  # fmt: skip
    assert done.stdout.split() == ["borderflow-worker", metadata.version("borderflow")]
