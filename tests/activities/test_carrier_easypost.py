"""Contract tests of the EasyPost adapter: real HTTP against the in-process simulator."""

import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal

import httpx
import pytest
from activity_partners import SECRETS
from pydantic import SecretStr
from sim_admin import (
    REF,
    STEP_S,
    assert_polls_keep_ids,
    poll_until,
    shipment,
    sim,
    simulators,
    stub_partner,
)
from temporalio.exceptions import ApplicationError

from activities.carriers.easypost import EasyPostCarrier, easypost_shipment
from activities.carriers.port import CarrierPort
from canonical.billing import ChargeKind
from canonical.booking import CarrierBooking
from canonical.dialects import normalize
from canonical.documents import DocumentFormat, DocumentType
from canonical.milestones import Milestone
from simulators.app import RunningSimulators

KEY = SECRETS["carrier_api_key"]


def adapter(
    url: str, key: str = KEY, timeout_s: float = 2.0
) -> contextlib.aclosing[EasyPostCarrier]:
    return contextlib.aclosing(EasyPostCarrier(url, SecretStr(key), timeout_s=timeout_s))


@pytest.fixture
async def sims() -> AsyncIterator[RunningSimulators]:
    async with simulators(STEP_S) as running:
        yield running


@pytest.fixture
async def carrier(sims: RunningSimulators) -> AsyncIterator[EasyPostCarrier]:
    async with adapter(sims.url("easypost")) as easypost:
        yield easypost


async def book(carrier: CarrierPort, key: str = "key-1") -> CarrierBooking:
    return await carrier.book(REF, shipment("easypost"), idempotency_key=key)


# -- booking --------------------------------------------------------------------------------
async def test_book_maps_the_shipment_and_converts_to_inches_and_ounces(
    carrier: EasyPostCarrier, sims: RunningSimulators
) -> None:
    booking = await book(carrier)

    (sent,) = await sim(sims.url("easypost"), "/_sim/shipments")
    assert sent["reference"] == REF
    assert {k: sent["parcel"][k] for k in ("length", "width", "height", "weight")} == {
        "length": 15.7, "width": 11.8, "height": 7.9, "weight": 88.2,
    }  # fmt: skip
    assert sent["to_address"]["street1"] == "1 Main St"
    assert sent["to_address"]["street2"] == "Suite 5"
    assert (sent["to_address"]["state"], sent["to_address"]["zip"]) == ("MA", "02110")
    assert sent["from_address"]["country"] == "DE"
    (item,) = sent["customs_info"]["customs_items"]
    assert item["hs_tariff_number"] == "8471300100"  # the national code, not the HS6
    assert (item["value"], item["currency"], item["quantity"]) == ("1798.00", "EUR", "2")
    assert item["weight"] == "77.6"
    assert sent["selected_rate"]["service"] == "Express"

    assert booking.carrier == "easypost"
    assert booking.booking_reference == sent["id"]
    assert booking.tracking_numbers == [sent["tracking_code"]]
    assert booking.service == "Express"
    assert booking.booked_at is not None and booking.booked_at.tzinfo is not None
    (charge,) = booking.charges
    assert charge.kind == ChargeKind.FREIGHT
    assert (charge.amount.amount, charge.amount.currency) == (Decimal("43.70"), "USD")
    assert booking.label is not None
    assert booking.label.uri == sent["postage_label"]["label_url"]


async def test_booking_twice_with_one_key_buys_one_label(
    carrier: EasyPostCarrier, sims: RunningSimulators
) -> None:
    first = await book(carrier)
    again = await book(carrier)

    assert again == first
    assert len(await sim(sims.url("easypost"), "/_sim/shipments")) == 1
    posts = [r for r in await sim(sims.url("easypost"), "/_sim/requests") if r["method"] == "POST"]
    assert [(r["idempotency_key"], r["replayed"]) for r in posts] == [
        ("key-1", False), ("key-1", True),
    ]  # fmt: skip


async def test_several_packages_are_refused_before_any_call(
    carrier: EasyPostCarrier, sims: RunningSimulators
) -> None:
    parcel = {"weight_kg": "1", "length_cm": "10", "width_cm": "10", "height_cm": "10"}
    with pytest.raises(ApplicationError) as refused:
        await carrier.book(
            REF, shipment("easypost", packages=[parcel, parcel]), idempotency_key="k"
        )
    assert refused.value.non_retryable
    assert "2 packages" in str(refused.value)
    assert await sim(sims.url("easypost"), "/_sim/requests") == []


