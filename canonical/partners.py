"""The partner registry: every partner the platform knows, one :class:`Partner` line each.

The worker's task queues and rate limits, the API's webhook routes and verifiers, ``borderflow
up``'s ports and generated secrets, the simulators, their fault switches, the benchmarks and
``borderflow partners list`` all iterate :func:`partners`; no other module spells a partner's
queue, port or route.

A partner outside this repository is a plugin: a package whose distribution declares one entry
point in the group ``borderflow.partners`` naming its :class:`Partner` (``toy =
"toy_partner:PARTNER"``). :func:`partners` returns the built-in ones followed by the plugins',
in entry-point name order. Guarantees: names are unique (a plugin taking a built-in name, or an
entry point that is not a :class:`Partner`, fails loudly at start, naming it); the result is
computed once per process (plugins are installed, not hot-loaded).

Workflow code does not import this module (loading entry points reads the file system): it
routes a carrier's calls with :func:`~canonical.partner_descriptor.carrier_task_queue`.
"""

from collections.abc import Mapping
from functools import cache
from importlib.metadata import entry_points

from canonical.partner_descriptor import (
    Partner,
    PartnerKind,
    Queue,
    Scheme,
    Simulator,
    Webhook,
    carrier_task_queue,
)

ENTRY_POINT_GROUP = "borderflow.partners"

BUILT_IN: tuple[Partner, ...] = (
    Partner(
        "odoo", PartnerKind.ERP, Queue("borderflow-odoo", 20.0),
        simulator=Simulator(8069, "simulators.odoo:create_odoo_app"),
        url_setting="odoo_url", secrets=("odoo_password",),
    ),
    Partner(
        "tms", PartnerKind.TMS, Queue("borderflow-tms", 20.0), dialect="tms",
        webhook=Webhook(Scheme.HEADER_TOKEN, names_our_shipments=True),
        simulator=Simulator(8091, "simulators.tms:create_tms_app"),
        url_setting="tms_url", secrets=("tms_api_key",),
    ),
    Partner(
        "easypost", PartnerKind.CARRIER, Queue(carrier_task_queue("easypost"), 10.0),
        dialect="easypost", webhook=Webhook(Scheme.EASYPOST_HMAC, required=True),
        simulator=Simulator(8092, "simulators.carrier_easypost:create_carrier_app"),
        url_setting="carrier_url", secrets=("carrier_api_key",),
        adapter="activities.carriers.easypost:from_settings",
    ),
    Partner(
        "dhl", PartnerKind.CARRIER, Queue(carrier_task_queue("dhl"), 10.0), dialect="dhl",
        webhook=Webhook(Scheme.HEADER_TOKEN),
        simulator=Simulator(8095, "simulators.carrier_dhl:create_dhl_app"),
        url_setting="dhl_url", secrets=("dhl_api_key",), polled=True,
        adapter="activities.carriers.dhl:from_settings",
    ),
    Partner(
        "broker", PartnerKind.CUSTOMS_BROKER, Queue("borderflow-broker", 10.0),
        dialect="broker",
        webhook=Webhook(Scheme.BROKER_HMAC, required=True, names_our_shipments=True),
        simulator=Simulator(8093, "simulators.broker:create_broker_app"),
        url_setting="broker_url", secrets=("broker_api_key",),
    ),
    Partner(
        "notify", PartnerKind.NOTIFICATION, Queue("borderflow-notify", 5.0),
        simulator=Simulator(8094, "simulators.finance:create_finance_app"),
        url_setting="notify_url",
    ),
    Partner(
        "aftership", PartnerKind.TRACKING_AGGREGATOR, dialect="aftership",
        webhook=Webhook(Scheme.AFTERSHIP_HMAC),
    ),
    Partner(
        "dcsa", PartnerKind.TRACKING_AGGREGATOR, dialect="dcsa",
        webhook=Webhook(Scheme.DCSA_SIGNATURE, base64_secret=True),
    ),
    Partner(
        "shippo", PartnerKind.TRACKING_AGGREGATOR, dialect="shippo",
        webhook=Webhook(Scheme.QUERY_TOKEN),
    ),
)  # fmt: skip
"""Every partner this repository ships, in the order the documentation lists them."""


class PartnerRegistryError(RuntimeError):
    """A plugin's entry point is broken or takes a name already registered."""


def _plugins() -> list[Partner]:
    found: list[Partner] = []
    for point in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda p: p.name):
        try:
            partner = point.load()
        except Exception as err:
            raise PartnerRegistryError(
                f"partner plugin {point.name!r} ({point.value}) failed to load: {err}"
            ) from err
        if not isinstance(partner, Partner):
            raise PartnerRegistryError(
                f"partner plugin {point.name!r} ({point.value}) is not a Partner"
            )
        found.append(partner)
    return found


@cache
def partners() -> tuple[Partner, ...]:
    """The built-in partners, then the installed plugins'."""
    every = (*BUILT_IN, *_plugins())
    seen: set[str] = set()
    for partner in every:
        if partner.name in seen:
            raise PartnerRegistryError(f"partner name {partner.name!r} registered twice")
        seen.add(partner.name)
    return every


def partner(name: str) -> Partner:
    """One partner by name; ``KeyError`` naming the known ones."""
    for candidate in partners():
        if candidate.name == name:
            return candidate
    raise KeyError(f"unknown partner {name!r}; known: {[p.name for p in partners()]}")


def carriers() -> tuple[Partner, ...]:
    """The partners the platform books shipments with (each with its adapter and queue)."""
    return tuple(p for p in partners() if p.kind is PartnerKind.CARRIER and p.adapter)


def polled_carriers() -> list[str]:
    """The carriers reconciliation polls on every run, by default."""
    return [p.name for p in carriers() if p.polled]


def pushing() -> tuple[Partner, ...]:
    """The partners with a webhook route."""
    return tuple(p for p in partners() if p.webhook is not None)


def simulated() -> tuple[Partner, ...]:
    """The partners with a local simulator."""
    return tuple(p for p in partners() if p.simulator is not None)


def simulator_ports(chosen: Mapping[str, int] | None = None) -> dict[str, int]:
    """Every simulated partner's port, by name in registry order: ``chosen``'s where it names
    one (``BORDERFLOW_SIM_PORTS``), else the registry's default. ``ValueError`` when
    ``chosen`` names a partner that has no simulator."""
    defaults = {p.name: p.simulator.port for p in simulated() if p.simulator is not None}
    unknown = sorted(set(chosen or {}) - set(defaults))
    if unknown:
        raise ValueError(f"no simulator for {unknown}; known: {list(defaults)}")
    return {name: (chosen or {}).get(name, port) for name, port in defaults.items()}


def simulator_port(ports: Mapping[str, int], name: str) -> int:
    """``ports[name]``; ``KeyError`` naming the simulated partners when it has none."""
    try:
        return ports[name]
    except KeyError:
        raise KeyError(f"no simulator for partner {name!r}; known: {list(ports)}") from None


__all__ = [
    "BUILT_IN",
    "ENTRY_POINT_GROUP",
    "PartnerRegistryError",
    "carriers",
    "partner",
    "partners",
    "polled_carriers",
    "pushing",
    "simulated",
    "simulator_port",
    "simulator_ports",
]
