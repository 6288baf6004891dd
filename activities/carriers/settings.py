"""The carriers' settings: where each built-in carrier is, its key and its call timeout.

Part of the worker's settings (``workers/settings.py`` inherits it), read from the same
``BORDERFLOW_*`` environment variables, so a carrier's settings live next to its adapter
rather than in the worker. Guarantees: keys stay :class:`~pydantic.SecretStr` until an adapter
is built; a timeout is positive; a Karrio connection name is never a registered carrier's
name nor used twice. A plugin carrier reads its own settings (its own pydantic model) in its
adapter factory: nothing here names it.
"""

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from activities.carriers.karrio_settings import KarrioConnection


class CarrierSettings(BaseSettings):
    """The built-in carriers' and the Karrio connections' settings."""

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_")

    carrier_url: str = "http://127.0.0.1:8092"
    """The EasyPost-style carrier (its variables predate the registry: ``CARRIER_*``)."""
    carrier_api_key: SecretStr
    carrier_timeout_s: float = Field(default=20.0, gt=0)
    dhl_url: str = "http://127.0.0.1:8095"
    dhl_api_key: SecretStr | None = None
    """Unset or empty: the DHL-style carrier is not configured here."""
    dhl_timeout_s: float = Field(default=20.0, gt=0)
    karrio_carriers: list[KarrioConnection] = Field(default_factory=list)
    """Carriers reached through Karrio, as a JSON list of connections (``name``, ``carrier``,
    ``settings``, ``secrets``, ``server_url``, ``services``, ``lanes``, …; see
    ``activities/carriers/karrio_settings.py``)."""

    @model_validator(mode="after")
    def _karrio_names_unique(self) -> "CarrierSettings":
        from canonical.partners import partners  # the registry, plugins included

        registered = {partner.name for partner in partners()}
        names = [connection.name for connection in self.karrio_carriers]
        taken = {n for n in names if n in registered or names.count(n) > 1}
        if taken:
            raise ValueError(f"carrier names used twice: {sorted(taken)}")
        return self


def configured(key: SecretStr | None) -> bool:
    """A key is set and not blank."""
    return key is not None and bool(key.get_secret_value().strip())


__all__ = ["CarrierSettings", "configured"]