# -- cancel, label, track ---------------------------------------------------------------------
async def test_cancel_refunds_and_is_repeat_safe(
    carrier: EasyPostCarrier, sims: RunningSimulators
) -> None:
    booking = await book(carrier)
    await carrier.cancel(booking)
    await carrier.cancel(booking)

    (sent,) = await sim(sims.url("easypost"), "/_sim/shipments")
    assert sent["refund_status"] == "submitted"
    refunds = [
        r for r in await sim(sims.url("easypost"), "/_sim/requests") if "refund" in r["path"]
    ]
    assert [r["status"] for r in refunds] == [200, 200]


async def test_label_is_the_postage_label_as_a_png_document(
    carrier: EasyPostCarrier, sims: RunningSimulators
) -> None:
    booking = await book(carrier)
    label = await carrier.label(booking)

    assert (label.type, label.format) == (DocumentType.LABEL, DocumentFormat.PNG)
    assert label == booking.label
    async with httpx.AsyncClient() as http:
        fetched = await http.get(label.uri)
    assert fetched.content.startswith(b"\x89PNG")


async def test_track_follows_the_story_with_stable_event_ids(
    carrier: EasyPostCarrier, sims: RunningSimulators
) -> None:
    booking = await book(carrier)
    polls = await poll_until(carrier, booking, Milestone.DELIVERED)

    final = polls[-1]
    assert [e.milestone for e in final] == [
        Milestone.LABEL_CREATED, Milestone.PICKED_UP, Milestone.DEPARTED, Milestone.ARRIVED,
        Milestone.OUT_FOR_DELIVERY, Milestone.DELIVERED,
    ]  # fmt: skip
    assert final[-1].proof_of_delivery is not None
    assert final[-1].proof_of_delivery.signed_by == "J. SMITH"
    assert_polls_keep_ids(polls)

    # The first webhook the carrier tried to push carries the same scan under the same id.
    attempts = await sim(sims.url("easypost"), "/_sim/webhooks")
    payload = json.dumps(attempts[0]["payload"]).encode()
    pushed = normalize("easypost", payload, received_at=datetime.now(UTC))
    assert pushed.events[0].event_id == final[0].event_id


# -- every error class ---------------------------------------------------------------------
async def test_a_wrong_key_is_refused_without_echoing_it(sims: RunningSimulators) -> None:
    async with adapter(sims.url("easypost"), key="not-the-key-4711") as wrong:
        with pytest.raises(ApplicationError) as refused:
            await book(wrong)
    assert refused.value.non_retryable
    assert "401" in str(refused.value) and "APIKEY.INVALID" in str(refused.value)
    assert "not-the-key-4711" not in str(refused.value)


async def test_a_refused_booking_is_not_retryable(
    carrier: EasyPostCarrier, sims: RunningSimulators
) -> None:
    await sim(sims.url("easypost"), "/_sim/faults", {"reject_bookings": 1})
    with pytest.raises(ApplicationError) as refused:
        await book(carrier)
    assert refused.value.non_retryable
    assert refused.value.type == "PartnerRejected"
    assert "SHIPMENT.POSTAGE.FAILURE" in str(refused.value)


async def test_a_5xx_burst_is_retryable_and_the_retry_books_once(
    carrier: EasyPostCarrier, sims: RunningSimulators
) -> None:
    await sim(sims.url("easypost"), "/_sim/faults", {"fail_next": 2, "fail_status": 503})
    for _ in range(2):
        with pytest.raises(ApplicationError) as failed:
            await book(carrier)
        assert not failed.value.non_retryable
        assert failed.value.type == "PartnerUnavailable"
        assert "503" in str(failed.value)
    await book(carrier)
    assert len(await sim(sims.url("easypost"), "/_sim/shipments")) == 1


async def test_a_2xx_it_cannot_read_breaks_the_contract() -> None:
    async with stub_partner(201, {"object": "Shipment", "id": "shp_1"}) as url:
        async with adapter(url, timeout_s=1.0) as confused:
            with pytest.raises(ApplicationError) as broken:
                await book(confused)
    assert broken.value.non_retryable
    assert broken.value.type == "PartnerContract"
    assert "tracking_code" in str(broken.value)


def test_a_tiny_parcel_is_never_rounded_down_to_nothing() -> None:
    tiny = {"weight_kg": "0.001", "length_cm": "0.1", "width_cm": "0.1", "height_cm": "0.1"}
    parcel = easypost_shipment(REF, shipment("easypost", packages=[tiny]))["shipment"]["parcel"]
    assert parcel == {"length": "0.1", "width": "0.1", "height": "0.1", "weight": "0.1"}
