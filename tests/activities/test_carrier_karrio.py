"""The Karrio adapter through Karrio's own extensions: EasyPost against our simulator (real
HTTP, Karrio's two-step create + buy, ``POST /v2/trackers``) and ``generic`` in-process."""

import contextlib
import hashlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from activity_partners import SECRETS
from pydantic import SecretStr
from sim_admin import REF, STEP_S, assert_polls_keep_ids, poll_until, shipment, sim, simulators
from temporalio.exceptions import ApplicationError

from activities.carriers.easypost import EasyPostCarrier
from activities.carriers.karrio import KarrioCarrier
from activities.carriers.karrio_settings import KarrioConnection
from activities.carriers.registry import build_carriers
from activities.carriers.settings import CarrierSettings
from canonical.billing import ChargeKind
from canonical.dialects import normalize
from canonical.documents import DocumentFormat, DocumentType
from canonical.milestones import Milestone
from simulators.app import RunningSimulators

NAME = "karrio-easypost"


def easypost_connection(url: str, **changes: Any) -> KarrioConnection:
    data: dict[str, Any] = {
        "name": NAME,
        "carrier": "easypost",
        "secrets": {"api_key": SECRETS["carrier_api_key"]},
        "server_url": f"{url}/v2",
        "services": {"express": "Express", "standard": "Standard"},
        "tracking_carrier": "DHLExpress",
        "dialect": "easypost",
        "timeout_s": 2.0,
        "deadline_s": 5.0,
    }
    return KarrioConnection.model_validate({**data, **changes})


GENERIC = KarrioConnection(
    name="toy-post",
    carrier="generic",
    settings={"display_name": "Toy Post", "custom_carrier_name": "toy_post"},
    services={"express": "standard_service"},
    lanes=["DE-US"],
)


@pytest.fixture
async def sims() -> AsyncIterator[RunningSimulators]:
    async with simulators(STEP_S) as running:
        yield running


@pytest.fixture
async def carrier(sims: RunningSimulators) -> AsyncIterator[KarrioCarrier]:
    async with contextlib.aclosing(KarrioCarrier(easypost_connection(sims.url("easypost")))) as c:
        yield c


async def requests_seen(sims: RunningSimulators) -> list[tuple[str, str]]:
    seen = await sim(sims.url("easypost"), "/_sim/requests")
    return [(r["method"], r["path"].split("/shp_")[0]) for r in seen if "/_sim" not in r["path"]]


# -- EasyPost through Karrio, against the simulator ----------------------------------------
async def test_book_label_track_cancel_through_karrios_easypost_extension(
    carrier: KarrioCarrier, sims: RunningSimulators
) -> None:
    booking = await carrier.book(REF, shipment(NAME), idempotency_key="key-1")

    (bought,) = await sim(sims.url("easypost"), "/_sim/shipments")
    assert bought["reference"] == REF
    assert bought["selected_rate"]["service"] == "Express"
    assert (bought["to_address"]["state"], bought["to_address"]["country"]) == ("MA", "US")
    assert booking.carrier == NAME
    assert booking.booking_reference == bought["id"]
    assert booking.tracking_numbers == [bought["tracking_code"]]
    assert [(c.kind, c.amount.amount, c.amount.currency) for c in booking.charges] == [
        (ChargeKind.FREIGHT, Decimal(bought["selected_rate"]["rate"]), "USD")
    ]
    # Karrio's seams: server_url → the simulator; create, buy, then the label download.
    assert await requests_seen(sims) == [
        ("POST", "/v2/shipments"), ("POST", "/v2/shipments"), ("GET", "/labels"),
    ]  # fmt: skip

    label = await carrier.label(booking)
    assert (label.type, label.format) == (DocumentType.LABEL, DocumentFormat.PNG)
    assert label.uri == bought["postage_label"]["label_url"]
    async with httpx.AsyncClient() as http:
        png = (await http.get(label.uri)).content
    assert label.sha256 == hashlib.sha256(png).hexdigest()

    polls = await poll_until(carrier, booking, Milestone.DELIVERED)
    assert_polls_keep_ids(polls)
    final = polls[-1]
    assert [e.source.raw_code for e in final][:2] == [
        "pre_transit/label_created", "in_transit/package_accepted",
    ]  # fmt: skip
    assert ("POST", "/v2/trackers") in await requests_seen(sims)
    # Our dialect, not Karrio's mapping: the same ids as our own adapter's poll and the webhook.
    async with contextlib.aclosing(
        EasyPostCarrier(sims.url("easypost"), SecretStr(SECRETS["carrier_api_key"]))
    ) as ours:
        own = await ours.track(booking, received_at=datetime.now(UTC))
    assert [e.event_id for e in own] == [e.event_id for e in final]
    pushed = (await sim(sims.url("easypost"), "/_sim/webhooks"))[0]["payload"]
    webhook = normalize("easypost", json.dumps(pushed).encode(), received_at=datetime.now(UTC))
    assert webhook.events[0].event_id == final[0].event_id

    await carrier.cancel(booking)
    await carrier.cancel(booking)  # repeat-safe
    (refunded,) = await sim(sims.url("easypost"), "/_sim/shipments")
    assert refunded["refund_status"] == "submitted"


