import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from store.inbox import (
    Delivery,
    InboxMessage,
    InboxState,
    NewMessage,
    due_for_delivery,
    get_message,
    list_messages,
    purge_delivered,
    record_attempt,
    record_deliveries,
    store_message,
    store_messages,
)


def key() -> str:
    return f"evt_{uuid.uuid4().hex}"


def test_a_payload_is_stored_once_with_its_headers_minus_private_ones(engine: Engine) -> None:
    dedupe = key()
    headers = {"X-Hmac-Signature": "hmac-sha256-hex=ab", "Authorization": "Bearer s3cret"}
    first, new = store_message(engine, partner="easypost", dedupe_key=dedupe, headers=headers,
                               body=b'{"id": 1}')  # fmt: skip
    again, new_again = store_message(engine, partner="easypost", dedupe_key=dedupe,
                                     headers=headers, body=b'{"id": 1}')  # fmt: skip
    assert (new, new_again) == (True, False)
    assert again.id == first.id and again.state == InboxState.RECEIVED
    assert json.loads(again.headers) == {"X-Hmac-Signature": "hmac-sha256-hex=ab"}
    assert again.body == b'{"id": 1}'
    # the same key from another partner is another payload
    _, other = store_message(engine, partner="broker", dedupe_key=dedupe, headers={}, body=b"{}")
    assert other


def test_delivery_outcomes_are_recorded_and_listed_by_state(engine: Engine) -> None:
    stored = [store_message(engine, partner="broker", dedupe_key=key(), headers={},
                            body=b"{}")[0] for _ in range(3)]  # fmt: skip
    ids = [m.id for m in stored if m.id is not None]
    assert len(ids) == 3
    record_attempt(engine, ids[0], InboxState.DELIVERED, shipment_id="shipment-S1")
    record_attempt(engine, ids[1], InboxState.DEAD, reason="no shipment matches")
    dead = get_message(engine, ids[1])
    assert dead and dead.reason == "no shipment matches" and dead.attempts == 1
    listed = list_messages(engine, state=InboxState.DEAD, after_id=min(ids) - 1)
    assert [m.id for m in listed] == [ids[1]]
    page = list_messages(engine, after_id=ids[0], limit=1)
    assert [m.id for m in page] == [ids[1]]


def test_only_stale_received_messages_are_due_and_retention_spares_dead_letters(
    engine: Engine,
) -> None:
    message, _ = store_message(engine, partner="tms", dedupe_key=key(), headers={}, body=b"{}")
    dead, _ = store_message(engine, partner="tms", dedupe_key=key(), headers={}, body=b"{}",
                            state=InboxState.DEAD, reason="x")  # fmt: skip
    assert message.id is not None and dead.id is not None
    assert message.id not in due_for_delivery(engine, older_than=timedelta(minutes=5))
    assert message.id in due_for_delivery(engine, older_than=timedelta(seconds=-1))
    assert dead.id not in due_for_delivery(engine, older_than=timedelta(seconds=-1))

    record_attempt(engine, message.id, InboxState.DELIVERED)
    with Session(engine) as session:  # age both messages by ten days
        for stored in (session.get(InboxMessage, message.id), session.get(InboxMessage, dead.id)):
            assert stored is not None
            stored.received_at = stored.received_at - timedelta(days=10)
            session.add(stored)
        session.commit()
    assert purge_delivered(engine, older_than=timedelta(days=7)) >= 1
    assert get_message(engine, message.id) is None
    assert get_message(engine, dead.id) is not None


def test_deliveries_recorded_in_one_batch_count_as_attempts_and_keep_the_first_delivery(
    engine: Engine,
) -> None:
    first, _ = store_message(engine, partner="easypost", dedupe_key=key(), headers={}, body=b"{}")
    second, _ = store_message(engine, partner="easypost", dedupe_key=key(), headers={}, body=b"{}")
    assert first.id is not None and second.id is not None
    record_deliveries(engine, [Delivery(first.id, "shipment-S1"),
                               Delivery(second.id, "shipment-S2", "nothing new")])  # fmt: skip
    once = get_message(engine, first.id)
    assert once is not None and once.delivered_at is not None
    assert (once.state, once.last_outcome, once.shipment_id, once.reason) == (
        "delivered", "delivered", "shipment-S1", None,
    )  # fmt: skip
    assert (once.attempts, once.deliveries, once.replays) == (1, 1, 0)
    noted = get_message(engine, second.id)
    assert (
        noted is not None and noted.reason == "nothing new" and noted.shipment_id == "shipment-S2"
    )
    record_deliveries(engine, [Delivery(first.id, "shipment-S1")])
    twice = get_message(engine, first.id)
    assert twice is not None and (twice.attempts, twice.deliveries) == (2, 2)
    assert twice.delivered_at == once.delivered_at
    record_deliveries(engine, [])  # nothing to record: no statement


def test_an_attempt_after_a_delivery_leaves_the_message_delivered(engine: Engine) -> None:
    message, _ = store_message(engine, partner="easypost", dedupe_key=key(), headers={}, body=b"{}")
    assert message.id is not None
    assert record_attempt(engine, message.id, InboxState.DEAD, reason="x") is InboxState.DEAD
    assert record_attempt(engine, message.id, InboxState.DELIVERED) is InboxState.DELIVERED
    late = record_attempt(engine, message.id, InboxState.LATE, reason="ended", replay=True)
    assert late is InboxState.DELIVERED
    stored = get_message(engine, message.id)
    assert stored is not None and (stored.state, stored.last_outcome) == ("delivered", "late")
    assert (stored.attempts, stored.deliveries, stored.replays) == (3, 1, 1)
    assert stored.replayed_at is not None and stored.reason == "ended"
    with pytest.raises(KeyError):
        record_attempt(engine, 2**31 - 1, InboxState.DELIVERED)


def test_payloads_and_deliveries_stored_together_are_committed_together(engine: Engine) -> None:
    delivered, _ = store_message(engine, partner="easypost", dedupe_key=key(), headers={},
                                 body=b"{}")  # fmt: skip
    assert delivered.id is not None
    keys = [key(), key()]
    batch = [NewMessage("easypost", k, {"Authorization": "Bearer s3cret"}, b"{}") for k in keys]
    batch.append(NewMessage("easypost", keys[0], {}, b"{}"))  # a duplicate within the batch
    batch.append(NewMessage("easypost", delivered.dedupe_key, {}, b"{}"))  # and of a stored one
    results = store_messages(engine, batch, [Delivery(delivered.id, "shipment-S1")])
    assert [new for _, new in results] == [True, True, False, False]
    assert results[2][0].id == results[0][0].id and results[3][0].id == delivered.id
    first = get_message(engine, results[0][0].id or 0)
    assert first is not None and json.loads(first.headers) == {}  # private headers dropped
    after = get_message(engine, delivered.id)
    assert after is not None and after.state == InboxState.DELIVERED and after.attempts == 1
    assert store_messages(engine, []) == []
