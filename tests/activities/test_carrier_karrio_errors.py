"""The Karrio adapter's error classes and deadlines, against stub servers (real HTTP)."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from sim_admin import NOBODY, REF, shipment
from temporalio.exceptions import ApplicationError

from activities.carriers import karrio_transport as transport
from activities.carriers.karrio import KarrioCarrier
from activities.carriers.karrio_settings import KarrioConnection

NAME = "karrio-easypost"


@contextlib.asynccontextmanager
async def server(
    status: int, body: Any, *, delay_s: float = 0.0, headers: dict[str, str] | None = None
) -> AsyncIterator[tuple[str, list[web.Request]]]:
    """Answers every request with ``status`` and ``body`` after ``delay_s``; keeps them."""
    seen: list[web.Request] = []

    async def answer(request: web.Request) -> web.Response:
        seen.append(request)
        await asyncio.sleep(delay_s)
        return web.json_response(body, status=status, headers=headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}", seen
    finally:
        await runner.cleanup()


def connection(url: str, **changes: Any) -> KarrioConnection:
    data: dict[str, Any] = {
        "name": NAME, "carrier": "easypost", "secrets": {"api_key": "sk_test_secret_42"},
        "server_url": f"{url}/v2", "services": {"express": "Express"},
        "tracking_carrier": "DHLExpress", "dialect": "easypost",
        "timeout_s": 1.0, "deadline_s": 2.0,
    }  # fmt: skip
    return KarrioConnection.model_validate({**data, **changes})


async def book(url: str, **changes: Any) -> ApplicationError:
    async with contextlib.aclosing(KarrioCarrier(connection(url, **changes))) as carrier:
        with pytest.raises(ApplicationError) as failed:
            await carrier.book(REF, shipment(NAME), idempotency_key="key-1")
    assert "sk_test_secret_42" not in str(failed.value)
    return failed.value


EASYPOST_REFUSAL = {
    "error": {"code": "ADDRESS.VERIFY.FAILURE", "message": "Unable to verify address.",
              "errors": [{"field": "zip", "message": "invalid"}]}
}  # fmt: skip


async def test_a_4xx_refusal_is_not_retryable_and_carries_the_carriers_code() -> None:
    async with server(422, EASYPOST_REFUSAL) as (url, _):
        error = await book(url)
    assert error.non_retryable and error.type == "PartnerRejected"
    assert "HTTP 422" in str(error) and "ADDRESS.VERIFY.FAILURE" in str(error)


@pytest.mark.parametrize("status", [500, 503, 408, 409])
async def test_a_5xx_or_transient_status_is_retryable(status: int) -> None:
    async with server(status, {"error": {"code": "X", "message": "down"}}) as (url, _):
        error = await book(url)
    assert not error.non_retryable and error.type == "PartnerUnavailable"
    assert f"HTTP {status}" in str(error)


async def test_a_429_is_retryable_after_its_retry_after() -> None:
    body = {"error": {"code": "RATE_LIMITED", "message": "slow down"}}
    async with server(429, body, headers={"Retry-After": "7"}) as (url, _):
        error = await book(url)
    assert not error.non_retryable
    assert error.next_retry_delay == timedelta(seconds=7)


async def test_no_listener_is_retryable() -> None:
    error = await book(NOBODY)
    assert not error.non_retryable and "transport" in str(error)


async def test_a_silent_carrier_times_out_on_our_socket_timeout() -> None:
    started = time.monotonic()
    async with server(201, {}, delay_s=3) as (url, _):
        error = await book(url, timeout_s=0.3, deadline_s=1.0)
    assert time.monotonic() - started < 2.5  # Karrio alone would wait for ever
    assert not error.non_retryable and "timed out" in str(error)


async def test_our_deadline_bounds_the_whole_operation() -> None:
    call = transport.KarrioCall(timeout_s=5, deadline=time.monotonic() + 5)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=1) as executor:
        with pytest.raises(ApplicationError) as late:
            await transport.run("k", executor, call, lambda: time.sleep(1.0), deadline_s=0.2)
        assert time.monotonic() - started < 0.8
    assert not late.value.non_retryable and "0.2 s deadline" in str(late.value)


async def test_each_post_of_a_booking_carries_its_own_key_derived_from_ours() -> None:
    rated = {"object": "Shipment", "id": "shp_1", "rates": [{"id": "rate_1", "service": "Other"}]}
    async with server(201, rated) as (url, seen):
        error = await book(url)  # no Express rate: Karrio gives up after the create
    assert error.non_retryable and error.type == "PartnerRejected"
    assert "No rate found" in str(error)
    assert [r.headers.get("Idempotency-Key") for r in seen] == ["key-1"]
    assert seen[0].headers["Authorization"].startswith("Basic ")

    key = transport.KarrioCall(timeout_s=1, deadline=0, idempotency_key="k")
    assert [key.next_key(), key.next_key(), key.next_key()] == ["k", "k-2", "k-3"]


async def test_a_2xx_karrio_cannot_read_is_not_retryable() -> None:
    bought = {"object": "Shipment", "id": "shp_1", "rates": [{"id": "r", "service": "Express"}]}
    async with server(200, bought) as (url, _):
        error = await book(url)  # the "buy" answers a shipment with no label
    assert error.non_retryable and error.type == "PartnerContract"


def test_settings_karrio_does_not_know_are_refused_without_their_values() -> None:
    with pytest.raises(ValueError, match=r"\['apikey'\]") as refused:
        KarrioCarrier(connection(NOBODY, secrets={"api_key": "a", "apikey": "sk_typo_77"}))
    assert "sk_typo_77" not in str(refused.value)
    with pytest.raises(ValueError, match="no extension"):
        KarrioCarrier(connection(NOBODY, carrier="nosuchcarrier"))
    with pytest.raises(ValueError, match="deadline_s"):
        connection(NOBODY, timeout_s=10, deadline_s=5)


async def test_outside_an_adapter_call_karrios_http_is_untouched() -> None:
    import karrio.core.utils.helpers as helpers

    transport.install()
    transport.install()  # once only
    assert helpers.urlopen.__wrapped__.__module__ == "urllib.request"
