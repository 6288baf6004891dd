"""Settings of the worker process (environment variables prefixed ``BORDERFLOW_``)."""

from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_")

    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    database_url: str = "sqlite:///.data/borderflow.db"
    graceful_shutdown_s: float = 30.0
    """How long a stopping worker lets running activities finish."""

    odoo_url: str = "http://127.0.0.1:8069"
    odoo_db: str = "borderflow"
    odoo_login: str = "admin"
    odoo_password: SecretStr
    odoo_api_key: SecretStr | None = None
    """Odoo ≥ 19 API key, for the JSON-2 transport."""
    odoo_transport: Literal["auto", "jsonrpc", "json2"] = "auto"
    tms_url: str = "http://127.0.0.1:8091"
    tms_api_key: SecretStr
    carrier_url: str = "http://127.0.0.1:8092"
    carrier_api_key: SecretStr
    broker_url: str = "http://127.0.0.1:8093"
    broker_api_key: SecretStr
    dhl_url: str = "http://127.0.0.1:8095"
    dhl_api_key: SecretStr | None = None
    notify_url: str = "http://127.0.0.1:8094"
    """Webhook sink of the notification channels: ``{notify_url}/hooks/{ops|finance|account}``."""

    odoo_calls_per_s: float = 20.0
    tms_calls_per_s: float = 20.0
    carrier_calls_per_s: float = 10.0
    broker_calls_per_s: float = 10.0
    notify_calls_per_s: float = 5.0
    """Per-partner rate limits, enforced by the server across every worker."""
    max_concurrent_activities: int = 50
    """Activity slots of each task queue's worker in this process."""

    def calls_per_second(self, partner: str) -> float:
        return float(getattr(self, f"{partner}_calls_per_s"))
