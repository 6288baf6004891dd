"""The trace of one shipment: from the API request down to the partners' HTTP requests."""

import httpx
from observed_lifecycle import Lifecycle
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, format_span_id, format_trace_id

START = "StartUpdateWithStartWorkflow:ShipmentWorkflow"
"""The API starts a shipment with update-with-start (``accept``)."""


def chain(span: ReadableSpan, spans: list[ReadableSpan]) -> list[str]:
    """The names from ``span`` up to its trace's root."""
    by_id = {each.context.span_id: each for each in spans}
    names = []
    current: ReadableSpan | None = span
    while current is not None:
        names.append(current.name)
        current = by_id.get(current.parent.span_id) if current.parent else None
    return names


def attributes(span: ReadableSpan) -> dict:
    return dict(span.attributes or {})


def api_span(lifecycle: Lifecycle) -> ReadableSpan:
    (found,) = [
        span for span in lifecycle.finished_spans()
        if span.name == "POST /v1/shipments"
        and attributes(span).get("borderflow.order_ref") == lifecycle.order_ref
    ]  # fmt: skip
    return found


async def test_the_api_request_span_is_the_root_of_the_workflow_activities_and_partner_calls(
    lifecycle: Lifecycle,
) -> None:
    assert lifecycle.final is not None and lifecycle.final["stage"] == "invoiced"
    spans = lifecycle.finished_spans()
    root = api_span(lifecycle)
    assert root.kind is SpanKind.SERVER and root.parent is None
    assert attributes(root)["http.response.status_code"] == 201
    assert attributes(root)["borderflow.shipment_id"] == lifecycle.shipment_id
    trace = [span for span in spans if span.context.trace_id == root.context.trace_id]
    by_name = {span.name: span for span in trace}
    for name in (
        START,
        "HandleUpdate:accept",
        "RunWorkflow:ShipmentWorkflow",
        "CompleteWorkflow:ShipmentWorkflow",
    ):
        assert chain(by_name[name], spans)[-2:] == [START, "POST /v1/shipments"], name

    # Every activity attempt is in the API's trace, tagged with the shipment and its partner.
    runs = [span for span in trace if span.name.startswith("RunActivity:")]
    assert {
        "RunActivity:accept_order",
        "RunActivity:create_transport_order",
        "RunActivity:book_carrier",
        "RunActivity:release_invoice",
    } <= {s.name for s in runs}
    for run in runs:
        activity = run.name.removeprefix("RunActivity:")
        names = chain(run, spans)
        assert names[:2] == [run.name, f"StartActivity:{activity}"]
        assert names[-2:] == [START, "POST /v1/shipments"]
        tags = attributes(run)
        assert tags["borderflow.shipment_id"] == lifecycle.shipment_id
        assert tags["borderflow.order_ref"] == lifecycle.order_ref
    assert {"odoo", "tms", "easypost", "broker", "notify"} <= {
        attributes(run)["borderflow.partner"] for run in runs
    }
    # the customs declaration is filed by the shipment itself, in the same trace
    assert chain(by_name["RunActivity:file_customs"], spans)[-2:] == [START, "POST /v1/shipments"]
    (tms_run,) = [run for run in runs if run.name == "RunActivity:create_transport_order"]
    assert attributes(tms_run)["borderflow.partner"] == "tms"

    # The TMS call is a client span under its activity, and the TMS received its traceparent.
    (tms_call,) = [
        span for span in trace
        if span.parent is not None and span.parent.span_id == tms_run.context.span_id
    ]  # fmt: skip
    assert tms_call.kind is SpanKind.CLIENT
    call = attributes(tms_call)  # the stable HTTP semantic conventions, never the old names
    assert str(call["url.full"]).startswith(lifecycle.sims.url("tms"))
    assert call["http.request.method"] == "POST" and call["http.response.status_code"] < 400
    assert {"server.address", "server.port"} <= set(call)
    assert not {"http.method", "http.url", "http.status_code"} & set(call)
    async with httpx.AsyncClient() as http:
        received = (await http.get(f"{lifecycle.sims.url('tms')}/_sim/requests")).json()
    trace_id = format_trace_id(root.context.trace_id)
    posts = [entry["traceparent"] or "" for entry in received if entry["method"] == "POST"]
    (sent,) = [traceparent for traceparent in posts if trace_id in traceparent]
    version, _, parent_id, flags = sent.split("-")
    assert (version, parent_id) == ("00", format_span_id(tms_call.context.span_id))
    assert int(flags, 16) & 1  # sampled
    # so did the carrier, in the same trace; every partner request carries one
    async with httpx.AsyncClient() as http:
        carrier = (await http.get(f"{lifecycle.sims.url('easypost')}/_sim/requests")).json()
    traces = [(entry["traceparent"] or "-").split("-")[1] for entry in carrier]
    assert trace_id in traces and "" not in traces


async def test_a_partner_webhook_is_traced_to_the_signal_the_workflow_handled(
    lifecycle: Lifecycle,
) -> None:
    spans = lifecycle.finished_spans()
    by_id = {span.context.span_id: span for span in spans}
    delivered = [
        span for span in spans if span.name == "deliver events"
        and attributes(span)["borderflow.shipment_id"] == lifecycle.shipment_id
    ]  # fmt: skip
    assert {attributes(span)["borderflow.partner"] for span in delivered} == {"easypost", "broker"}
    for deliver in delivered:
        assert attributes(deliver)["borderflow.partner_event_id"]
        assert attributes(deliver)["borderflow.order_ref"] == lifecycle.order_ref
    # delivered while the webhook was answered (else by the redelivery loop, its own trace)
    answered = [span for span in delivered if span.parent is not None
                and by_id[span.parent.span_id].name == "POST /v1/webhooks/{partner}"]  # fmt: skip
    assert answered
    signals = [span for span in spans if span.name == "SignalWorkflow:events"
               and span.parent is not None and by_id[span.parent.span_id] in answered]  # fmt: skip
    assert len(signals) == len(answered)
    # The workflow's signal span sits in the shipment's trace, linked to the webhook's signal.
    handled = [span for span in spans if span.name == "HandleSignal:events"]
    linked = {link.context.span_id for span in handled for link in span.links}
    assert {signal.context.span_id for signal in signals} <= linked
    root = api_span(lifecycle)
    assert {span.context.trace_id for span in handled} == {root.context.trace_id}
