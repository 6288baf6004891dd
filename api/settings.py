"""Settings of the API process (environment variables prefixed ``BORDERFLOW_``).

The webhook partners' settings are generated, three per declaration of
:data:`api.webhook_partners.WEBHOOK_PARTNERS` (so a plugin partner's appear with no edit here):

- ``<name>_webhook_secret`` (``BORDERFLOW_<NAME>_WEBHOOK_SECRET``): required for a
  ``required`` partner (EasyPost, the broker), else optional; unset or empty, the partner has no
  route (404). What it holds is the scheme's: DCSA's is the subscription's ``secret``,
  base64-encoded as the subscription carries it; DHL's the ``token`` of the push subscription's
  ``ApiKeyAuthentication`` (sent back in ``X-Webhook-Token``); Shippo's the token of the
  webhook URL registered at Shippo (``…/v1/webhooks/shippo?token=…``);
- ``<name>_webhook_secret_previous``: a second secret accepted during a rotation;
- ``<name>_webhook_sources``: the networks its webhooks may come from, a JSON list such as
  ``["52.4.41.98/32"]`` (default anywhere; the address is the client's as
  :func:`api.limits.client_ip` finds it, behind ``trusted_proxies``). Shippo publishes the
  addresses it sends from (docs.goshippo.com, webhook security).

Code reads them through :func:`webhook_settings`, typed, not by attribute.
"""

from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Network
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, create_model, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from api.limits import ClientLimitSettings
from api.webhook_partners import WEBHOOK_PARTNERS, WebhookDeclaration
from workers.serving import HttpServing

Sources = list[IPvAnyNetwork]
ANYWHERE: Sources = [IPv4Network("0.0.0.0/0"), IPv6Network("::/0")]


def _anywhere() -> Sources:
    return list(ANYWHERE)


class _WebhookSettingsBase(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_")


def _webhook_fields(declaration: WebhookDeclaration) -> dict[str, Any]:
    secret: tuple[Any, Any] = (SecretStr, ...) if declaration.required else (SecretStr | None, None)
    return {
        declaration.secret_setting: secret,
        declaration.previous_setting: (SecretStr | None, None),
        declaration.sources_setting: (Sources, Field(default_factory=_anywhere)),
    }


if TYPE_CHECKING:
    WebhookSecrets = _WebhookSettingsBase
else:
    WebhookSecrets = create_model(
        "WebhookSecrets",
        __base__=_WebhookSettingsBase,
        __module__=__name__,
        __doc__="The three settings of each webhook partner (see the module docstring).",
        **{k: v for d in WEBHOOK_PARTNERS for k, v in _webhook_fields(d).items()},
    )


@dataclass(frozen=True)
class PartnerWebhookSettings:
    """One webhook partner's settings, as :class:`WebhookSecrets` holds them."""

    secret: SecretStr | None
    previous: SecretStr | None
    sources: Sources


def webhook_settings(
    settings: WebhookSecrets, declaration: WebhookDeclaration
) -> PartnerWebhookSettings:
    """The generated settings of ``declaration``'s partner (the one typed accessor)."""
    secret: SecretStr | None = getattr(settings, declaration.secret_setting)
    previous: SecretStr | None = getattr(settings, declaration.previous_setting)
    sources: Sources = getattr(settings, declaration.sources_setting)
    return PartnerWebhookSettings(secret, previous, sources)


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


__all__ = [
    "ANYWHERE",
    "ApiSettings",
    "PartnerWebhookSettings",
    "Sources",
    "WebhookSecrets",
    "webhook_settings",
]
