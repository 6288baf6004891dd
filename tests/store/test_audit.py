"""The audit trail on SQLite and PostgreSQL: append-only, masked, paged."""

import json

import pytest
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError

from store import audit
from store.audit import AuditKind, list_entries, record_ops_action, record_partner_call


class Consignee(BaseModel):
    name: str
    email: str
    phone: str
    country: str


def partner_call(engine: Engine, shipment_id: str, operation: str, outcome: str = "ok") -> int:
    return record_partner_call(
        engine, shipment_id=shipment_id, partner="tms", operation=operation,
        idempotency_key=f"{shipment_id}:{operation}", attempt=1,
        request_summary='{"shipment_id":"' + shipment_id + '"}', outcome=outcome,
        latency_ms=12, trace_id="0" * 32,
    )  # fmt: skip


def test_entries_are_listed_in_write_order_per_shipment_with_a_cursor(engine: Engine) -> None:
    first = len(list_entries(engine, limit=10_000))  # the PostgreSQL database is shared
    ids = [partner_call(engine, f"shipment-L{i % 2}", f"step_{i}") for i in range(5)]
    record_ops_action(engine, "tok1", "ops", "shipment.start", "shipment-L0", None, {"x": 1})
    mine = list_entries(engine, shipment_id="shipment-L0")
    assert [e.operation for e in mine] == ["step_0", "step_2", "step_4", "shipment.start"]
    assert [e.kind for e in mine] == [AuditKind.PARTNER_CALL] * 3 + [AuditKind.OPS_ACTION]
    page = list_entries(engine, after_id=ids[1], limit=2)
    assert [e.id for e in page] == ids[2:4]
    assert len(list_entries(engine, limit=10_000)) == first + 6


def test_ops_actions_keep_who_and_a_masked_before_and_after(engine: Engine) -> None:
    before = Consignee(name="Jane Doe", email="jane@example.com", phone="+49 40 555 0100",
                       country="DE")  # fmt: skip
    after = {"consignee": {**before.model_dump(), "name": "John Roe"},
             "reason": "call +1 617 555 0100", "api_key": "sk_live_123",
             "service_level": "express"}  # fmt: skip
    entry_id = record_ops_action(engine, "tok9", "ops", "shipment.amend", "shipment-S7", before,
                                 after)  # fmt: skip
    (stored,) = [e for e in list_entries(engine, shipment_id="shipment-S7") if e.id == entry_id]
    assert (stored.token_id, stored.role, stored.operation, stored.outcome) == (
        "tok9",
        "ops",
        "shipment.amend",
        "ok",
    )
    assert json.loads(stored.before or "") == {
        "name": "***",
        "email": "***",
        "phone": "***",
        "country": "DE",
    }
    assert json.loads(stored.after or "") == {
        "consignee": {"name": "***", "email": "***", "phone": "***", "country": "DE"},
        "reason": "call ***",
        "api_key": "***",
        "service_level": "express",
    }
    raw = (stored.before or "") + (stored.after or "")
    for secret in ("Jane", "John", "jane@", "555", "sk_live"):
        assert secret not in raw


def test_the_database_refuses_to_change_or_delete_an_entry(engine: Engine) -> None:
    entry_id = partner_call(engine, "shipment-R1", "book_carrier", outcome="PartnerRejected")
    for statement in (
        f"UPDATE audit_entry SET outcome = 'ok' WHERE id = {entry_id}",
        f"DELETE FROM audit_entry WHERE id = {entry_id}",
    ):
        with pytest.raises(DatabaseError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    (kept,) = [e for e in list_entries(engine, shipment_id="shipment-R1") if e.id == entry_id]
    assert kept.outcome == "PartnerRejected"


def test_the_module_offers_no_way_to_change_the_trail() -> None:
    public = {name for name in dir(audit) if not name.startswith("_")}
    assert not {
        name
        for name in public
        if any(verb in name for verb in ("update", "delete", "purge", "remove", "edit"))
    }
