"""Traces: one OpenTelemetry tracer provider per process, and the Temporal tracing interceptor.

What a shipment's trace holds (W3C trace context throughout):
API request span (``POST /v1/shipments``) → ``StartWorkflow:ShipmentWorkflow`` (client
interceptor) → ``RunWorkflow:ShipmentWorkflow`` and ``StartActivity:…`` (workflow spans,
created by the SDK's interceptor only when not replaying) → ``RunActivity:…`` → the activity's
outbound HTTP call to the partner, which carries ``traceparent`` to the partner. A partner
webhook is its own trace: ``POST /v1/webhooks/{partner}`` → ``deliver events`` (with
``borderflow.event_count`` and the first ``borderflow.partner_event_id``) →
``SignalWorkflow:events`` (one per webhook) → the workflow's signal span.

Spans are always created and propagated, so trace ids reach logs, the audit trail and
partners; ``BORDERFLOW_OTEL_EXPORTER`` only chooses where finished spans go: ``otlp`` (OTLP
over HTTP to ``BORDERFLOW_OTEL_ENDPOINT``, or the standard ``OTEL_EXPORTER_OTLP_*``
variables), ``console`` (stderr), or ``none`` (nowhere, the default).

Every process's spans carry the resource ``service.name`` (``borderflow-api``,
``borderflow-worker``, ``borderflow-cli``, …) and ``service.version``: the installed
``borderflow`` distribution's version (:func:`service_version`), so a trace says which release
made it. ``OTEL_RESOURCE_ATTRIBUTES`` may add attributes but cannot override these two.
"""

import logging
import sys
from importlib import metadata
from typing import Literal

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
)
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor

SHIPMENT_ID = "borderflow.shipment_id"
ORDER_REF = "borderflow.order_ref"
PARTNER = "borderflow.partner"
PARTNER_EVENT_ID = "borderflow.partner_event_id"
SHIPMENT_PREFIX = "shipment-"
DISTRIBUTION = "borderflow"
UNKNOWN_VERSION = "0+unknown"

Exporter = Literal["otlp", "console", "none"]
log = logging.getLogger("borderflow.tracing")
_installed: TracerProvider | None = None


def service_version() -> str:
    """The version of the installed ``borderflow`` distribution (``0+unknown`` when the code
    runs without being installed)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return UNKNOWN_VERSION


def service_resource(service: str) -> Resource:
    """The resource of every span of this process: ``service.name`` and ``service.version``."""
    return Resource.create({"service.name": service, "service.version": service_version()})


def setup_tracing(
    service: str, exporter: Exporter = "none", endpoint: str | None = None
) -> TracerProvider:
    """Install this process's tracer provider; once: a later call returns the installed one.

    Unexported spans cost little; the provider flushes and shuts down at interpreter exit.
    """
    global _installed
    if _installed is not None:
        return _installed
    provider = TracerProvider(resource=service_resource(service))
    if exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint)))
    elif exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter(out=sys.stderr)))
    trace.set_tracer_provider(provider)
    _installed = provider
    log.info("tracing: service %s %s, exporter %s", service, service_version(), exporter)
    return provider


def shutdown_tracing() -> None:
    """Export what is buffered and stop the installed provider (if any); for a process that
    ends without interpreter teardown (``workers.lifetime.exit_process``)."""
    global _installed
    if _installed is not None:
        _installed.shutdown()
        _installed = None


def tracer() -> trace.Tracer:
    """Borderflow's own tracer (resolves to the installed provider, whenever it is installed)."""
    return trace.get_tracer("borderflow")


def traced_client(client: Client) -> Client:
    """``client`` with Temporal's ``TracingInterceptor``: ``client`` itself when it has one.

    On a worker's client the interceptor also traces workflows and activities, so a process
    passes every client it uses through this once.
    """
    config = client.config()
    if any(isinstance(each, TracingInterceptor) for each in config["interceptors"]):
        return client
    config["interceptors"] = [*config["interceptors"], TracingInterceptor()]
    return Client(**config)


def order_ref_of(shipment_id: str) -> str | None:
    """The order of a shipment id (``shipment-<order_ref>``, see ``shipment_id_for``)."""
    if shipment_id.startswith(SHIPMENT_PREFIX):
        return shipment_id.removeprefix(SHIPMENT_PREFIX)
    return None


def tag_shipment(shipment_id: str | None, span: trace.Span | None = None) -> None:
    """Put the shipment's id and order reference on ``span`` (default: the current span)."""
    if not shipment_id:
        return
    span = span or trace.get_current_span()
    span.set_attribute(SHIPMENT_ID, shipment_id)
    order_ref = order_ref_of(shipment_id)
    if order_ref:
        span.set_attribute(ORDER_REF, order_ref)


def current_trace_id() -> str | None:
    """The current span's trace id as 32 hex digits, or ``None`` outside any span."""
    context = trace.get_current_span().get_span_context()
    return trace.format_trace_id(context.trace_id) if context.is_valid else None


def current_span_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return trace.format_span_id(context.span_id) if context.is_valid else None
