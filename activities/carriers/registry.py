"""Which carriers a worker can book with, built from settings.

Guarantees: a carrier is registered only when it has credentials (a missing or empty API key
leaves it out, so a worker never calls a carrier with no key); every client gets the explicit
timeout configured here; keys stay :class:`~pydantic.SecretStr` until the client is built.
Karrio carriers are data: each :class:`KarrioConnection` listed in ``karrio`` is one more
carrier under its own name (the Karrio SDK is imported only when one is listed); a name taken
twice is refused.
"""

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from activities.carriers.dhl import DhlCarrier
from activities.carriers.easypost import EasyPostCarrier
from activities.carriers.karrio_settings import KarrioConnection
from activities.carriers.port import CarrierPort

CARRIER_NAMES: tuple[str, ...] = ("easypost", "dhl")
"""Every carrier a dedicated adapter exists for (``Shipment.carrier`` values); Karrio
connections add their own names."""


class CarrierSettings(BaseModel):
    """Where the carriers are, their keys and how long a call may take."""

    model_config = ConfigDict(extra="forbid")

    easypost_url: str = "http://127.0.0.1:8092"
    easypost_api_key: SecretStr
    easypost_timeout_s: float = Field(default=20.0, gt=0)
    dhl_url: str = "http://127.0.0.1:8095"
    dhl_api_key: SecretStr | None = None
    dhl_timeout_s: float = Field(default=20.0, gt=0)
    karrio: list[KarrioConnection] = Field(default_factory=list)
    """Carriers reached through Karrio, one per connection."""

    @model_validator(mode="after")
    def _names_unique(self) -> "CarrierSettings":
        names = [c.name for c in self.karrio]
        taken = {n for n in names if n in CARRIER_NAMES or names.count(n) > 1}
        if taken:
            raise ValueError(f"carrier names used twice: {sorted(taken)}")
        return self


def _has(key: SecretStr | None) -> bool:
    return key is not None and bool(key.get_secret_value().strip())


def build_carriers(settings: CarrierSettings) -> dict[str, CarrierPort]:
    """One adapter per carrier with credentials, by name; the caller ``aclose``s them."""
    carriers: dict[str, CarrierPort] = {}
    if _has(settings.easypost_api_key):
        carriers["easypost"] = EasyPostCarrier(
            settings.easypost_url,
            settings.easypost_api_key,
            timeout_s=settings.easypost_timeout_s,
        )
    if settings.dhl_api_key is not None and _has(settings.dhl_api_key):
        carriers["dhl"] = DhlCarrier(
            settings.dhl_url, settings.dhl_api_key, timeout_s=settings.dhl_timeout_s
        )
    if settings.karrio:
        from activities.carriers.karrio import KarrioCarrier  # the SDK only when used

        for connection in settings.karrio:
            carriers[connection.name] = KarrioCarrier(connection)
    return carriers
