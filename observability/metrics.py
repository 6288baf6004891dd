"""Borderflow's Prometheus metrics: one registry per process, served at ``/metrics``.

The names are a contract (the Grafana dashboard uses them); labels have bounded values.

Worker (the partner calls it makes):
- ``borderflow_partner_requests_total{partner,outcome}``: every outbound partner HTTP request
  (counted by the transport of :mod:`observability.partner_http`);
- ``borderflow_partner_request_seconds{partner}`` (histogram): same, until the response headers;
- ``borderflow_sla_breaches_total{clock}``: :func:`record_sla_breach`, called by the breach
  notification activity;
- ``borderflow_invoice_lag_seconds`` (histogram): :func:`record_invoice_lag`, called by the
  invoice notification activity.

API (what partners and ops send):
- ``borderflow_milestones_total{partner,milestone}``: each event the inbox delivered;
- ``borderflow_unmapped_codes_total{partner}``: each event of a newly stored webhook that
  normalized to ``UNKNOWN``;
- ``borderflow_shipments{status}`` (gauge): shipments per ``ShipmentStatus``, counted
  periodically in Temporal visibility (:mod:`observability.gauges`);
- ``borderflow_shipments_stuck{stage}`` (gauge): running shipments that the latest finished
  reconciliation run found stale in that stage (quiet for at least the stage's staleness
  threshold) and could not move on by polling (:mod:`observability.gauges`);
- ``borderflow_reconciliation_finished_timestamp_seconds`` (gauge): when that run finished
  (Unix time): how old the stuck counts are;
- ``borderflow_inbox_dead_letters`` (gauge): dead letters in the inbox, counted periodically;
- ``borderflow_inbox_late_letters`` (gauge): webhooks kept ``late`` (they arrived after their
  shipment had ended), counted with the dead letters;
- ``borderflow_http_requests_total{route,status}``: every request; ``route`` is the route
  template (``/v1/shipments/{shipment_id}``), ``unmatched`` for paths no route serves.

``partner`` is the adapter's name (``odoo``, ``tms``, ``easypost``, ``dhl``, ``broker``,
``notify``) for outbound calls and the webhook partner (``easypost``, ``broker``) for
milestones. ``outcome`` is ``ok`` (< 400), ``client_error`` (4xx), ``server_error`` (5xx),
``timeout`` or ``connection_error``. Workflows cannot record metrics (no I/O); activities they
call can, with the ``record_*`` functions here.

Aggregating across pods: the gauges of :data:`GLOBAL_GAUGES` hold *global* counts (all of
Temporal visibility, the whole store, the latest report), and every API pod publishes the same
value: the dashboard and the alerts read them with ``max`` (``max by (status)
(borderflow_shipments)``), never ``sum``, which would multiply them by the number of pods (the
HPA runs 2 to 10). ``max`` rather than ``avg`` or ``min``: a pod that has not refreshed yet has
no sample (it is left out), and a pod whose round failed keeps its previous values, which
``max`` reads at worst one round late. Counters and histograms are per process and are summed.
"""

from collections.abc import Mapping
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

__all__ = [
    "CONTENT_TYPE",
    "GLOBAL_GAUGES",
    "exposition",
    "record_http_request",
    "record_invoice_lag",
    "record_milestone",
    "record_partner_request",
    "record_sla_breach",
    "record_unmapped",
    "set_dead_letters",
    "set_late_letters",
    "set_shipments",
    "set_stuck",
]

