"""The simulators follow the partner registry: what is served, on which port, which switches.

``start_simulators`` serves exactly :func:`canonical.partners.simulated` (a plugin's simulator
included), ``BORDERFLOW_SIM_PORTS`` takes only their names, and the fault switches are keyed
by exactly those names.
"""

import json
from typing import Any

import httpx
import pytest
from aiohttp import web
from pydantic import ValidationError
from sim_support import SECRETS, running

import canonical.partners as registry
from canonical.partner_descriptor import Partner, PartnerKind, Simulator
from canonical.partners import BUILT_IN, simulated
from simulators.app import RunningSimulators, load_factory
from simulators.faults import PARTNERS
from simulators.settings import SimulatorSettings, default_ports

NAMES = [partner.name for partner in simulated()]
TOY = Partner("toy", PartnerKind.NOTIFICATION, simulator=Simulator(0, "test_sim_registry:toy_app"))


def toy_app(settings: SimulatorSettings) -> web.Application:
    """A plugin's simulator factory: answers where its webhooks would go."""

    async def hello(_: web.Request) -> web.Response:
        return web.json_response({"webhook_url": settings.webhook_url("toy")})

    app = web.Application()
    app.router.add_get("/", hello)
    return app


def env_settings(monkeypatch: pytest.MonkeyPatch, **env: str) -> SimulatorSettings:
    """Settings read from the environment: the test secrets plus ``env``."""
    for name, value in SECRETS.items():
        monkeypatch.setenv(f"BORDERFLOW_{name.upper()}", value)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return SimulatorSettings()


async def test_serves_exactly_the_simulated_partners(
    http: httpx.AsyncClient, sims: RunningSimulators
) -> None:
    assert NAMES == ["odoo", "tms", "easypost", "dhl", "broker", "notify"]
    assert list(sims.urls) == NAMES
    for name in NAMES:
        answer = await http.get(f"{sims.url(name)}/_sim/faults")
        assert answer.status_code == 200, name
        assert answer.json()["injected"]["down"] == 0
    with pytest.raises(KeyError, match=r"'carrier'.*'easypost'"):
        sims.url("carrier")


async def test_a_plugin_simulator_is_served(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry, "partners", lambda: (*BUILT_IN, TOY))
    assert default_ports()["toy"] == 0
    async with running("http://api.example") as sims:
        assert list(sims.urls) == [*NAMES, "toy"]
        answer = await http.get(sims.url("toy"))
        assert answer.json() == {"webhook_url": "http://api.example/v1/webhooks/toy"}


def test_sim_ports_override_the_registry_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = env_settings(monkeypatch)
    assert defaults.sim_ports == {p.name: p.simulator.port for p in simulated() if p.simulator}
    settings = env_settings(monkeypatch, BORDERFLOW_SIM_PORTS='{"odoo": 18069, "notify": 0}')
    assert (settings.port("odoo"), settings.port("notify")) == (18069, 0)
    assert settings.port("tms") == 8091  # the registry's default
    assert list(settings.sim_ports) == NAMES
    with pytest.raises(KeyError, match=r"'aftership'.*'odoo'"):
        settings.port("aftership")  # a partner, but not a simulated one
    assert settings.webhook_url("broker") == f"{settings.api_url}/v1/webhooks/broker"


@pytest.mark.parametrize(
    ("ports", "named"),
    [
        ({"carrier": 18092}, "'carrier'"),
        ({"finance": 18094}, "'finance'"),
        ({"aftership": 1}, "'aftership'"),
        ({"odoo": 65536}, "less than or equal to 65535"),
        ({"odoo": -1}, "greater than or equal to 0"),
    ],
)
def test_sim_ports_refuse_unknown_names_and_bad_ports(
    monkeypatch: pytest.MonkeyPatch, ports: dict[str, Any], named: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        env_settings(monkeypatch, BORDERFLOW_SIM_PORTS=json.dumps(ports))
    (error,) = caught.value.errors()
    assert error["loc"][0] == "sim_ports"
    assert named in str(caught.value)
    if named.startswith("'"):
        assert all(repr(name) in str(caught.value) for name in NAMES)  # names the known ones


def test_fault_switches_take_exactly_the_registry_names(monkeypatch: pytest.MonkeyPatch) -> None:
    assert list(PARTNERS) == NAMES
    every = json.dumps({name: {"fail_next": 1} for name in NAMES})
    settings = env_settings(monkeypatch, BORDERFLOW_SIM_FAULTS=every)
    assert all(settings.faults_for(name).fail_next == 1 for name in NAMES)
    for old in ("finance", "carrier"):
        with pytest.raises(ValidationError, match=f"'{old}'"):
            env_settings(monkeypatch, BORDERFLOW_SIM_FAULTS=json.dumps({old: {}}))


async def test_the_notify_simulator_takes_the_notify_faults(http: httpx.AsyncClient) -> None:
    async with running("http://127.0.0.1:9", sim_faults={"notify": {"fail_next": 1}}) as sims:
        hook = f"{sims.url('notify')}/hooks/finance"
        assert (await http.post(hook, json={"text": "hi"})).status_code == 503
        assert (await http.post(hook, json={"text": "hi"})).status_code == 200


def test_a_malformed_simulator_target_fails_naming_the_partner() -> None:
    with pytest.raises(ValueError, match="'toy'"):
        load_factory("toy", "no_function_here")
    with pytest.raises(ValueError, match=r"'toy'.*not a function"):
        load_factory("toy", "simulators.faults:PARTNERS")
