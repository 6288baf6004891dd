"""Toy Post, a carrier plugged into Borderflow from this one folder.

Everything the platform wires from it is in :data:`PARTNER`: its own task queue and rate
limit, its adapter (``adapter.py``: book, cancel, label, track, final charges over its REST API),
its dialect (``dialect.py`` + ``toy.toml``: its webhooks → canonical events), its webhook
authentication (our secret in ``X-Webhook-Token``), its settings (``settings.py``) and its
simulator (``simulator.py``, serving the same API locally and pushing the webhooks).
"""

from canonical.partner_descriptor import (
    Partner,
    PartnerKind,
    Queue,
    Scheme,
    Simulator,
    Webhook,
    carrier_task_queue,
)

NAME = "toy"

PARTNER = Partner(
    NAME,
    PartnerKind.CARRIER,
    Queue(carrier_task_queue(NAME), calls_per_s=5.0),
    dialect="toy_partner.dialect",
    webhook=Webhook(Scheme.HEADER_TOKEN),
    simulator=Simulator(8099, "toy_partner.simulator:create_app"),
    url_setting="toy_url",
    secrets=("toy_api_key",),
    adapter="toy_partner.adapter:from_settings",
)

__all__ = ["NAME", "PARTNER"]
