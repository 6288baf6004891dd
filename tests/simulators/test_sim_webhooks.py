"""The webhook sender: retries with backoff, per-subject ordering, giving up, shutdown."""

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from sim_support import serving

from simulators.signing import sign_broker, sign_easypost
from simulators.webhooks import RetryPolicy, WebhookSender


class FlakyEndpoint:
    """Answers ``statuses`` in turn (then 200); records the event ids it saw."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses)
        self.seen: list[tuple[str, int]] = []

    async def handle(self, request: web.Request) -> web.Response:
        payload = await request.json()
        status = self.statuses.pop(0) if self.statuses else 200
        self.seen.append((payload["n"], status))
        return web.Response(status=status)


@pytest.fixture
async def endpoint() -> AsyncIterator[tuple[FlakyEndpoint, str]]:
    flaky = FlakyEndpoint()
    app = web.Application()
    app.router.add_post("/hook", flaky.handle)
    async with serving(app) as url:
        yield flaky, f"{url}/hook"


def make_sender(url: str, give_up_after: float = 5.0) -> WebhookSender:
    return WebhookSender(
        name="test",
        url=url,
        headers=lambda body: {"X-Test": str(len(body))},
        policy=RetryPolicy(initial_delay=0.01, max_delay=0.02, give_up_after=give_up_after),
    )


async def wait_for_attempts(sender: WebhookSender, count: int) -> None:
    for _ in range(500):
        if len(sender.attempts) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {len(sender.attempts)} attempts")


async def test_ordered_delivery_with_retries(endpoint: tuple[FlakyEndpoint, str]) -> None:
    flaky, url = endpoint
    flaky.statuses = [503, 500]
    sender = make_sender(url)
    try:
        for n in ("a", "b", "c"):
            sender.submit(event_id=n, payload={"n": n}, ordering_key="one")
        await wait_for_attempts(sender, 5)
        assert flaky.seen == [("a", 503), ("a", 500), ("a", 200), ("b", 200), ("c", 200)]
        assert [a["delivered"] for a in sender.attempts] == [False, False, True, True, True]
    finally:
        await sender.close()


async def test_gives_up_after_budget(endpoint: tuple[FlakyEndpoint, str]) -> None:
    flaky, url = endpoint
    flaky.statuses = [500] * 1000
    sender = make_sender(url, give_up_after=0.1)
    try:
        sender.submit(event_id="x", payload={"n": "x"}, ordering_key="k")
        await asyncio.sleep(0.4)
        count = len(sender.attempts)
        assert 2 <= count < 20
        await asyncio.sleep(0.1)
        assert len(sender.attempts) == count  # stopped retrying
        assert not any(a["delivered"] for a in sender.attempts)
    finally:
        await sender.close()


async def test_unreachable_receiver_is_recorded_and_close_cancels() -> None:
    sender = make_sender("http://127.0.0.1:9/hook", give_up_after=60)
    sender.submit(event_id="x", payload={"n": "x"}, ordering_key="k")
    await wait_for_attempts(sender, 2)
    assert sender.attempts[0]["status"] is None
    assert sender.attempts[0]["error"]
    await sender.close()
    count = len(sender.attempts)
    await asyncio.sleep(0.1)
    assert len(sender.attempts) == count


def test_signatures_match_known_vectors() -> None:
    # Vectors computed once with `openssl dgst -sha256 -hmac`, not with this code.
    assert sign_easypost(b"secret", b'{"a":1}') == (
        "hmac-sha256-hex=aa9e2e3575f5d7098b6caccd790888c36d5fdb63342a73bada2d6a51747a8494"
    )
    assert sign_broker(b"secret", b'{"a":1}', 1700000000) == (
        "t=1700000000,v1=49f24e537407743fa4a0242bb63b94b9a47ee99cbbe071ccd8a22550ae411686"
    )
