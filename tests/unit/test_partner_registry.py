"""The partner registry: built-in partners, plugins by entry point, and what reads them."""

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from canonical import partners as registry
from canonical.partner_descriptor import PartnerKind, carrier_task_queue
from workers.settings import KARRIO_CALLS_PER_S, WorkerSettings
from workflows.partners import PARTNERS, for_carrier

PLUGIN = """
from canonical.partner_descriptor import Partner, PartnerKind, Queue, carrier_task_queue

PARTNER = Partner("{name}", PartnerKind.CARRIER, Queue(carrier_task_queue("{name}"), 3.0),
                  adapter="toy_partner:from_settings")
NOT_A_PARTNER = "toy"
"""
WORKER_SECRETS = ("odoo_password", "tms_api_key", "carrier_api_key", "broker_api_key")


def install_plugin(root: Path, entry: str, name: str = "toy") -> None:
    """A distribution on ``sys.path`` whose entry point ``entry`` names a partner."""
    (root / "toy_partner.py").write_text(PLUGIN.format(name=name))
    info = root / "toy_partner-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-partner\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{registry.ENTRY_POINT_GROUP}]\ntoy = {entry}\n")


@pytest.fixture
def plugin_path(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    registry.partners.cache_clear()
    yield tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("toy_partner", None)
    registry.partners.cache_clear()


def worker_settings(**fields: object) -> WorkerSettings:
    secrets = {name: SecretStr("x") for name in WORKER_SECRETS}
    return WorkerSettings(**secrets, **fields)  # type: ignore[arg-type]


def test_built_in_partners_are_unique_and_every_carrier_has_its_own_queue() -> None:
    names = [partner.name for partner in registry.partners()]
    assert len(names) == len(set(names))
    carriers = registry.carriers()
    assert {p.name for p in carriers} == {"easypost", "dhl"}
    for partner in carriers:
        assert partner.queue is not None and partner.queue.name == carrier_task_queue(partner.name)
        assert for_carrier(partner.name).task_queue == partner.queue.name
    assert {p.name for p in registry.pushing()} >= {"easypost", "broker", "aftership", "dcsa"}


def test_the_workflow_routes_to_the_registry_queues() -> None:
    queues = {p.name: p.queue.name for p in registry.partners() if p.queue is not None}
    assert {calls.partner: calls.task_queue for calls in PARTNERS} == {
        name: queue for name, queue in queues.items() if name in {c.partner for c in PARTNERS}
    }
    assert {calls.partner for calls in PARTNERS} == {
        p.name for p in registry.partners() if p.queue and p.kind is not PartnerKind.CARRIER
    }


def test_a_plugin_partner_joins_the_registry(plugin_path: Path) -> None:
    install_plugin(plugin_path, "toy_partner:PARTNER")
    toy = registry.partner("toy")
    assert registry.partners()[-1] is toy and toy in registry.carriers()
    assert worker_settings().calls_per_second("toy") == 3.0


@pytest.mark.parametrize(
    ("entry", "name", "message"),
    [
        ("toy_partner:NOT_A_PARTNER", "toy", "is not a Partner"),
        ("toy_partner:MISSING", "toy", "failed to load"),
        ("toy_partner:PARTNER", "dhl", "'dhl' registered twice"),
    ],
)
def test_a_broken_plugin_fails_loudly_naming_itself(
    plugin_path: Path, entry: str, name: str, message: str
) -> None:
    install_plugin(plugin_path, entry, name)
    with pytest.raises(registry.PartnerRegistryError, match=message):
        registry.partners()


def test_rate_limits_default_to_the_registry_and_refuse_unknown_partners() -> None:
    karrio = [{"name": "karrio-toy", "carrier": "generic"}]
    settings = worker_settings(calls_per_s={"dhl": 2.5}, karrio_carriers=karrio)
    assert settings.calls_per_second("dhl") == 2.5
    assert settings.calls_per_second("easypost") == registry.partner("easypost").queue.calls_per_s  # type: ignore[union-attr]
    assert settings.calls_per_second("karrio-toy") == KARRIO_CALLS_PER_S
    with pytest.raises(ValidationError, match="unknown partners \\['fedex'\\]"):
        worker_settings(calls_per_s={"fedex": 1})
    with pytest.raises(ValidationError, match="must be > 0"):
        worker_settings(calls_per_s={"odoo": 0})


def test_only_the_partners_that_echo_our_ids_may_name_a_shipment() -> None:
    from api.partner_scope import reference_partners

    assert reference_partners() == {"broker", "tms"}
    assert not {p.name for p in registry.carriers()} & reference_partners()
