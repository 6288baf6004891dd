"""Toy Post's settings, read from the platform's environment (``BORDERFLOW_TOY_*``)."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ToySettings(BaseSettings):
    """Where Toy Post is and our key; no key: not configured (the worker leaves it out)."""

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_", extra="ignore")

    toy_url: str = "http://127.0.0.1:8099"
    toy_api_key: SecretStr | None = None
    toy_webhook_secret: SecretStr | None = None
    """The simulator sends it with every webhook (the API checks it)."""
    toy_timeout_s: float = Field(default=10.0, gt=0)
