"""Settings of the API process (environment variables prefixed ``BORDERFLOW_``)."""

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from api.limits import ClientLimitSettings
from workers.serving import HttpServing


class ApiSettings(HttpServing, ClientLimitSettings):
    """The connection limits (``http_*``) are :class:`workers.serving.HttpServing`'s, the
    per-client-address ones (``client_*``, ``trusted_proxies``) :class:`ClientLimitSettings`'."""

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
    # Limits. Each API process enforces its own: with N processes behind a balancer, a caller
    # gets up to N times these rates.
    rate_limit_per_s: float = Field(default=20.0, gt=0)
    """Requests per second per API token (a token bucket, refilled continuously)."""
    rate_limit_burst: int = Field(default=40, ge=1)
    """How many requests a token may make at once after a quiet spell."""
    webhook_rate_limit_per_s: float = Field(default=50.0, gt=0)
    """Webhooks per second per partner."""
    webhook_rate_limit_burst: int = Field(default=200, ge=1)
    request_timeout_s: float = Field(default=60.0, gt=0)
    """A request still running after this long is answered 504."""
    update_timeout_s: float = Field(default=30.0, gt=0)
    """How long an ops action waits for the workflow's answer before 503 (< request_timeout_s)."""
    cursor_secret: SecretStr | None = None
    """Signs the shipment list's cursors. Unset: a random key per process (cursors then work
    only against the process that issued them: set it when several API processes serve)."""

    @model_validator(mode="after")
    def _update_within_request(self) -> "ApiSettings":
        if self.update_timeout_s >= self.request_timeout_s:
            raise ValueError("update_timeout_s must be shorter than request_timeout_s")
        return self

    metrics_refresh_s: float = 15.0
    """How often the shipment and dead-letter gauges of ``/metrics`` are counted again."""
    otel_exporter: Literal["otlp", "console", "none"] = "none"
    """Where finished trace spans go (spans are made and propagated either way)."""
    otel_endpoint: str | None = None
    """OTLP/HTTP traces URL, e.g. ``http://collector:4318/v1/traces`` (default: ``OTEL_*``)."""
    log_format: Literal["json", "text"] = "text"
    log_level: str = "INFO"
