"""Settings for the partner simulators, read from ``BORDERFLOW_*`` environment variables.

Guarantees: secrets have no defaults (a missing one fails validation at start) and are
``SecretStr`` so they never appear in ``repr`` or logs. Other ``BORDERFLOW_*`` variables (the
platform shares one environment) are ignored.
"""

from pathlib import Path

from pydantic import SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SimulatorSettings(BaseSettings):
    """Where the simulators listen, the credentials they accept and where webhooks go.

    A port of ``0`` means "pick a free port" (used by in-process tests).
    """

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_", extra="ignore")

    sim_host: str = "127.0.0.1"
    sim_odoo_port: int = 8069
    sim_tms_port: int = 8091
    sim_carrier_port: int = 8092
    sim_broker_port: int = 8093
    sim_finance_port: int = 8094

    odoo_db: str = "borderflow"
    odoo_login: str = "admin"
    odoo_password: SecretStr
    tms_api_key: SecretStr
    carrier_api_key: SecretStr
    broker_api_key: SecretStr
    easypost_webhook_secret: SecretStr
    broker_webhook_secret: SecretStr

    api_url: str = "http://127.0.0.1:8080"
    sim_time_scale: float = 1.0
    sim_odoo_state_file: Path | None = None

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

    @property
    def easypost_webhook_url(self) -> str:
        """Where the carrier simulator posts tracker events."""
        return f"{self.api_url}/v1/webhooks/easypost"

    @property
    def broker_webhook_url(self) -> str:
        """Where the broker simulator posts declaration status events."""
        return f"{self.api_url}/v1/webhooks/broker"
