"""Fixtures: in-process simulators on free ports and a webhook receiver standing in for the API."""

from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from sim_support import Receiver, running, serving

from simulators.app import RunningSimulators


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recv = Receiver()
    app = web.Application()
    app.router.add_post("/v1/webhooks/easypost", recv.handle)
    app.router.add_post("/v1/webhooks/broker", recv.handle)
    async with serving(app) as url:
        recv.url = url
        yield recv


@pytest.fixture
async def sims(receiver: Receiver) -> AsyncIterator[RunningSimulators]:
    async with running(receiver.url) as started:
        yield started


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10.0) as client:
        yield client
