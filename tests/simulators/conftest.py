"""Fixtures: in-process simulators on free ports and a webhook receiver standing in for the API."""

from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from sim_support import Receiver, make_settings

from simulators.app import RunningSimulators, start_simulators


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recv = Receiver()
    app = web.Application()
    app.router.add_post("/v1/webhooks/easypost", recv.handle)
    app.router.add_post("/v1/webhooks/broker", recv.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    recv.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield recv
    await runner.cleanup()


@pytest.fixture
async def sims(receiver: Receiver) -> AsyncIterator[RunningSimulators]:
    running = await start_simulators(make_settings(receiver.url))
    yield running
    await running.close()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client
