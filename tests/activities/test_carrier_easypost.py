"""Contract tests of the EasyPost adapter: real HTTP against the in-process simulator."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError

from activities.carriers.easypost import EasyPostCarrier, easypost_shipment
from activities.carriers.port import CarrierPort
from canonical.billing import ChargeKind
from canonical.booking import CarrierBooking
from canonical.dialects import normalize
from canonical.documents import DocumentFormat, DocumentType
from canonical.events import ShipmentEvent
from canonical.milestones import Milestone
from canonical.shipment import Shipment
from simulators.app import RunningSimulators, start_simulators
from simulators.settings import SimulatorSettings

KEY = "carrier-key"
SECRETS = {
    "odoo_password": "odoo-pw", "tms_api_key": "tms-key", "carrier_api_key": KEY,
    "dhl_api_key": "dhl-key", "broker_api_key": "broker-key",
    "easypost_webhook_secret": "easypost-secret", "broker_webhook_secret": "broker-secret",
}  # fmt: skip
REF = "shipment-S00042"
NOBODY = "http://127.0.0.1:9"  # nobody listens
STEP_S = 0.05


def shipment(**changes: Any) -> Shipment:
    party = {"lines": ["Am Sandtorkai 1"], "city": "Hamburg", "postal_code": "20457",
             "country": "DE", "subdivision": "DE-HH"}  # fmt: skip
    data: dict[str, Any] = {
        "order_ref": "S00042",
        "shipper": {"name": "Borderflow Demo GmbH", "address": party, "phone": "+4940123"},
        "consignee": {"name": "Acme Inc.", "email": "ops@acme.example",
                      "address": {"lines": ["1 Main St", "Suite 5"], "city": "Boston",
                                  "postal_code": "02110", "country": "US",
                                  "subdivision": "US-MA"}},
        "incoterm": "DAP",
        "currency": "EUR",
        "commodities": [{"description": "Laptop", "hs6": "847130", "origin_country": "CN",
                         "quantity": "2", "unit_value": {"amount": "899.00", "currency": "EUR"},
                         "national_code": {"scheme": "HTS", "code": "8471.30.0100"},
                         "gross_weight_kg": "2.2"}],
        "packages": [{"weight_kg": "2.5", "length_cm": "40", "width_cm": "30", "height_cm": "20"}],
        "carrier": "easypost",
        "service_level": "express",
    }  # fmt: skip
    return Shipment.model_validate({**data, **changes}, strict=False)


@pytest.fixture
async def sims() -> AsyncIterator[RunningSimulators]:
    secrets: dict[str, Any] = {k: SecretStr(v) for k, v in SECRETS.items()}
    settings = SimulatorSettings(
        sim_odoo_port=0, sim_tms_port=0, sim_carrier_port=0, sim_broker_port=0,
        sim_finance_port=0, sim_dhl_port=0, api_url=NOBODY, sim_time_scale=STEP_S,
        **secrets,
    )  # fmt: skip
    running = await start_simulators(settings)
    yield running
    await running.close()


@pytest.fixture
async def carrier(sims: RunningSimulators) -> AsyncIterator[EasyPostCarrier]:
    adapter = EasyPostCarrier(sims.carrier_url, SecretStr(KEY), timeout_s=2.0)
    yield adapter
    await adapter.aclose()


async def sim(url: str, path: str, faults: dict[str, Any] | None = None) -> Any:
    """GET a ``/_sim/`` view, or POST ``faults`` to ``/_sim/faults``."""
    async with httpx.AsyncClient(base_url=url) as http:
        if faults is None:
            response = await http.get(path)
        else:
            response = await http.post(path, json=faults)
        response.raise_for_status()
        return response.json()


async def book(carrier: CarrierPort, key: str = "key-1") -> CarrierBooking:
    return await carrier.book(REF, shipment(), idempotency_key=key)


@contextlib.asynccontextmanager
async def stub_partner(status: int, body: Any) -> AsyncIterator[str]:
    """A server answering every request with ``status`` and the JSON ``body``."""

    async def answer(request: web.Request) -> web.Response:
        return web.json_response(body, status=status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


# -- booking --------------------------------------------------------------------------------
async def test_book_maps_the_shipment_and_converts_to_inches_and_ounces(
    carrier: EasyPostCarrier, sims: RunningSimulators
) -> None:
    booking = await book(carrier)

    (sent,) = await sim(sims.carrier_url, "/_sim/shipments")
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
    assert len(await sim(sims.carrier_url, "/_sim/shipments")) == 1
    posts = [r for r in await sim(sims.carrier_url, "/_sim/requests") if r["method"] == "POST"]
    assert [(r["idempotency_key"], r["replayed"]) for r in posts] == [
        ("key-1", False), ("key-1", True),
    ]  # fmt: skip


async def test_several_packages_are_refused_before_any_call(
    carrier: EasyPostCarrier, sims: RunningSimulators
) -> None:
    parcel = {"weight_kg": "1", "length_cm": "10", "width_cm": "10", "height_cm": "10"}
    with pytest.raises(ApplicationError) as refused:
        await carrier.book(REF, shipment(packages=[parcel, parcel]), idempotency_key="k")
    assert refused.value.non_retryable
    assert "2 packages" in str(refused.value)
    assert await sim(sims.carrier_url, "/_sim/requests") == []


# -- cancel, label, track ---------------------------------------------------------------------
async def test_cancel_refunds_and_is_repeat_safe(
    carrier: EasyPostCarrier, sims: RunningSimulators
) -> None:
    booking = await book(carrier)
    await carrier.cancel(booking)
    await carrier.cancel(booking)

    (sent,) = await sim(sims.carrier_url, "/_sim/shipments")
    assert sent["refund_status"] == "submitted"
    refunds = [r for r in await sim(sims.carrier_url, "/_sim/requests") if "refund" in r["path"]]
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
    polls: list[list[ShipmentEvent]] = []
    deadline = asyncio.get_running_loop().time() + 5
    while not (polls and polls[-1] and polls[-1][-1].milestone == Milestone.DELIVERED):
        assert asyncio.get_running_loop().time() < deadline, "the story did not finish"
        polls.append(await carrier.track(booking, received_at=datetime.now(UTC)))
        await asyncio.sleep(STEP_S / 2)

    final = polls[-1]
    assert [e.milestone for e in final] == [
        Milestone.LABEL_CREATED, Milestone.PICKED_UP, Milestone.DEPARTED, Milestone.ARRIVED,
        Milestone.OUT_FOR_DELIVERY, Milestone.DELIVERED,
    ]  # fmt: skip
    assert final[-1].proof_of_delivery is not None
    assert final[-1].proof_of_delivery.signed_by == "J. SMITH"
    for earlier in polls:  # a later poll repeats the scans seen already, under the same ids
        ids = [e.event_id for e in earlier]
        assert len(set(ids)) == len(ids)
        assert ids == [e.event_id for e in final[: len(ids)]]

    # The first webhook the carrier tried to push carries the same scan under the same id.
    attempts = await sim(sims.carrier_url, "/_sim/webhooks")
    payload = json.dumps(attempts[0]["payload"]).encode()
    pushed = normalize("easypost", payload, received_at=datetime.now(UTC))
    assert pushed.events[0].event_id == final[0].event_id


# -- every error class ---------------------------------------------------------------------
async def test_a_wrong_key_is_refused_without_echoing_it(sims: RunningSimulators) -> None:
    wrong = EasyPostCarrier(sims.carrier_url, SecretStr("not-the-key-4711"), timeout_s=2.0)
    try:
        with pytest.raises(ApplicationError) as refused:
            await book(wrong)
    finally:
        await wrong.aclose()
    assert refused.value.non_retryable
    assert "401" in str(refused.value) and "APIKEY.INVALID" in str(refused.value)
    assert "not-the-key-4711" not in str(refused.value)


async def test_a_refused_booking_is_not_retryable(
    carrier: EasyPostCarrier, sims: RunningSimulators
) -> None:
    await sim(sims.carrier_url, "/_sim/faults", {"reject_bookings": 1})
    with pytest.raises(ApplicationError) as refused:
        await book(carrier)
    assert refused.value.non_retryable
    assert refused.value.type == "PartnerRejected"
    assert "SHIPMENT.POSTAGE.FAILURE" in str(refused.value)


async def test_a_5xx_burst_is_retryable_and_the_retry_books_once(
    carrier: EasyPostCarrier, sims: RunningSimulators
) -> None:
    await sim(sims.carrier_url, "/_sim/faults", {"fail_next": 2, "fail_status": 503})
    for _ in range(2):
        with pytest.raises(ApplicationError) as failed:
            await book(carrier)
        assert not failed.value.non_retryable
        assert failed.value.type == "PartnerUnavailable"
        assert "503" in str(failed.value)
    await book(carrier)
    assert len(await sim(sims.carrier_url, "/_sim/shipments")) == 1


async def test_429_is_retryable_after_its_retry_after(
    carrier: EasyPostCarrier, sims: RunningSimulators
) -> None:
    await sim(sims.carrier_url, "/_sim/faults", {"rate_limit_next": 1, "retry_after_s": 7})
    with pytest.raises(ApplicationError) as limited:
        await book(carrier)
    assert not limited.value.non_retryable
    assert limited.value.next_retry_delay == timedelta(seconds=7)


async def test_a_hanging_carrier_times_out_retryably(sims: RunningSimulators) -> None:
    await sim(sims.carrier_url, "/_sim/faults", {"hang_next": 1, "hang_s": 5})
    impatient = EasyPostCarrier(sims.carrier_url, SecretStr(KEY), timeout_s=0.2)
    try:
        with pytest.raises(httpx.TimeoutException):  # not an ApplicationError: Temporal retries
            await book(impatient)
    finally:
        await impatient.aclose()


async def test_connection_refused_is_retryable() -> None:
    unreachable = EasyPostCarrier(NOBODY, SecretStr(KEY), timeout_s=1.0)
    try:
        with pytest.raises(httpx.ConnectError):  # not an ApplicationError: Temporal retries
            await book(unreachable)
    finally:
        await unreachable.aclose()


async def test_a_2xx_it_cannot_read_breaks_the_contract() -> None:
    async with stub_partner(201, {"object": "Shipment", "id": "shp_1"}) as url:
        confused = EasyPostCarrier(url, SecretStr(KEY), timeout_s=1.0)
        try:
            with pytest.raises(ApplicationError) as broken:
                await book(confused)
        finally:
            await confused.aclose()
    assert broken.value.non_retryable
    assert broken.value.type == "PartnerContract"
    assert "tracking_code" in str(broken.value)


def test_a_tiny_parcel_is_never_rounded_down_to_nothing() -> None:
    tiny = {"weight_kg": "0.001", "length_cm": "0.1", "width_cm": "0.1", "height_cm": "0.1"}
    parcel = easypost_shipment(REF, shipment(packages=[tiny]))["shipment"]["parcel"]
    assert parcel == {"length": "0.1", "width": "0.1", "height": "0.1", "weight": "0.1"}
