"""Settings of the ``borderflow`` command (environment variables prefixed ``BORDERFLOW_``).

``borderflow up`` generates the local platform's secrets once and keeps them in
``<data_dir>/local.env`` (mode 0600), so that later runs, and ``borderflow demo`` or
``borderflow status`` in another terminal, talk to the same simulators.

The simulators' ports are one setting, ``sim_ports`` (env ``BORDERFLOW_SIM_PORTS``, JSON keyed
by partner name, e.g. ``{"odoo": 18069}``): every simulated partner of the registry
(:func:`canonical.partners.simulated`) has one, its default the registry's; a partner left out
keeps its default, a name the registry does not simulate is refused, naming the known ones, as
is a port outside 0–65535 (the simulators validate ``BORDERFLOW_SIM_PORTS`` the same way).
"""

import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from canonical.partners import simulator_port, simulator_ports

Port = Annotated[int, Field(ge=0, le=65535)]

DEFAULT_DATA_DIR = Path(".data")


def default_sim_ports() -> dict[str, int]:
    """Every simulated partner's default port (the registry's), by partner name."""
    return simulator_ports()


class CliSettings(BaseSettings):
    """What the ops commands (``demo``, ``status``) need to reach a running platform."""

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_", extra="ignore")

    api_url: str = "http://127.0.0.1:8080"
    api_token: SecretStr | None = None
    """Bearer token for the API (``borderflow token create``; ``make run`` writes one)."""
    database_url: str = "sqlite:///.data/borderflow.db"
    """The store, for ``borderflow token create``."""
    odoo_url: str = "http://127.0.0.1:8069"
    odoo_db: str = "borderflow"
    odoo_login: str = "admin"
    odoo_password: SecretStr | None = None
    temporal_address: str = "127.0.0.1:7233"
    """For ``borderflow temporal-setup`` (TLS and API key: ``workers/connection.py``)."""
    temporal_namespace: str = "default"
    otel_exporter: Literal["otlp", "console", "none"] = "none"
    """Where the command's trace spans go (see ``observability.tracing``)."""
    otel_endpoint: str | None = None


class UpSettings(BaseSettings):
    """Ports, paths and pace of the local platform that ``borderflow up`` runs."""

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_", extra="ignore")

    data_dir: Path = DEFAULT_DATA_DIR
    host: str = "127.0.0.1"
    temporal_port: int = 7233
    temporal_ui_port: int = 8233
    api_port: int = 8080
    sim_ports: dict[str, Port] = Field(default_factory=default_sim_ports)
    """Each simulated partner's port, by partner name (env ``BORDERFLOW_SIM_PORTS``, JSON)."""
    worker_sdk_metrics_port: int = 9465
    """Loopback port of the worker's Temporal SDK metrics (bridged into its ``/metrics``)."""
    odoo_db: str = "borderflow"
    odoo_login: str = "admin"
    sim_time_scale: float = 1.0
    """Seconds between two steps of a partner's story (tracking events, customs status)."""
    database_url: str | None = None
    """Our store; default: SQLite in ``data_dir``."""
    demo_shipments: int = 1
    """Demo shipments to run once the platform is up (0: none)."""
    demo_timeout_s: float = 120.0
    ready_timeout_s: float = 60.0
    encryption: bool = False
    """Encrypt every Temporal payload (a key is generated into ``local.env`` once) and run the
    codec server, through which the Temporal UI decodes. Stays on while ``local.env`` has keys."""
    codec_port: int = 8234
    """The codec server's port (with ``encryption``)."""
    worker_metrics_port: int = 9464
    """The worker's HTTP port: ``/healthz``, ``/readyz``, ``/metrics``."""

    @field_validator("sim_ports")
    @classmethod
    def _known_partners(cls, ports: dict[str, int]) -> dict[str, int]:
        return simulator_ports(ports)

    def sim_port(self, name: str) -> int:
        """The port of partner ``name``'s simulator; ``KeyError`` naming the known ones."""
        return simulator_port(self.sim_ports, name)


def local_env_file(data_dir: Path | None = None) -> Path:
    base = data_dir or Path(os.environ.get("BORDERFLOW_DATA_DIR", DEFAULT_DATA_DIR))
    return base / "local.env"


def cli_settings() -> CliSettings:
    """CLI settings from the environment, falling back to the local platform's env file."""
    return CliSettings(_env_file=local_env_file())


__all__ = [
    "DEFAULT_DATA_DIR",
    "CliSettings",
    "UpSettings",
    "cli_settings",
    "default_sim_ports",
    "local_env_file",
]
