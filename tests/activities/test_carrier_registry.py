"""The carrier registry: one adapter per registered carrier with a key, keys kept secret."""

import pytest
from pydantic import SecretStr, ValidationError

from activities.carriers.dhl import DhlCarrier
from activities.carriers.easypost import EasyPostCarrier
from activities.carriers.registry import build_carriers, factory
from activities.carriers.settings import CarrierSettings
from canonical.partners import carriers as registered


async def test_every_registered_carrier_with_a_key_is_built_by_name() -> None:
    settings = CarrierSettings(
        carrier_api_key=SecretStr("ep-secret"), dhl_api_key=SecretStr("dhl-secret")
    )
    carriers = build_carriers(settings)
    try:
        assert list(carriers) == [partner.name for partner in registered()]
        assert isinstance(carriers["easypost"], EasyPostCarrier)
        assert isinstance(carriers["dhl"], DhlCarrier)
        assert all(carrier.name == name for name, carrier in carriers.items())
    finally:
        for carrier in carriers.values():
            await carrier.aclose()
    assert "secret" not in repr(settings)


@pytest.mark.parametrize("dhl_key", [None, SecretStr(""), SecretStr("  ")])
async def test_a_carrier_without_a_key_is_left_out(dhl_key: SecretStr | None) -> None:
    carriers = build_carriers(CarrierSettings(carrier_api_key=SecretStr("k"), dhl_api_key=dhl_key))
    try:
        assert list(carriers) == ["easypost"]
    finally:
        for carrier in carriers.values():
            await carrier.aclose()


def test_settings_refuse_unknown_fields_and_non_positive_timeouts() -> None:
    with pytest.raises(ValidationError):
        CarrierSettings(carrier_api_key=SecretStr("k"), dhl_timeout_s=0)
    with pytest.raises(ValidationError):
        CarrierSettings.model_validate({"carrier_api_key": "k", "fedex_api_key": "x"})


def test_an_adapter_that_does_not_resolve_names_itself() -> None:
    with pytest.raises(ValueError, match=r"'activities\.carriers\.nowhere:from_settings'"):
        factory("activities.carriers.nowhere:from_settings")
    with pytest.raises(ValueError, match=r"'activities\.carriers\.dhl:nothing'"):
        factory("activities.carriers.dhl:nothing")
