"""Settings for the partner simulators, read from ``BORDERFLOW_*`` environment variables.

Guarantees: secrets have no defaults (a missing one fails validation at start) and are
``SecretStr`` so they never appear in ``repr`` or logs. Other ``BORDERFLOW_*`` variables (the
platform shares one environment) are ignored. ``sim_faults`` (``BORDERFLOW_SIM_FAULTS``, JSON)
is validated at start: unknown partners or fault fields fail validation like a missing secret.
``sim_ports`` (``BORDERFLOW_SIM_PORTS``, JSON by partner name, e.g. ``{"odoo": 18069}``)
overrides the registry's default ports (:attr:`canonical.partner_descriptor.Simulator.port`)
of the partners it names; a name that is not a simulated partner's, or a port outside
``0``–``65535``, fails validation naming what is known. After validation it holds every
simulated partner's port, in registry order.
``sim_state_flush_interval`` is the longest a state file rests between two snapshots; an
answered write waited at most that plus two snapshot writes (:mod:`simulators.state_file`).
"""

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from canonical.partners import simulator_port, simulator_ports
from simulators.faults import PARTNERS, Faults

_ODOO_VERSION = re.compile(r"^\d{1,3}\.\d{1,2}$")

Port = Annotated[int, Field(ge=0, le=65535)]


def default_ports() -> dict[str, int]:
    """Every simulated partner's default port, from the registry, in registry order."""
    return simulator_ports()


class SimulatorSettings(BaseSettings):
    """Where the simulators listen, the credentials they accept and where webhooks go.

    A port of ``0`` means "pick a free port" (used by in-process tests).
    """

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_", extra="ignore")

    sim_host: str = "127.0.0.1"
    sim_ports: dict[str, Port] = Field(default_factory=default_ports)

    odoo_db: str = "borderflow"
    odoo_login: str = "admin"
    odoo_password: SecretStr
    tms_api_key: SecretStr
    carrier_api_key: SecretStr
    dhl_api_key: SecretStr
    broker_api_key: SecretStr
    easypost_webhook_secret: SecretStr
    broker_webhook_secret: SecretStr

    api_url: str = "http://127.0.0.1:8080"
    sim_time_scale: float = 1.0
    sim_odoo_state_file: Path | None = None
    sim_odoo_version: str = "17.0"
    sim_state_dir: Path | None = None
    sim_state_flush_interval: float = 0.25
    sim_faults: dict[str, dict[str, Any]] = {}

    @field_validator("api_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @field_validator("sim_time_scale")
    @classmethod
    def _positive_time_scale(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("sim_time_scale must be > 0")
        return value

    @field_validator("sim_state_flush_interval")
    @classmethod
    def _flush_interval(cls, value: float) -> float:
        if not 0 <= value <= 10:
            raise ValueError("sim_state_flush_interval must be between 0 and 10 seconds")
        return value

    @field_validator("sim_odoo_version")
    @classmethod
    def _odoo_version(cls, value: str) -> str:
        if not _ODOO_VERSION.match(value):
            raise ValueError("sim_odoo_version must look like '17.0' or '19.0'")
        return value

    @field_validator("sim_ports")
    @classmethod
    def _ports(cls, value: dict[str, int]) -> dict[str, int]:
        return simulator_ports(value)

    @field_validator("sim_faults")
    @classmethod
    def _faults(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        unknown = sorted(set(value) - set(PARTNERS))
        if unknown:
            raise ValueError(f"unknown partners {unknown}; expected some of {list(PARTNERS)}")
        for faults in value.values():
            Faults.model_validate(faults)  # raises naming the offending field
        return value

    def faults_for(self, partner: str) -> Faults:
        """The start-up faults of one partner (none when not configured)."""
        return Faults.model_validate(self.sim_faults.get(partner, {}))

    def port(self, name: str) -> int:
        """The port partner ``name``'s simulator listens on; ``KeyError`` naming the known."""
        return simulator_port(self.sim_ports, name)

    def webhook_url(self, name: str) -> str:
        """Where partner ``name``'s simulator posts its webhooks (the API's route for it)."""
        return f"{self.api_url}/v1/webhooks/{name}"

    def state_file(self, name: str) -> Path | None:
        """``<sim_state_dir>/<name>.json``, or ``None`` when state is kept in memory only."""
        return None if self.sim_state_dir is None else self.sim_state_dir / f"{name}.json"


__all__ = ["Port", "SimulatorSettings", "default_ports"]
