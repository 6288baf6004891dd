"""Helpers shared by the ``test_dialect_<partner>.py`` modules (no tests of its own).

Each module binds the partner-specific ones once: ``dialect = Dialect(PARTNER)``.
"""

import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from canonical.dialects import TABLES, DialectTable, MalformedPayload, NormalizedWebhook, normalize
from canonical.events import ShipmentEvent
from canonical.milestones import Milestone

FIXTURES = Path(__file__).parent.parent / "fixtures"
RECEIVED_AT = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
DELETE = object()
"""A ``mutate`` value that removes the field."""

Path_ = tuple[str | int, ...]


def fixture_bytes(partner: str, name: str) -> bytes:
    return (FIXTURES / partner / name).read_bytes()


def body(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


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


def split(key: str) -> tuple[str, str | None]:
    code, _, sub_code = key.partition("/")
    return code, sub_code or None


def event_ids(webhook: NormalizedWebhook) -> list[str]:
    return [event.event_id for event in webhook.events]


def assert_oldest_first(webhook: NormalizedWebhook) -> None:
    times = [event.occurred_at for event in webhook.events]
    assert times == sorted(times)


@dataclass(frozen=True)
class Dialect:
    """The helpers that concern one partner, bound to it."""

    partner: str

    @property
    def table(self) -> DialectTable:
        return TABLES[self.partner]

    def table_keys(self) -> list[str]:
        return sorted(self.table.codes)

    def fixture_bytes(self, name: str) -> bytes:
        return fixture_bytes(self.partner, name)

    def fixture(self, name: str) -> Any:
        return json.loads(self.fixture_bytes(name))

    def run(self, payload: Any) -> NormalizedWebhook:
        return normalize(self.partner, body(payload), received_at=RECEIVED_AT)

    def refused(self, payload: Any) -> MalformedPayload:
        with pytest.raises(MalformedPayload) as caught:
            self.run(payload)
        error = caught.value
        assert "\n" not in str(error)
        assert str(error).startswith(f"{self.partner} payload: ")
        return error

    def assert_common(self, webhook: NormalizedWebhook) -> None:
        """What every normalized payload guarantees, whatever the partner."""
        assert webhook.partner == self.partner
        for event in webhook.events:
            assert event.source.partner == self.partner
            assert event.recorded_at == RECEIVED_AT
            assert event.occurred_at.utcoffset() is not None
            assert event.shipment_id is None

    def assert_stable(self, payload: Any) -> NormalizedWebhook:
        """Two normalizations of the same bytes agree on every id."""
        first, second = self.run(payload), self.run(payload)
        assert first.dedupe_key == second.dedupe_key
        assert event_ids(first) == event_ids(second)
        assert [e.dedupe_key for e in first.events] == [e.dedupe_key for e in second.events]
        assert len(set(event_ids(first))) == len(first.events)
        return first

    def assert_redelivery_keeps_ids(self, shorter: Any, longer: Any) -> None:
        """A payload with one more history entry keeps the ids of the events already seen."""
        before, after = self.run(shorter), self.run(longer)
        assert len(after.events) == len(before.events) + 1
        assert set(event_ids(before)) < set(event_ids(after))
        kept = [event for event in after.events if event.event_id in set(event_ids(before))]
        assert kept == before.events

    def only_event(self, payload: Any) -> ShipmentEvent:
        """The one event of a payload that carries exactly one."""
        (event,) = self.run(payload).events
        return event

    def assert_mapped(self, payload: Any, key: str) -> ShipmentEvent:
        """The payload's one event has the milestone the partner's table gives ``key``."""
        event = self.only_event(payload)
        assert event.milestone is self.table.codes[key]
        return event

    def assert_unknown(self, payload: Any) -> ShipmentEvent:
        """The payload's one event is UNKNOWN and its raw code counts as unmapped."""
        event = self.only_event(payload)
        assert event.milestone is Milestone.UNKNOWN
        assert not self.table.maps(event.source.raw_code)  # counted as unmapped
        return event
