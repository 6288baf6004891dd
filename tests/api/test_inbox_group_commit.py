"""The inbox's group commit (``api/inbox_delivery.py``): concurrent webhooks share one
transaction, each is answered only once its row is committed, and a failed commit answers
every waiter with an error (never as stored)."""

import asyncio
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from pg_support import migrated_store
from sqlalchemy import event
from sqlalchemy.engine import Engine
from temporalio.client import Client

from api.inbox_delivery import InboxDelivery
from store.inbox import (
    Delivery,
    InboxMessage,
    InboxState,
    NewMessage,
    get_message,
    list_messages,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from migrated_store(request, tmp_path)


def stored_of(engine: Engine, keys: list[str]) -> list[InboxMessage]:
    """The rows of ``keys`` (the PostgreSQL database is shared with other tests)."""
    wanted = set(keys)
    return [m for m in list_messages(engine, limit=100_000) if m.dedupe_key in wanted]


def inbox(engine: Engine) -> InboxDelivery:
    return InboxDelivery(cast(Client, None), engine)  # storing never reaches Temporal


def payload(key: str) -> NewMessage:
    return NewMessage("easypost", key, {"X-Hmac-Signature": "sig"}, f'{{"id": "{key}"}}'.encode())


def count_commits(engine: Engine) -> list[int]:
    commits: list[int] = []
    event.listen(engine, "commit", lambda _connection: commits.append(1))
    return commits


async def test_concurrent_webhooks_are_each_stored_once_and_all_answered(engine: Engine) -> None:
    delivery = inbox(engine)
    commits = count_commits(engine)
    keys = [f"evt_{uuid.uuid4().hex}" for _ in range(40)]
    sent = keys + keys[:10]  # ten of them twice, at the same time: duplicates
    answers = await asyncio.gather(*(delivery.store(payload(k)) for k in sent))

    assert [message.dedupe_key for message, _ in answers] == sent
    assert sum(new for _, new in answers) == len(keys)
    by_key = {message.dedupe_key: message.id for message, new in answers if new}
    assert all(message.id == by_key[message.dedupe_key] for message, _ in answers)
    stored = stored_of(engine, keys)
    assert sorted(m.dedupe_key for m in stored) == sorted(keys)  # each once
    assert all(m.state == InboxState.RECEIVED and m.body for m in stored)
    assert 1 <= len(commits) < len(sent)  # they shared transactions
    again, new = await delivery.store(payload(keys[0]))  # later: a duplicate still
    assert not new and again.id == by_key[keys[0]]
    await delivery.close()


async def test_a_failed_commit_answers_every_waiter_with_an_error(engine: Engine) -> None:
    delivery = inbox(engine)
    (first, _) = await delivery.store(payload(f"evt_{uuid.uuid4().hex}"))
    assert first.id is not None

    def refuse(_connection: Any) -> None:
        raise RuntimeError("disk full")

    event.listen(engine, "commit", refuse)
    keys = [f"evt_{uuid.uuid4().hex}" for _ in range(20)]
    delivery._record_later(Delivery(first.id, "shipment-S1"))  # its outcome rides along
    answers = await asyncio.gather(
        *(delivery.store(payload(k)) for k in keys), return_exceptions=True
    )
    assert all(isinstance(a, RuntimeError) for a in answers), answers
    await delivery.flush()
    event.remove(engine, "commit", refuse)

    assert [m.id for m in stored_of(engine, [first.dedupe_key, *keys])] == [first.id]  # only it
    kept = get_message(engine, first.id)
    assert kept is not None and kept.state == InboxState.RECEIVED  # the loop delivers it again
    stored, new = await delivery.store(payload(keys[0]))  # the partner's retry is stored
    assert new and stored.id is not None
    await delivery.close()


async def test_one_bad_payload_fails_only_its_own_webhook(engine: Engine) -> None:
    delivery = inbox(engine)
    bad = NewMessage("easypost", f"evt_{uuid.uuid4().hex}", {}, cast(bytes, None))  # NOT NULL
    good = [payload(f"evt_{uuid.uuid4().hex}") for _ in range(5)]
    answers = await asyncio.gather(
        *(delivery.store(m) for m in [*good[:2], bad, *good[2:]]), return_exceptions=True
    )
    assert isinstance(answers[2], Exception)
    ok = [a for i, a in enumerate(answers) if i != 2]
    assert all(isinstance(a, tuple) and a[1] for a in ok), answers
    assert len(stored_of(engine, [m.dedupe_key for m in [*good, bad]])) == len(good)
    await delivery.close()


async def test_a_writer_stopped_mid_round_answers_its_waiters_with_an_error(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.inbox_delivery

    inside, release = threading.Event(), threading.Event()
    real = api.inbox_delivery.store_messages

    def slow(*args: Any, **kwargs: Any) -> Any:
        inside.set()
        release.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(api.inbox_delivery, "store_messages", slow)
    delivery = inbox(engine)
    waiters = [asyncio.create_task(delivery.store(payload(f"stop-{uuid.uuid4().hex}")))
               for _ in range(3)]  # fmt: skip
    await asyncio.to_thread(inside.wait, 10)  # the round's transaction is under way
    assert delivery._writer is not None
    delivery._writer.cancel()  # the writer stops mid-round (the process is stopping)
    outcomes = await asyncio.wait_for(asyncio.gather(*waiters, return_exceptions=True), 10)
    release.set()
    assert all(isinstance(o, RuntimeError) and "stopped" in str(o) for o in outcomes), outcomes
