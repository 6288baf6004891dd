"""Helpers shared by the ``test_dialect_<partner>.py`` modules (no tests of its own)."""

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from canonical.dialects import TABLES, MalformedPayload, NormalizedWebhook, normalize

FIXTURES = Path(__file__).parent.parent / "fixtures"
RECEIVED_AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
DELETE = object()
"""A ``mutate`` value that removes the field."""

Path_ = tuple[str | int, ...]


def fixture_bytes(partner: str, name: str) -> bytes:
    return (FIXTURES / partner / name).read_bytes()


def fixture(partner: str, name: str) -> Any:
    return json.loads(fixture_bytes(partner, name))


def body(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


def run(partner: str, payload: Any) -> NormalizedWebhook:
    return normalize(partner, body(payload), received_at=RECEIVED_AT)


def mutate(payload: Any, path: Path_, value: Any) -> Any:
    """A deep copy of ``payload`` with the field at ``path`` set to ``value`` (or deleted)."""
    changed = copy.deepcopy(payload)
    parent = changed
    for step in path[:-1]:
        parent = parent[step]
    if value is DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return changed


def refused(partner: str, payload: Any) -> MalformedPayload:
    with pytest.raises(MalformedPayload) as caught:
        run(partner, payload)
    error = caught.value
    assert "\n" not in str(error)
    assert str(error).startswith(f"{partner} payload: ")
    return error


def split(key: str) -> tuple[str, str | None]:
    code, _, sub_code = key.partition("/")
    return code, sub_code or None


def table_keys(partner: str) -> list[str]:
    return sorted(TABLES[partner].codes)


def event_ids(webhook: NormalizedWebhook) -> list[str]:
    return [event.event_id for event in webhook.events]


def assert_oldest_first(webhook: NormalizedWebhook) -> None:
    times = [event.occurred_at for event in webhook.events]
    assert times == sorted(times)


def assert_common(webhook: NormalizedWebhook, partner: str) -> None:
    """What every normalized payload guarantees, whatever the partner."""
    assert webhook.partner == partner
    for event in webhook.events:
        assert event.source.partner == partner
        assert event.recorded_at == RECEIVED_AT
        assert event.occurred_at.utcoffset() is not None
        assert event.shipment_id is None


def assert_stable(partner: str, payload: Any) -> NormalizedWebhook:
    """Two normalizations of the same bytes agree on every id."""
    first, second = run(partner, payload), run(partner, payload)
    assert first.dedupe_key == second.dedupe_key
    assert event_ids(first) == event_ids(second)
    assert [e.dedupe_key for e in first.events] == [e.dedupe_key for e in second.events]
    assert len(set(event_ids(first))) == len(first.events)
    return first


def assert_redelivery_keeps_ids(partner: str, shorter: Any, longer: Any) -> None:
    """A payload with one more history entry keeps the ids of the events already seen."""
    before, after = run(partner, shorter), run(partner, longer)
    assert len(after.events) == len(before.events) + 1
    assert set(event_ids(before)) < set(event_ids(after))
    kept = [event for event in after.events if event.event_id in set(event_ids(before))]
    assert kept == before.events
