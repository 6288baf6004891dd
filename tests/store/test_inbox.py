import json
import uuid
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session

from store.inbox import (
    InboxMessage,
    InboxState,
    due_for_delivery,
    get_message,
    list_messages,
    purge_delivered,
    record_attempt,
    store_message,
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
    ids = [m.id for m in stored]
    assert None not in ids
    record_attempt(engine, ids[0], InboxState.DELIVERED, shipment_id="shipment-S1")  # type: ignore[arg-type]
    record_attempt(engine, ids[1], InboxState.DEAD, reason="no shipment matches")  # type: ignore[arg-type]
    dead = get_message(engine, ids[1])  # type: ignore[arg-type]
    assert dead and dead.reason == "no shipment matches" and dead.attempts == 1
    listed = list_messages(engine, state=InboxState.DEAD, after_id=min(ids) - 1)  # type: ignore[type-var]
    assert [m.id for m in listed] == [ids[1]]
    page = list_messages(engine, after_id=ids[0], limit=1)  # type: ignore[arg-type]
    assert [m.id for m in page] == [ids[1]]


def test_only_stale_received_messages_are_due_and_retention_spares_dead_letters(
    engine: Engine,
) -> None:
    message, _ = store_message(engine, partner="tms", dedupe_key=key(), headers={}, body=b"{}")
    dead, _ = store_message(engine, partner="tms", dedupe_key=key(), headers={}, body=b"{}",
                            state=InboxState.DEAD, reason="x")  # fmt: skip
    assert message.id not in due_for_delivery(engine, older_than=timedelta(minutes=5))
    assert message.id in due_for_delivery(engine, older_than=timedelta(seconds=-1))
    assert dead.id not in due_for_delivery(engine, older_than=timedelta(seconds=-1))

    record_attempt(engine, message.id, InboxState.DELIVERED)  # type: ignore[arg-type]
    with Session(engine) as session:  # age both messages by ten days
        for stored in (session.get(InboxMessage, message.id), session.get(InboxMessage, dead.id)):
            assert stored is not None
            stored.received_at = stored.received_at - timedelta(days=10)
            session.add(stored)
        session.commit()
    assert purge_delivered(engine, older_than=timedelta(days=7)) >= 1
    assert get_message(engine, message.id) is None  # type: ignore[arg-type]
    assert get_message(engine, dead.id) is not None  # type: ignore[arg-type]
