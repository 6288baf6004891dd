"""``borderflow up`` and the benchmarks wire every partner of the registry: each simulated
partner gets its port (``BORDERFLOW_SIM_PORTS``), the worker its URL setting, and every
partner's credentials are generated into ``local.env`` (a plugin's as a built-in's)."""

import json
import socket
from pathlib import Path

import pytest
from pydantic import ValidationError

import canonical.partners
from api.webhook_partners import WEBHOOK_PARTNERS
from bench.platform import PORT_NAMES, port_env, sim_port_name
from canonical.partner_descriptor import Partner, PartnerKind, Queue, Simulator
from canonical.partners import partners, simulated
from cli.local_env import load_or_create_secrets
from cli.settings import UpSettings
from cli.up import StartupError, check_ports_free, platform_env

TOY = Partner(
    "toy", PartnerKind.CARRIER, Queue("borderflow-carrier-toy", 1.0),
    simulator=Simulator(18999, "toy_partner:create_app"),
    url_setting="toy_url", secrets=("toy_api_key",),
)  # fmt: skip
"""A plugin's simulated partner, as its entry point would register it."""


def ports_of(env: dict[str, str]) -> dict[str, int]:
    ports: dict[str, int] = json.loads(env["BORDERFLOW_SIM_PORTS"])
    return ports


def test_every_simulated_partner_gets_its_port_and_the_worker_its_url(tmp_path: Path) -> None:
    first, *_ = simulated()
    settings = UpSettings(host="127.0.0.2", sim_ports={first.name: 18069})
    env = platform_env(settings, tmp_path)
    ports = ports_of(env)
    assert list(ports) == [p.name for p in simulated()]
    assert ports[first.name] == 18069
    for p in simulated():
        assert p.simulator is not None
        if p is not first:
            assert ports[p.name] == p.simulator.port  # the registry's default
        if p.url_setting is not None:
            assert env[f"BORDERFLOW_{p.url_setting.upper()}"] == f"http://127.0.0.2:{ports[p.name]}"
    # the settings the worker has always read, still pointed at the simulators
    for name in ("ODOO", "TMS", "CARRIER", "DHL", "BROKER", "NOTIFY"):
        assert env[f"BORDERFLOW_{name}_URL"].startswith("http://127.0.0.2:")
    assert not [k for k in env if k.startswith("BORDERFLOW_SIM_") and k.endswith("_PORT")]


def test_a_plugin_simulated_partner_is_wired_like_a_built_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with_toy = (*partners(), TOY)
    monkeypatch.setattr(canonical.partners, "partners", lambda: with_toy)
    env = platform_env(UpSettings(), tmp_path)
    assert ports_of(env)["toy"] == 18999
    assert env["BORDERFLOW_TOY_URL"] == "http://127.0.0.1:18999"


def test_sim_ports_from_the_environment_keep_the_defaults_and_refuse_unknown_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, *_ = simulated()
    monkeypatch.setenv("BORDERFLOW_SIM_PORTS", json.dumps({first.name: 19000}))
    settings = UpSettings()
    assert settings.sim_port(first.name) == 19000
    assert set(settings.sim_ports) == {p.name for p in simulated()}
    with pytest.raises(KeyError, match="known: "):
        settings.sim_port("nobody")
    monkeypatch.setenv("BORDERFLOW_SIM_PORTS", json.dumps({"carrier": 19000}))
    with pytest.raises(ValidationError, match=rf"'carrier'.*known: .*'{first.name}'"):
        UpSettings()
    monkeypatch.setenv("BORDERFLOW_SIM_PORTS", json.dumps({first.name: 70000}))
    with pytest.raises(ValidationError):
        UpSettings()


def test_a_busy_simulator_port_is_named_by_its_partner() -> None:
    *_, last = simulated()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        busy = int(holder.getsockname()[1])
        others = {p.name: 0 for p in simulated()}
        settings = UpSettings(
            temporal_port=0, temporal_ui_port=0, api_port=0, worker_metrics_port=0,
            worker_sdk_metrics_port=0, sim_ports={**others, last.name: busy},
        )  # fmt: skip
        with pytest.raises(StartupError, match=rf"port {busy} \({last.name} simulator\)"):
            check_ports_free(settings)


def test_every_registry_partner_credential_and_webhook_secret_is_generated(
    tmp_path: Path,
) -> None:
    generated = load_or_create_secrets(tmp_path / "local.env")
    expected = {env for p in partners() for env in p.secret_envs}
    expected |= {d.secret_env for d in WEBHOOK_PARTNERS}
    assert set(generated) == expected
    # the simulators' credentials `borderflow up` has always generated
    for name in ("ODOO_PASSWORD", "TMS_API_KEY", "CARRIER_API_KEY", "DHL_API_KEY",
                 "BROKER_API_KEY"):  # fmt: skip
        assert generated[f"BORDERFLOW_{name}"]
    assert all(generated.values())


def test_the_benchmarks_give_every_simulated_partner_its_port() -> None:
    ports = {name: 20000 + i for i, name in enumerate(PORT_NAMES)}
    ports |= {sim_port_name(p.name): 21000 + i for i, p in enumerate(simulated())}
    env = port_env(ports)
    assert json.loads(env["BORDERFLOW_SIM_PORTS"]) == {
        p.name: ports[sim_port_name(p.name)] for p in simulated()
    }
    assert env["BORDERFLOW_API_PORT"] == str(ports["api"])