PARTNER_REQUESTS = Counter(
    "borderflow_partner_requests_total",
    "Outbound HTTP requests to partners, by outcome.",
    ["partner", "outcome"],
)
PARTNER_REQUEST_SECONDS = Histogram(
    "borderflow_partner_request_seconds",
    "Time from sending a partner request to its response headers (or its failure).",
    ["partner"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
SLA_BREACHES = Counter(
    "borderflow_sla_breaches_total", "SLA deadlines that passed unmet, by clock.", ["clock"]
)
INVOICE_LAG = Histogram(
    "borderflow_invoice_lag_seconds",
    "Time from proof of delivery to the invoice being posted.",
    buckets=(60, 300, 900, 3600, 4 * 3600, 12 * 3600, 86400, 2 * 86400, 7 * 86400),
)
MILESTONES = Counter(
    "borderflow_milestones_total",
    "Partner events delivered by the inbox to their shipment, by milestone.",
    ["partner", "milestone"],
)
UNMAPPED_CODES = Counter(
    "borderflow_unmapped_codes_total",
    "Partner events whose code the partner's table does not map (milestone UNKNOWN).",
    ["partner"],
)
SHIPMENTS = Gauge("borderflow_shipments", "Shipments by ShipmentStatus (stage).", ["status"])
SHIPMENTS_STUCK = Gauge(
    "borderflow_shipments_stuck",
    "Running shipments the latest reconciliation found stale in their stage and could not move "
    "on by polling, by stage.",
    ["stage"],
)
RECONCILIATION_FINISHED = Gauge(
    "borderflow_reconciliation_finished_timestamp_seconds",
    "When the reconciliation run that the stuck counts come from finished (Unix time).",
)
INBOX_DEAD_LETTERS = Gauge("borderflow_inbox_dead_letters", "Dead letters in the webhook inbox.")
INBOX_LATE_LETTERS = Gauge(
    "borderflow_inbox_late_letters",
    "Webhooks in the inbox that arrived after their shipment had ended (state late).",
)
HTTP_REQUESTS = Counter(
    "borderflow_http_requests_total",
    "API requests, by route template and response status.",
    ["route", "status"],
)

CONTENT_TYPE = CONTENT_TYPE_LATEST

GLOBAL_GAUGES = frozenset(
    {
        "borderflow_shipments",
        "borderflow_shipments_stuck",
        "borderflow_reconciliation_finished_timestamp_seconds",
        "borderflow_inbox_dead_letters",
        "borderflow_inbox_late_letters",
    }
)
"""Gauges every API pod fills with the same global count: aggregate them with ``max``."""


def record_sla_breach(clock: str) -> None:
    """One SLA deadline of ``clock`` (``book``, ``pickup``, ``customs``, …) passed unmet."""
    SLA_BREACHES.labels(clock=clock).inc()


def record_invoice_lag(seconds: float) -> None:
    """The time from proof of delivery to the invoice being posted, for one shipment."""
    INVOICE_LAG.observe(max(0.0, seconds))


def record_partner_request(partner: str, outcome: str, seconds: float) -> None:
    PARTNER_REQUESTS.labels(partner=partner, outcome=outcome).inc()
    PARTNER_REQUEST_SECONDS.labels(partner=partner).observe(seconds)


def record_milestone(partner: str, milestone: str) -> None:
    MILESTONES.labels(partner=partner, milestone=milestone).inc()


def record_unmapped(partner: str, count: int = 1) -> None:
    if count > 0:
        UNMAPPED_CODES.labels(partner=partner).inc(count)


def record_http_request(route: str, status: int) -> None:
    HTTP_REQUESTS.labels(route=route, status=str(status)).inc()


def set_shipments(counts: Mapping[str, int]) -> None:
    """Set the per-status shipment counts (a status missing from ``counts`` keeps its value)."""
    for status, count in counts.items():
        SHIPMENTS.labels(status=status).set(count)


def set_stuck(counts: Mapping[str, int], finished_at: datetime) -> None:
    """Set the per-stage stuck counts of the reconciliation run that finished at
    ``finished_at`` (a stage missing from ``counts`` keeps its value)."""
    for stage, count in counts.items():
        SHIPMENTS_STUCK.labels(stage=stage).set(count)
    RECONCILIATION_FINISHED.set(finished_at.timestamp())


def set_dead_letters(count: int) -> None:
    INBOX_DEAD_LETTERS.set(count)


def set_late_letters(count: int) -> None:
    INBOX_LATE_LETTERS.set(count)


def exposition() -> bytes:
    """Every metric of this process, in the Prometheus text format (:data:`CONTENT_TYPE`)."""
    return generate_latest(REGISTRY)
