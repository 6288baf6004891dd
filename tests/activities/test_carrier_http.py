"""What every carrier adapter does alike, through :mod:`activities.carriers.http`.

A 429 is retryable after its ``Retry-After``; a hang times out and a refused connection
fails as ``httpx`` errors, which Temporal retries (not ApplicationErrors). Real HTTP against
the in-process simulators, once per carrier.
"""

from collections.abc import AsyncIterator
from contextlib import aclosing
from datetime import timedelta

import httpx
import pytest
from activity_partners import SECRETS
from pydantic import SecretStr
from sim_admin import NOBODY, REF, shipment, sim, simulators
from temporalio.exceptions import ApplicationError

from activities.carriers.dhl import DhlCarrier
from activities.carriers.easypost import EasyPostCarrier
from activities.carriers.port import CarrierPort
from canonical.booking import CarrierBooking
from simulators.app import RunningSimulators

CARRIERS: dict[str, tuple[type[EasyPostCarrier] | type[DhlCarrier], str, str]] = {
    "easypost": (EasyPostCarrier, "carrier_api_key", "easypost"),
    "dhl": (DhlCarrier, "dhl_api_key", "dhl"),
}
"""Carrier → (adapter, its API key in ``SECRETS``, its simulator's partner name)."""


@pytest.fixture(params=list(CARRIERS))
def name(request: pytest.FixtureRequest) -> str:
    carrier: str = request.param
    return carrier


@pytest.fixture
async def sims() -> AsyncIterator[RunningSimulators]:
    async with simulators(3600) as running:
        yield running


def adapter(name: str, url: str, timeout_s: float = 2.0) -> aclosing[CarrierPort]:
    kind, key, _ = CARRIERS[name]
    return aclosing(kind(url, SecretStr(SECRETS[key]), timeout_s=timeout_s))


def url_of(name: str, sims: RunningSimulators) -> str:
    return sims.url(CARRIERS[name][2])


async def book(name: str, carrier: CarrierPort) -> CarrierBooking:
    return await carrier.book(REF, shipment(name), idempotency_key="key-1")


async def test_429_is_retryable_after_its_retry_after(name: str, sims: RunningSimulators) -> None:
    await sim(url_of(name, sims), "/_sim/faults", {"rate_limit_next": 1, "retry_after_s": 7})
    async with adapter(name, url_of(name, sims)) as carrier:
        with pytest.raises(ApplicationError) as limited:
            await book(name, carrier)
    assert not limited.value.non_retryable
    assert limited.value.next_retry_delay == timedelta(seconds=7)


async def test_a_hanging_carrier_times_out_retryably(name: str, sims: RunningSimulators) -> None:
    await sim(url_of(name, sims), "/_sim/faults", {"hang_next": 1, "hang_s": 5})
    async with adapter(name, url_of(name, sims), timeout_s=0.2) as impatient:
        with pytest.raises(httpx.TimeoutException):  # not an ApplicationError: Temporal retries
            await book(name, impatient)


async def test_connection_refused_is_retryable(name: str) -> None:
    async with adapter(name, NOBODY, timeout_s=1.0) as unreachable:
        with pytest.raises(httpx.ConnectError):  # not an ApplicationError: Temporal retries
            await book(name, unreachable)
