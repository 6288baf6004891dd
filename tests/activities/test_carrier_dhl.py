"""Contract tests of the DHL adapter: real HTTP against the in-process simulator."""

import base64
import contextlib
import hashlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from activity_partners import SECRETS
from pydantic import SecretStr
from sim_admin import (
    PARCEL,
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

from activities.carriers.dhl import DhlCarrier
from activities.carriers.port import CarrierPort
from canonical.booking import CarrierBooking
from canonical.documents import DocumentFormat, DocumentType
from canonical.events import ShipmentEvent
from canonical.milestones import Milestone
from simulators.app import RunningSimulators

KEY = SECRETS["dhl_api_key"]


def adapter(url: str, key: str = KEY, timeout_s: float = 2.0) -> contextlib.aclosing[DhlCarrier]:
    return contextlib.aclosing(DhlCarrier(url, SecretStr(key), timeout_s=timeout_s))


@pytest.fixture
async def sims() -> AsyncIterator[RunningSimulators]:
    """The story waits an hour per step: nothing is picked up during a test."""
    async with simulators(3600) as running:
        yield running


@pytest.fixture
async def fast_sims() -> AsyncIterator[RunningSimulators]:
    """One story step every ``STEP_S`` seconds: delivered within half a second."""
    async with simulators(STEP_S) as running:
        yield running


@pytest.fixture
async def carrier(sims: RunningSimulators) -> AsyncIterator[DhlCarrier]:
    async with adapter(sims.url("dhl")) as dhl:
        yield dhl


async def book(carrier: CarrierPort, **changes: Any) -> CarrierBooking:
    return await carrier.book(REF, shipment("dhl", **changes), idempotency_key="unused-by-dhl")


# -- booking --------------------------------------------------------------------------------
async def test_book_maps_the_shipment_in_kg_and_cm(
    carrier: DhlCarrier, sims: RunningSimulators
) -> None:
    booking = await book(carrier)

    (stored,) = await sim(sims.url("dhl"), "/_sim/shipments")
    sent = stored["request"]
    assert sent["productCode"] == "P"
    assert sent["customerReferences"] == [{"value": REF, "typeCode": "CU"}]
    shipper = sent["customerDetails"]["shipperDetails"]
    receiver = sent["customerDetails"]["receiverDetails"]
    assert shipper["postalAddress"]["postalCode"] == "20457"
    assert shipper["contactInformation"]["companyName"] == "Borderflow Demo GmbH"
    assert receiver["postalAddress"]["addressLine2"] == "Suite 5"
    assert receiver["contactInformation"]["email"] == "ops@acme.example"
    content = sent["content"]
    assert content["packages"] == [
        {"weight": 2.5, "dimensions": {"length": 40, "width": 30, "height": 20}}
    ]
    assert (content["declaredValue"], content["declaredValueCurrency"]) == (1798, "EUR")
    assert content["incoterm"] == "DAP"
    (line,) = content["exportDeclaration"]["lineItems"]
    assert (line["price"], line["quantity"]) == (899, {"value": 2, "unitOfMeasurement": "PCS"})
    assert line["commodityCodes"] == [{"typeCode": "outbound", "value": "8471300100"}]
    assert (line["manufacturerCountry"], line["weight"]) == ("CN", {"grossValue": 2.2})

    number = stored["shipmentTrackingNumber"]
    assert booking.carrier == "dhl" and booking.service == "P"
    assert booking.booking_reference == number and len(number) == 10
    assert booking.tracking_numbers == [number, stored["packages"][0]["trackingNumber"]]
    label = booking.label
    assert label is not None and label.format == DocumentFormat.PDF
    pdf = base64.b64decode(stored["documents"][0]["content"])
    assert label.sha256 == hashlib.sha256(pdf).hexdigest()
    assert label.uri == f"{sims.url('dhl')}/shipments/{number}/documents"


async def test_standard_service_is_product_n_with_one_number_per_piece(
    carrier: DhlCarrier, sims: RunningSimulators
) -> None:
    booking = await book(carrier, service_level="standard", packages=[PARCEL, PARCEL])

    (stored,) = await sim(sims.url("dhl"), "/_sim/shipments")
    assert stored["request"]["productCode"] == "N"
    assert len(stored["request"]["content"]["packages"]) == 2
    assert booking.service == "N"
    assert len(booking.tracking_numbers) == 3


async def test_booking_twice_finds_the_first_booking(
    carrier: DhlCarrier, sims: RunningSimulators
) -> None:
    first = await book(carrier)
    again = await book(carrier)

    assert again == first
    assert len(await sim(sims.url("dhl"), "/_sim/shipments")) == 1
    calls = [
        (r["method"], r["path"], r["query"]) for r in await sim(sims.url("dhl"), "/_sim/requests")
    ]
    search = ("GET", "/shipments", {"customerReference": REF})
    assert calls == [search, ("POST", "/shipments", {}), search]


async def test_what_dhl_cannot_express_is_refused_before_any_call(
    carrier: DhlCarrier, sims: RunningSimulators
) -> None:
    dollars = {"description": "Cable", "hs6": "854442", "origin_country": "CN", "quantity": "1",
               "unit_value": {"amount": "5.00", "currency": "USD"}}  # fmt: skip
    laptop = shipment("dhl").commodities[0].model_dump(mode="json")
    with pytest.raises(ApplicationError) as refused:
        await book(carrier, commodities=[laptop, dollars])
    assert refused.value.non_retryable
    assert await sim(sims.url("dhl"), "/_sim/requests") == []


# -- cancel, label ----------------------------------------------------------------------------
async def test_cancel_is_repeat_safe_and_frees_the_reference(
    carrier: DhlCarrier, sims: RunningSimulators
) -> None:
    booking = await book(carrier)
    await carrier.cancel(booking)
    await carrier.cancel(booking)

    (stored,) = await sim(sims.url("dhl"), "/_sim/shipments")
    assert stored["status"] == "cancelled"
    rebooked = await book(carrier)  # a cancelled booking is not found by the search
    assert rebooked.booking_reference != booking.booking_reference


async def test_cancel_after_pickup_is_too_late(fast_sims: RunningSimulators) -> None:
    async with adapter(fast_sims.url("dhl")) as carrier:
        booking = await book(carrier)
        await poll_until(carrier, booking, Milestone.IN_TRANSIT)  # picked up
        with pytest.raises(ApplicationError) as late:
            await carrier.cancel(booking)
    assert late.value.non_retryable
    assert "too late to cancel" in str(late.value)


async def test_label_comes_from_the_documents_endpoint(
    carrier: DhlCarrier, sims: RunningSimulators
) -> None:
    booking = await book(carrier)
    label = await carrier.label(booking)

    assert (label.type, label.format) == (DocumentType.LABEL, DocumentFormat.PDF)
    assert label == booking.label
    async with httpx.AsyncClient(headers={"DHL-API-Key": KEY}) as http:
        documents = (await http.get(label.uri)).json()["documents"]
    pdf = base64.b64decode(documents[0]["content"])
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == label.sha256


# -- tracking -------------------------------------------------------------------------------
async def test_track_follows_the_story_to_proof_of_delivery(fast_sims: RunningSimulators) -> None:
    async with adapter(fast_sims.url("dhl")) as carrier:
        booking = await book(carrier)
        polls = await poll_until(carrier, booking, Milestone.DELIVERED)

    final = polls[-1]
    assert [e.milestone for e in final] == [
        Milestone.LABEL_CREATED, *[Milestone.IN_TRANSIT] * 4, Milestone.DELIVERED,
    ]  # fmt: skip
    pod = final[-1].proof_of_delivery
    assert pod is not None and pod.signed_by == "J. SMITH"
    assert pod.document_uri == f"{fast_sims.url('dhl')}/pod/{booking.tracking_number}.pdf"
    assert_polls_keep_ids(polls)
    again = await poll_again(fast_sims.url("dhl"), booking)
    assert [e.event_id for e in again] == [e.event_id for e in final]


async def poll_again(url: str, booking: CarrierBooking) -> list[ShipmentEvent]:
    """A poll from a fresh adapter (another worker): same scans, same ids."""
    async with adapter(url) as other:
        return await other.track(booking, received_at=datetime.now(UTC))


async def test_track_of_a_number_tracking_does_not_know_is_empty(carrier: DhlCarrier) -> None:
    unknown = CarrierBooking(carrier="dhl", booking_reference="5799999999",
                             tracking_numbers=["5799999999"])  # fmt: skip
    assert await carrier.track(unknown, received_at=datetime.now(UTC)) == []


# -- every error class ---------------------------------------------------------------------
async def test_a_wrong_key_is_refused_without_echoing_it(sims: RunningSimulators) -> None:
    async with adapter(sims.url("dhl"), key="not-the-key-4711") as wrong:
        with pytest.raises(ApplicationError) as refused:
            await book(wrong)
    assert refused.value.non_retryable
    assert "401" in str(refused.value) and "DHL-API-Key" in str(refused.value)
    assert "not-the-key-4711" not in str(refused.value)


async def test_a_refused_booking_is_not_retryable(
    carrier: DhlCarrier, sims: RunningSimulators
) -> None:
    await sim(sims.url("dhl"), "/_sim/faults", {"reject_bookings": 1})
    with pytest.raises(ApplicationError) as refused:
        await book(carrier)
    assert refused.value.non_retryable
    assert refused.value.type == "PartnerRejected"
    assert "422" in str(refused.value) and "booking refusal" in str(refused.value)


async def test_a_5xx_burst_is_retryable_and_the_retry_books_once(
    carrier: DhlCarrier, sims: RunningSimulators
) -> None:
    await sim(sims.url("dhl"), "/_sim/faults", {"fail_next": 2, "fail_status": 502})
    for _ in range(2):
        with pytest.raises(ApplicationError) as failed:
            await book(carrier)
        assert not failed.value.non_retryable
        assert failed.value.type == "PartnerUnavailable" and "502" in str(failed.value)
    await book(carrier)
    await book(carrier)
    assert len(await sim(sims.url("dhl"), "/_sim/shipments")) == 1


@pytest.mark.parametrize(
    ("body", "call", "named"),
    [
        ({"results": []}, "book", "shipments"),
        ({"shipments": [{"id": "5700000001", "events": "soon"}]}, "track", "events"),
    ],
)
async def test_a_2xx_it_cannot_read_breaks_the_contract(body: Any, call: str, named: str) -> None:
    booking = CarrierBooking(carrier="dhl", booking_reference="5700000001",
                             tracking_numbers=["5700000001"])  # fmt: skip
    async with stub_partner(200, body) as url, adapter(url) as confused:
        with pytest.raises(ApplicationError) as broken:
            if call == "book":
                await book(confused)
            else:
                await confused.track(booking, received_at=datetime.now(UTC))
    assert broken.value.non_retryable
    assert broken.value.type == "PartnerContract"
    assert named in str(broken.value)
