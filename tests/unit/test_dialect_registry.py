from datetime import datetime

import pytest
from dialect_support import RECEIVED_AT, fixture_bytes
from pydantic import ValidationError

from canonical.dialects import (
    NORMALIZERS,
    PARTNERS,
    MalformedPayload,
    UnknownPartner,
    normalize,
    table,
)

FIXTURES = {
    "easypost": "delivered.json",
    "aftership": "tracking_update.json",
    "dhl": "delivered.json",
    "shippo": "track_updated.json",
    "dcsa": "events_v2.json",
    "tms": "picked_up.json",
    "broker": "released.json",
}


def test_the_partners() -> None:
    assert PARTNERS == ("easypost", "aftership", "dhl", "shippo", "dcsa", "tms", "broker")
    assert set(NORMALIZERS) == set(PARTNERS) == set(FIXTURES)


@pytest.mark.parametrize("partner", PARTNERS)
def test_the_registry_dispatches_to_the_partner_module(partner: str) -> None:
    body = fixture_bytes(partner, FIXTURES[partner])
    webhook = normalize(partner, body, received_at=RECEIVED_AT)
    assert webhook.partner == partner
    assert webhook.events
    assert webhook == NORMALIZERS[partner](body, received_at=RECEIVED_AT)
    assert all(table(partner).maps(event.source.raw_code) for event in webhook.events)


def test_an_unknown_partner_is_a_key_error() -> None:
    with pytest.raises(UnknownPartner) as caught:
        normalize("fedex", b"{}", received_at=RECEIVED_AT)
    assert isinstance(caught.value, KeyError)
    assert caught.value.partner == "fedex"
    assert "fedex" in str(caught.value)
    with pytest.raises(UnknownPartner):
        table("fedex")


@pytest.mark.parametrize("partner", PARTNERS)
def test_a_foreign_shape_is_malformed_with_the_pydantic_error_as_cause(partner: str) -> None:
    with pytest.raises(MalformedPayload) as caught:
        normalize(partner, b'{"hello": "world"}', received_at=RECEIVED_AT)
    assert isinstance(caught.value, ValueError)
    assert isinstance(caught.value.__cause__, ValidationError)
    assert caught.value.partner == partner
    assert caught.value.field
    assert not caught.value.not_json


@pytest.mark.parametrize("partner", PARTNERS)
def test_a_body_that_is_not_json_is_malformed(partner: str) -> None:
    with pytest.raises(MalformedPayload) as caught:
        normalize(partner, b"<xml/>", received_at=RECEIVED_AT)
    assert caught.value.field is None
    assert caught.value.not_json
    assert "not JSON" in str(caught.value)
    assert caught.value.__cause__ is not None


@pytest.mark.parametrize("partner", PARTNERS)
def test_received_at_must_be_aware_and_that_is_not_the_partners_fault(partner: str) -> None:
    body = fixture_bytes(partner, FIXTURES[partner])
    with pytest.raises(ValueError, match="timezone-aware") as caught:
        normalize(partner, body, received_at=datetime(2026, 11, 22, 8, 0))
    assert not isinstance(caught.value, MalformedPayload)
