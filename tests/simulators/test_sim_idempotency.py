"""Idempotency-Key middleware semantics, including requests racing on one key."""

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp import web
from sim_support import serving

from simulators.idempotency import IdempotencyStore
from simulators.rest import HttpError, error_middleware, json_response, problem_renderer


class SlowCounter:
    def __init__(self) -> None:
        self.calls = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        body = await request.json()
        await asyncio.sleep(0.05)
        if body.get("fail"):
            raise HttpError(422, "invalid", "told to fail")
        return json_response({"call": self.calls}, status=201)


@pytest.fixture
async def slow_app() -> AsyncIterator[tuple[SlowCounter, str]]:
    counter = SlowCounter()
    store = IdempotencyStore(conflict_code="conflict", invalid_key_code="bad-key")
    app = web.Application(
        middlewares=[
            error_middleware(problem_renderer("urn:test"), {}),
            store.middleware(),
        ]
    )
    app.router.add_post("/things", counter.handle)
    async with serving(app) as url:
        yield counter, f"{url}/things"


async def test_racing_requests_run_the_handler_once(
    slow_app: tuple[SlowCounter, str], http: httpx.AsyncClient
) -> None:
    counter, url = slow_app
    headers = {"Idempotency-Key": "race"}
    responses = await asyncio.gather(*(http.post(url, json={}, headers=headers) for _ in range(4)))
    assert counter.calls == 1
    assert [r.json() for r in responses] == [{"call": 1}] * 4
    assert sorted(r.headers.get("idempotent-replayed", "") for r in responses) == [
        "",
        "true",
        "true",
        "true",
    ]


async def test_keys_json_canonical_and_errors_release_the_key(
    slow_app: tuple[SlowCounter, str], http: httpx.AsyncClient
) -> None:
    counter, url = slow_app
    first = await http.post(url, content=b'{"a": 1, "b": 2}', headers={"Idempotency-Key": "k"})
    same = await http.post(url, content=b'{"b":2,"a":1}', headers={"Idempotency-Key": "k"})
    assert same.json() == first.json() == {"call": 1}
    failed = await http.post(url, json={"fail": True}, headers={"Idempotency-Key": "f"})
    assert failed.status_code == 422
    retried = await http.post(url, json={"fail": False}, headers={"Idempotency-Key": "f"})
    assert retried.status_code == 201
    assert counter.calls == 3
    too_long = await http.post(url, json={}, headers={"Idempotency-Key": "x" * 256})
    assert too_long.status_code == 400
