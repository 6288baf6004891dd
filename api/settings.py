"""Settings of the API process (environment variables prefixed ``BORDERFLOW_``)."""

from ipaddress import IPv4Network, IPv6Network
from typing import Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.limits import ClientLimitSettings
from workers.serving import HttpServing

Sources = list[IPvAnyNetwork]
ANYWHERE: Sources = [IPv4Network("0.0.0.0/0"), IPv6Network("::/0")]


def _anywhere() -> Sources:
    return list(ANYWHERE)


class WebhookSecrets(BaseSettings):
    """Per webhook partner of ``api/webhook_partners.py``: its secret, a second one accepted
    during a rotation (``_previous``), and the networks its webhooks may come from
    (``_sources``, a JSON list such as ``["52.4.41.98/32"]``; default anywhere: the address
    is the client's as :func:`api.limits.client_ip` finds it, behind ``trusted_proxies``).
    A partner whose secret is unset has no route (404), except EasyPost and the broker, whose
    secrets are required."""

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_")

    easypost_webhook_secret: SecretStr
    easypost_webhook_secret_previous: SecretStr | None = None
    easypost_webhook_sources: Sources = Field(default_factory=_anywhere)
    broker_webhook_secret: SecretStr
    broker_webhook_secret_previous: SecretStr | None = None
    broker_webhook_sources: Sources = Field(default_factory=_anywhere)
    aftership_webhook_secret: SecretStr | None = None
    aftership_webhook_secret_previous: SecretStr | None = None
    aftership_webhook_sources: Sources = Field(default_factory=_anywhere)
    dcsa_webhook_secret: SecretStr | None = None
    """The subscription's ``secret``, base64-encoded as the subscription carries it."""
    dcsa_webhook_secret_previous: SecretStr | None = None
    dcsa_webhook_sources: Sources = Field(default_factory=_anywhere)
    shippo_webhook_secret: SecretStr | None = None
    """The token of the webhook URL registered at Shippo (``…/v1/webhooks/shippo?token=…``)."""
    shippo_webhook_secret_previous: SecretStr | None = None
    shippo_webhook_sources: Sources = Field(default_factory=_anywhere)
    """Shippo publishes the addresses it sends from (docs.goshippo.com webhook security)."""
    dhl_webhook_secret: SecretStr | None = None
    """The ``token`` of the DHL push subscription's ``ApiKeyAuthentication`` (header
    ``X-Webhook-Token``)."""
    dhl_webhook_secret_previous: SecretStr | None = None
    dhl_webhook_sources: Sources = Field(default_factory=_anywhere)
    tms_webhook_secret: SecretStr | None = None
    tms_webhook_secret_previous: SecretStr | None = None
    tms_webhook_sources: Sources = Field(default_factory=_anywhere)


class ApiSettings(HttpServing, ClientLimitSettings, WebhookSecrets):
    """The connection limits (``http_*``) are :class:`workers.serving.HttpServing`'s, the
    per-client-address ones (``client_*``, ``trusted_proxies``) :class:`ClientLimitSettings`',
    the webhook partners' secrets and sources :class:`WebhookSecrets`'."""

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_")

    api_host: str = "127.0.0.1"
    api_port: int = 8080
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    temporal_ui_url: str = "http://localhost:8233"
    database_url: str = "sqlite:///.data/borderflow.db"
    max_body_bytes: int = 1_048_576
    """Larger request bodies are refused with 413."""
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
