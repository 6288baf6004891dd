"""Settings of the API process (environment variables prefixed ``BORDERFLOW_``)."""

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_")

    api_host: str = "127.0.0.1"
    api_port: int = 8080
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://localhost:8233"
    database_url: str = "sqlite:///.data/borderflow.db"
    max_body_bytes: int = 1_048_576
    """Larger request bodies are refused with 413."""
    easypost_webhook_secret: SecretStr
    broker_webhook_secret: SecretStr
    webhook_tolerance_s: int = 300
    """How far a signed webhook timestamp may be from now, either way."""
    inbox_redelivery_s: float = 2.0
    """How often stored webhooks that could not be signalled yet are retried."""
    inbox_unknown_grace_s: float = 600.0
    """How long a webhook for a shipment we cannot find is retried before it is a dead letter."""
    inbox_retention_days: float = 7.0
    """How long delivered webhooks are kept (to recognise late redeliveries); at least 4."""
