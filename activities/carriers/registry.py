"""Which carriers a worker can book with: every registered carrier that is configured here,
then the Karrio connections.

The carriers are the registry's (``canonical.partners.carriers()``, plugins included); each
names its adapter factory, ``"module:function"`` with ``function(settings) -> CarrierPort |
None``, imported only here. Guarantees: a carrier is built only when its factory says it is
configured (a missing or blank API key leaves it out, so a worker never calls a carrier with no
key); a factory that fails names its carrier; Karrio carriers are data (each
:class:`~activities.carriers.karrio_settings.KarrioConnection` is one more carrier under its
own name; the Karrio SDK is imported only when one is listed).
"""

from collections.abc import Callable
from importlib import import_module

from activities.carriers.port import CarrierPort
from activities.carriers.settings import CarrierSettings
from canonical.partners import carriers as registered_carriers

CarrierFactory = Callable[[CarrierSettings], CarrierPort | None]


def factory(adapter: str) -> CarrierFactory:
    """The factory ``"module:function"`` names (``ValueError`` when it does not resolve)."""
    module_name, _, function = adapter.partition(":")
    try:
        found: CarrierFactory = getattr(import_module(module_name), function)
    except (ImportError, AttributeError) as err:
        raise ValueError(f"carrier adapter {adapter!r} cannot be loaded: {err}") from err
    return found


def build_carriers(settings: CarrierSettings) -> dict[str, CarrierPort]:
    """One adapter per configured carrier, by name; the caller ``aclose``s them."""
    built: dict[str, CarrierPort] = {}
    for partner in registered_carriers():
        assert partner.adapter is not None
        port = factory(partner.adapter)(settings)
        if port is not None:
            built[partner.name] = port
    if settings.karrio_carriers:
        from activities.carriers.karrio import KarrioCarrier  # the SDK only when used

        for connection in settings.karrio_carriers:
            built[connection.name] = KarrioCarrier(connection)
    return built


__all__ = ["CarrierFactory", "build_carriers", "factory"]
