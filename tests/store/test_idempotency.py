"""Idempotency-key reservations: one holder per key, responses stored whole, crashes recover."""

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from store.idempotency import (
    IdempotencyState,
    StoredResponse,
    find_response,
    finish,
    release,
    reserve,
)

SCOPE = "token1"


def key() -> str:
    return f"k-{uuid.uuid4().hex}"


def race(engine: Engine, name: str) -> list[tuple[StoredResponse | None, bool]]:
    """Two threads reserve ``name`` at the same moment, with different requests."""
    barrier = threading.Barrier(2)

    def one(digest: str) -> tuple[StoredResponse | None, bool]:
        barrier.wait(timeout=30)
        return reserve(engine, scope=SCOPE, key=name, request_sha256=digest)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, ("a" * 64, "b" * 64)))


def test_of_two_racing_threads_exactly_one_holds_the_key(engine: Engine) -> None:
    for _ in range(10):
        results = race(engine, key())
        assert sorted(mine for _, mine in results) == [False, True]
        (held,) = [record for record, mine in results if mine]
        (other,) = [record for record, mine in results if not mine]
        assert held is not None and other is not None
        assert other.state == IdempotencyState.IN_FLIGHT and other.id == held.id


def test_a_finished_key_keeps_its_response_and_a_released_one_is_free(engine: Engine) -> None:
    name = key()
    held, mine = reserve(engine, scope=SCOPE, key=name, request_sha256="a" * 64)
    assert mine and held is not None
    assert finish(engine, held, status=201, body='{"ok": true}')
    again, mine = reserve(engine, scope=SCOPE, key=name, request_sha256="a" * 64)
    assert not mine and again is not None
    assert (again.state, again.status, again.body) == ("finished", 201, '{"ok": true}')
    assert not finish(engine, held, status=500, body="{}")  # finished once, for good
    release(engine, held)  # nor can it be released
    assert find_response(engine, SCOPE, name) is not None
    # the same key under another scope is another key
    _, theirs = reserve(engine, scope="token2", key=name, request_sha256="b" * 64)
    assert theirs

    failed = key()
    held, _ = reserve(engine, scope=SCOPE, key=failed, request_sha256="a" * 64)
    assert held is not None
    release(engine, held)
    assert find_response(engine, SCOPE, failed) is None
    _, mine = reserve(engine, scope=SCOPE, key=failed, request_sha256="b" * 64)
    assert mine


def test_an_abandoned_reservation_is_taken_over_once_and_its_old_holder_locked_out(
    engine: Engine,
) -> None:
    name = key()
    crashed, _ = reserve(engine, scope=SCOPE, key=name, request_sha256="a" * 64)
    assert crashed is not None
    busy, mine = reserve(engine, scope=SCOPE, key=name, request_sha256="b" * 64)
    assert not mine and busy is not None and busy.state == IdempotencyState.IN_FLIGHT
    expired = timedelta(seconds=-1)  # as if RESERVATION_TTL had passed
    taken, mine = reserve(engine, scope=SCOPE, key=name, request_sha256="b" * 64, ttl=expired)
    assert mine and taken is not None and taken.request_sha256 == "b" * 64
    assert not finish(engine, crashed, status=201, body="{}")
    release(engine, crashed)
    assert finish(engine, taken, status=201, body='{"second": true}')
    stored = find_response(engine, SCOPE, name)
    assert stored is not None and stored.body == '{"second": true}'


def test_the_store_refuses_a_finished_record_without_its_response(engine: Engine) -> None:
    held, _ = reserve(engine, scope=SCOPE, key=key(), request_sha256="a" * 64)
    assert held is not None
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(
            update(StoredResponse)
            .where(StoredResponse.id == held.id)  # type: ignore[arg-type]
            .values(state=IdempotencyState.FINISHED)
        )
