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
"""

from collections.abc import Mapping

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

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
    """Replace the per-status shipment counts (a status missing from ``counts`` reads 0)."""
    for status, count in counts.items():
        SHIPMENTS.labels(status=status).set(count)


def set_dead_letters(count: int) -> None:
    INBOX_DEAD_LETTERS.set(count)


def set_late_letters(count: int) -> None:
    INBOX_LATE_LETTERS.set(count)


def exposition() -> bytes:
    """Every metric of this process, in the Prometheus text format (:data:`CONTENT_TYPE`)."""
    return generate_latest(REGISTRY)