async def test_booking_twice_with_one_key_buys_one_label(
    carrier: KarrioCarrier, sims: RunningSimulators
) -> None:
    first = await carrier.book(REF, shipment(NAME), idempotency_key="key-1")
    again = await carrier.book(REF, shipment(NAME), idempotency_key="key-1")
    assert again == first
    assert len(await sim(sims.url("easypost"), "/_sim/shipments")) == 1
    other = await carrier.book(REF, shipment(NAME), idempotency_key="key-2")
    assert other.booking_reference != first.booking_reference


async def test_a_refused_purchase_is_not_retryable_and_the_retry_buys_once(
    carrier: KarrioCarrier, sims: RunningSimulators
) -> None:
    await sim(sims.url("easypost"), "/_sim/faults", {"reject_bookings": 1})
    with pytest.raises(ApplicationError) as refused:
        await carrier.book(REF, shipment(NAME), idempotency_key="key-1")
    assert refused.value.non_retryable
    assert refused.value.type == "PartnerRejected"
    assert "422" in str(refused.value) and "SHIPMENT.POSTAGE.FAILURE" in str(refused.value)
    booking = await carrier.book(REF, shipment(NAME), idempotency_key="key-1")
    (bought,) = await sim(sims.url("easypost"), "/_sim/shipments")  # the rated shipment, reused
    assert bought["id"] == booking.booking_reference


async def test_a_5xx_is_retryable_and_the_retry_books_once(
    carrier: KarrioCarrier, sims: RunningSimulators
) -> None:
    await sim(sims.url("easypost"), "/_sim/faults", {"fail_next": 1, "fail_status": 503})
    with pytest.raises(ApplicationError) as failed:
        await carrier.book(REF, shipment(NAME), idempotency_key="key-1")
    assert not failed.value.non_retryable
    assert failed.value.type == "PartnerUnavailable" and "503" in str(failed.value)
    await carrier.book(REF, shipment(NAME), idempotency_key="key-1")
    assert len(await sim(sims.url("easypost"), "/_sim/shipments")) == 1


async def test_a_wrong_key_is_refused_without_echoing_it(sims: RunningSimulators) -> None:
    wrong = easypost_connection(sims.url("easypost"), secrets={"api_key": "not-the-key-4711"})
    async with contextlib.aclosing(KarrioCarrier(wrong)) as carrier:
        with pytest.raises(ApplicationError) as refused:
            await carrier.book(REF, shipment(NAME), idempotency_key="key-1")
    assert refused.value.non_retryable and "401" in str(refused.value)
    assert "not-the-key-4711" not in str(refused.value)
    assert "not-the-key-4711" not in repr(wrong)


async def test_the_registry_builds_karrio_carriers_from_data(sims: RunningSimulators) -> None:
    settings = CarrierSettings.model_validate(
        {
            "carrier_api_key": "k",
            "karrio_carriers": [
                easypost_connection(sims.url("easypost")).model_dump(),
                GENERIC.model_dump(),
            ],
        }
    )
    carriers = build_carriers(settings)
    try:
        assert set(carriers) == {"easypost", NAME, "toy-post"}
        assert isinstance(carriers[NAME], KarrioCarrier)
    finally:
        for built in carriers.values():
            await built.aclose()
    with pytest.raises(ValueError, match="used twice"):
        CarrierSettings.model_validate(
            {
                "carrier_api_key": "k",
                "karrio_carriers": [{**GENERIC.model_dump(), "name": "easypost"}],
            }
        )


# -- generic: rating, booking, labels, in-process --------------------------------------------
async def test_generic_rates_books_and_labels_idempotently() -> None:
    async with contextlib.aclosing(KarrioCarrier(GENERIC)) as toy:
        rates = await toy.rate(shipment("toy-post"))
        assert [service for service, _ in rates] == ["standard_service"]
        first = await toy.book(REF, shipment("toy-post"), idempotency_key="key-1")
        again = await toy.book(REF, shipment("toy-post"), idempotency_key="key-1")
        other = await toy.book(REF, shipment("toy-post"), idempotency_key="key-2")
        assert again == first and other.tracking_number != first.tracking_number
        label = await toy.label(first)
        assert (label.type, label.format) == (DocumentType.LABEL, DocumentFormat.PDF)
        assert label.sha256 is not None and label.uri.startswith("karrio:toy-post/")
        assert await toy.track(first, received_at=datetime.now(UTC)) == []
        assert await toy.final_charges(first) is None  # it stated no charge
        with pytest.raises(ApplicationError) as cannot:
            await toy.cancel(first)
        assert cannot.value.non_retryable


async def test_a_lane_or_service_not_configured_is_refused_before_any_call() -> None:
    async with contextlib.aclosing(KarrioCarrier(GENERIC)) as toy:
        for changes, why in [
            ({"consignee": {**shipment("x").consignee.model_dump(), "address": {
                "lines": ["1 Rue"], "city": "Paris", "country": "FR"}}}, "lane DE-FR"),
            ({"service_level": "standard"}, "no Karrio service configured for standard"),
        ]:  # fmt: skip
            with pytest.raises(ApplicationError, match=why) as refused:
                await toy.book(REF, shipment("toy-post", **changes), idempotency_key="k")
            assert refused.value.non_retryable
