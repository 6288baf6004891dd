"""TMS, customs broker and notification adapters against their simulators, every error class."""

import json
from datetime import timedelta

import httpx
import pytest
from activity_partners import SECRETS, Partners
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError

from activities.broker import BrokerClient
from activities.notify import Channel, Notification, Notifier
from activities.tms import TmsClient
from canonical.shipment import Shipment

SHIPMENT = Shipment.model_validate_json(json.dumps({
    "order_ref": "S00077",
    "shipper": {"name": "Borderflow Demo GmbH",
                "address": {"lines": ["Am Sandtorkai 1"], "city": "Hamburg", "country": "DE"}},
    "consignee": {"name": "Northwind Robotics Inc.",
                  "address": {"lines": ["1 Main St"], "city": "Boston", "country": "US"}},
    "incoterm": "DAP", "currency": "EUR",
    "commodities": [{"description": "Laptop", "hs6": "847130", "origin_country": "CN",
                     "quantity": "2", "unit_value": {"amount": "899", "currency": "EUR"}}],
    "packages": [{"weight_kg": "2.5", "length_cm": "40", "width_cm": "30", "height_cm": "20"}],
    "carrier": "easypost",
}))  # fmt: skip


async def faults(url: str, **settings: object) -> None:
    async with httpx.AsyncClient() as http:
        (await http.post(f"{url}/_sim/faults", json=settings)).raise_for_status()


async def created(url: str, path: str) -> list[dict]:
    async with httpx.AsyncClient() as http:
        return list((await http.get(f"{url}/_sim/{path}")).json())


def tms(partners: Partners, key: str = "tms_api_key", timeout_s: float = 5) -> TmsClient:
    return TmsClient(partners.sims.url("tms"), SecretStr(SECRETS[key]), timeout_s=timeout_s)


def broker(partners: Partners, key: str = "broker_api_key") -> BrokerClient:
    return BrokerClient(partners.sims.url("broker"), SecretStr(SECRETS[key]))


async def test_transport_orders_are_created_once_read_and_cancelled_twice(
    partners: Partners,
) -> None:
    client = tms(partners)
    try:
        first = await client.create_transport_order(
            "shipment-S00077", SHIPMENT, idempotency_key="shipment-S00077:to"
        )
        again = await client.create_transport_order(
            "shipment-S00077", SHIPMENT, idempotency_key="shipment-S00077:to"
        )
        assert first == again and first.status == "CREATED"
        assert len(await created(partners.sims.url("tms"), "transport-orders")) == 1
        assert (await client.transport_order(first.id)).reference == "shipment-S00077"
        for _ in "ab":
            cancelled = await client.cancel_transport_order(first.id, idempotency_key="c")
        assert cancelled.status == "CANCELLED"
    finally:
        await client.aclose()


async def test_tms_errors_are_classified(partners: Partners) -> None:
    wrong = tms(partners, key="broker_api_key")
    client = tms(partners, timeout_s=1)
    try:
        with pytest.raises(ApplicationError) as caught:
            await wrong.create_transport_order("r", SHIPMENT, idempotency_key="k1")
        assert caught.value.non_retryable and "HTTP 401" in caught.value.message
        assert SECRETS["broker_api_key"] not in caught.value.message
        with pytest.raises(ApplicationError) as caught:
            await client.transport_order("TO-999999")
        assert caught.value.non_retryable and "HTTP 404" in caught.value.message
        await faults(partners.sims.url("tms"), fail_next=1, fail_status=503)
        with pytest.raises(ApplicationError) as caught:
            await client.create_transport_order("r", SHIPMENT, idempotency_key="k2")
        assert not caught.value.non_retryable
        await faults(partners.sims.url("tms"), rate_limit_next=1, retry_after_s=3)
        with pytest.raises(ApplicationError) as caught:
            await client.create_transport_order("r", SHIPMENT, idempotency_key="k2")
        assert caught.value.next_retry_delay == timedelta(seconds=3)
        await faults(partners.sims.url("tms"), hang_next=1, hang_s=3)
        with pytest.raises(httpx.TimeoutException):
            await client.create_transport_order("r", SHIPMENT, idempotency_key="k2")
        # Same key, other body: the TMS refuses rather than replaying the wrong order.
        await client.create_transport_order("r", SHIPMENT, idempotency_key="k3")
        other = SHIPMENT.model_copy(update={"carrier": "dhl"})
        with pytest.raises(ApplicationError) as caught:
            await client.create_transport_order("r", other, idempotency_key="k3")
        assert caught.value.non_retryable and "HTTP 422" in caught.value.message
    finally:
        await wrong.aclose()
        await client.aclose()


async def test_declarations_are_filed_once_read_and_withdrawn(partners: Partners) -> None:
    client = broker(partners)
    try:
        filed = [await client.file_export_declaration("shipment-S00077", SHIPMENT, "EZ1",
                                                      idempotency_key="s:customs")
                 for _ in "ab"]  # fmt: skip
        assert filed[0] == filed[1] and filed[0].status == "SUBMITTED"
        assert len(await created(partners.sims.url("broker"), "declarations")) == 1
        assert (await client.declaration(filed[0].id)).lrn == filed[0].lrn
        withdrawn = await client.cancel_declaration(filed[0].id, idempotency_key="s:cancel")
        assert withdrawn.status == "CANCELLED"
        with pytest.raises(ApplicationError) as caught:
            await client.declaration("DEC-999999")
        assert caught.value.non_retryable
    finally:
        await client.aclose()


async def test_broker_errors_are_classified(partners: Partners) -> None:
    client = broker(partners)
    wrong = broker(partners, key="tms_api_key")
    try:
        with pytest.raises(ApplicationError) as caught:
            await wrong.declaration("DEC-000001")
        assert caught.value.non_retryable and "HTTP 401" in caught.value.message
        await faults(partners.sims.url("broker"), down_for_s=30)
        with pytest.raises(ApplicationError) as caught:
            await client.file_export_declaration("x", SHIPMENT, "EZ1", idempotency_key="x")
        assert not caught.value.non_retryable and "HTTP 503" in caught.value.message
    finally:
        await client.aclose()
        await wrong.aclose()


async def test_notifications_reach_their_channel_once_with_an_email_rendering(
    partners: Partners,
) -> None:
    notifier = Notifier(partners.sims.url("notify"))
    note = Notification(channel=Channel.ACCOUNT, event="sla.booking.breach",
                        shipment_id="shipment-S00077", order_ref="S00077",
                        title="SLA breach: booking", text="Booking is 2 h late",
                        details={"stage": "book"})  # fmt: skip
    try:
        for _ in "ab":
            await notifier.send(note, idempotency_key="shipment-S00077:sla-book")
        (message,) = await created(partners.sims.url("notify"), "messages")
        assert message["channel"] == "account"
        body = message["message"]
        assert body["borderflow"]["event"] == "sla.booking.breach"
        assert body["email"]["subject"] == "[Borderflow] SLA breach: booking (S00077)"
        assert "stage: book" in body["email"]["text"]
        await faults(partners.sims.url("notify"), fail_next=1, fail_status=500)
        with pytest.raises(ApplicationError) as caught:
            await notifier.send(note, idempotency_key="another")
        assert not caught.value.non_retryable
    finally:
        await notifier.aclose()
