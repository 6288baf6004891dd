"""The carrier registry: one adapter per carrier with credentials, keys kept secret."""

import pytest
from pydantic import SecretStr, ValidationError

from activities.carriers.dhl import DhlCarrier
from activities.carriers.easypost import EasyPostCarrier
from activities.carriers.registry import CARRIER_NAMES, CarrierSettings, build_carriers


async def test_every_carrier_with_a_key_is_built_by_name() -> None:
    settings = CarrierSettings(
        easypost_api_key=SecretStr("ep-secret"), dhl_api_key=SecretStr("dhl-secret")
    )
    carriers = build_carriers(settings)
    try:
        assert set(carriers) == set(CARRIER_NAMES)
        assert isinstance(carriers["easypost"], EasyPostCarrier)
        assert isinstance(carriers["dhl"], DhlCarrier)
        assert all(carrier.name == name for name, carrier in carriers.items())
    finally:
        for carrier in carriers.values():
            await carrier.aclose()
    assert "secret" not in repr(settings)


@pytest.mark.parametrize("dhl_key", [None, SecretStr(""), SecretStr("  ")])
async def test_a_carrier_without_a_key_is_left_out(dhl_key: SecretStr | None) -> None:
    carriers = build_carriers(CarrierSettings(easypost_api_key=SecretStr("k"), dhl_api_key=dhl_key))
    try:
        assert list(carriers) == ["easypost"]
    finally:
        for carrier in carriers.values():
            await carrier.aclose()


def test_settings_refuse_unknown_fields_and_non_positive_timeouts() -> None:
    with pytest.raises(ValidationError):
        CarrierSettings(easypost_api_key=SecretStr("k"), dhl_timeout_s=0)
    with pytest.raises(ValidationError):
        CarrierSettings.model_validate({"easypost_api_key": "k", "fedex_api_key": "x"})
