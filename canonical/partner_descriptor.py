"""What the platform knows about one partner: :class:`Partner`, a frozen descriptor.

A descriptor is pure data (no I/O, no import of an adapter, a server or the Temporal SDK), so
every process imports it, workflow code included (the Temporal sandbox re-imports what workflow
code imports: nothing here touches the network, the clock or the environment). The registry of
every partner is :mod:`canonical.partners`; the consumers (the worker's queues, the API's
webhook routes, ``borderflow up``'s ports and secrets, the benchmarks, ``borderflow partners
list``) iterate it.

Settings follow patterns, so a descriptor names only what does not follow one:

- its name is the key of its rate limit in the worker's ``calls_per_s`` (JSON) and of its
  simulator's port in ``sim_ports``;
- its webhook settings are ``<name>_webhook_secret`` (+ ``_previous``, ``_sources``), see
  ``api/webhook_partners.py``;
- ``url_setting``, ``secrets`` and the simulator's ``port_setting`` are spelled out, because
  the deployed environment variables predate the registry (EasyPost's are ``CARRIER_*``).
"""

from dataclasses import dataclass
from enum import StrEnum


class PartnerKind(StrEnum):
    """What a partner is to a forwarder."""

    ERP = "erp"
    TMS = "tms"
    CARRIER = "carrier"
    TRACKING_AGGREGATOR = "tracking-aggregator"
    CUSTOMS_BROKER = "customs-broker"
    NOTIFICATION = "notification"


class Scheme(StrEnum):
    """How a partner proves a webhook is its own (the vendor's documented mechanism)."""

    EASYPOST_HMAC = "easypost-hmac"
    """``X-Hmac-Signature: hmac-sha256-hex=<hex>`` over the raw body, secret NFKD-normalized."""
    BROKER_HMAC = "broker-hmac"
    """``X-Broker-Signature: t=<unix>,v1=<hex>`` over ``"<t>.<body>"``, ``t`` near now."""
    AFTERSHIP_HMAC = "aftership-hmac"
    """``aftership-hmac-sha256: <base64>`` over the raw body."""
    DCSA_SIGNATURE = "dcsa-notification-signature"
    """``Notification-Signature: sha256=<hex>`` over the raw body, key the subscription's
    secret bytes (the setting holds them base64-encoded, as the subscription does)."""
    HEADER_TOKEN = "header-token"
    """The vendor signs nothing: it sends our secret as is in the ``X-Webhook-Token`` header
    (DHL's push subscription ``ApiKeyAuthentication``; our TMS)."""
    QUERY_TOKEN = "query-token"
    """The vendor signs nothing and sends no header of ours: the secret is in the webhook URL
    we register, ``?token=<secret>`` (Shippo's "self-generated token")."""


def carrier_task_queue(carrier: str) -> str:
    """The task queue of one carrier's calls (every carrier has its own, and its own limit);
    a pure function of the name, so workflow code routes without the registry."""
    return f"borderflow-carrier-{carrier}"


@dataclass(frozen=True)
class Queue:
    """The partner's own task queue and the calls per second its workers take from it (the
    server enforces the limit across every worker)."""

    name: str
    calls_per_s: float


@dataclass(frozen=True)
class Webhook:
    """The partner pushes events to ``POST /v1/webhooks/<partner name>``."""

    scheme: Scheme
    required: bool = False
    """Its secret must be set for the API to start (else the route is 404 until it is)."""
    base64_secret: bool = False
    """The secret is bytes, set base64-encoded (DCSA)."""
    names_our_shipments: bool = False
    """We send it our shipment id and it echoes it back (the broker, the TMS): its webhooks
    may name any shipment by id. Otherwise (a carrier) it reaches only the shipments of the
    tracking numbers it issued (``api/partner_scope.py``)."""


@dataclass(frozen=True)
class Simulator:
    """The partner's local simulator (``python -m simulators``)."""

    port: int
    """Its default local port (``BORDERFLOW_SIM_PORTS`` overrides it, by partner name)."""
    app: str
    """``"module:function"``: ``function(settings: SimulatorSettings) -> web.Application``."""


@dataclass(frozen=True)
class Partner:
    """One partner, everything the platform wires from it."""

    name: str
    """Unique, lowercase: the audit trail's partner, the webhook route, the carrier's name."""
    kind: PartnerKind
    queue: Queue | None = None
    """``None``: the platform never calls it (a partner that only pushes webhooks)."""
    dialect: str | None = None
    """The ``canonical.dialects`` normalizer of its payloads."""
    webhook: Webhook | None = None
    simulator: Simulator | None = None
    url_setting: str | None = None
    """The worker's setting of its base URL (``borderflow up`` points it at the simulator)."""
    secrets: tuple[str, ...] = ()
    """The settings of its credentials that ``borderflow up`` generates for the simulator."""
    polled: bool = False
    """Carriers whose scans are not pushed by default (DHL's push needs a subscription):
    reconciliation polls their shipments on every run (``BORDERFLOW_RECONCILE_POLL_ALWAYS``
    replaces the list)."""
    adapter: str | None = None
    """Carriers: ``"module:function"``, ``function(settings) -> CarrierPort | None`` (``None``:
    not configured here, e.g. no API key), ``settings`` the worker's settings."""

    @property
    def webhook_route(self) -> str | None:
        return None if self.webhook is None else f"/v1/webhooks/{self.name}"

    @property
    def secret_envs(self) -> tuple[str, ...]:
        """The environment variables of :attr:`secrets`."""
        return tuple(f"BORDERFLOW_{name.upper()}" for name in self.secrets)


__all__ = [
    "Partner",
    "PartnerKind",
    "Queue",
    "Scheme",
    "Simulator",
    "Webhook",
    "carrier_task_queue",
]
