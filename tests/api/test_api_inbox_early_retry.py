"""A carrier's webhook that arrives before its tracking number is linked is retried early.

EasyPost posts ``tracker.created`` at purchase, so a webhook can beat the booking's link to
the store. The API's redelivery loop is set to an hour here, so only the early retries of the
first attempt (``api/inbox_delivery.py``, ``SOON_S``) can deliver it.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from api_support import inbox_item, start_shipment
from live import LiveApi, Stack
from temporalio.client import Client
from webhook_payloads import easypost_event, send

from store.tokens import Role
from store.tracking import link_tracking


@pytest.fixture(scope="module")
def slow_loop_api(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    database = tmp_path_factory.mktemp("early") / "store.db"
    api = stack.serve_api(f"sqlite:///{database}", inbox_redelivery_s=3600)
    yield api
    stack.stop_api(api)


@pytest.fixture
async def http(slow_loop_api: LiveApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=slow_loop_api.url, timeout=30) as client:
        yield client


async def test_a_webhook_ahead_of_its_tracking_link_is_delivered_without_the_loop(
    slow_loop_api: LiveApi, http: httpx.AsyncClient, temporal: Client
) -> None:
    shipment = await start_shipment(temporal)
    number = f"EZ{uuid.uuid4().hex[:10]}"
    sent = await send(http, "easypost", easypost_event(number))
    assert sent.status_code == 202 and sent.json()["state"] == "received", sent.text
    link_tracking(slow_loop_api.store, "easypost", number, shipment.id)  # the booking's link

    message_id = sent.json()["inbox_id"]
    for _ in range(100):
        found = await inbox_item(http, slow_loop_api.headers(Role.ADMIN), message_id)
        if found["state"] != "received":
            break
        await asyncio.sleep(0.1)
    assert (found["state"], found["shipment_id"]) == ("delivered", shipment.id), found
    assert 2 <= found["attempts"] <= 3  # the first, then one or two early retries
    await shipment.terminate()
