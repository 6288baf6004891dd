"""The payload converter shares one type-adapter cache per process (``workflows/converter.py``):
the worker makes a converter per workflow run and copies it per serialization context, and
neither may start a cache of its own (each cost a cached shipment ~55 KB)."""

import copy
from datetime import UTC, datetime
from decimal import Decimal

from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter

from canonical.money import Money
from workflows.converter import SharedPydanticPayloadConverter
from workflows.models import ShipmentStatus
from workflows.sla_clock import Clock, SlaClock


def _json(converter: SharedPydanticPayloadConverter) -> PydanticJSONPlainPayloadConverter:
    [found] = [c for c in converter.converters.values()
               if isinstance(c, PydanticJSONPlainPayloadConverter)]  # fmt: skip
    return found


def test_every_instance_and_copy_reads_one_cache() -> None:
    first, second = SharedPydanticPayloadConverter(), SharedPydanticPayloadConverter()
    copied = copy.copy(_json(first))
    assert _json(first)._type_adapter is _json(second)._type_adapter is copied._type_adapter
    clock = SlaClock(clock=Clock.BOOK, started_at=datetime(2026, 12, 1, tzinfo=UTC),
                     deadline=datetime(2026, 12, 2, tzinfo=UTC))  # fmt: skip
    payloads = first.to_payloads([clock, Money(amount=Decimal("1.50"), currency="EUR")])
    before = _json(first)._type_adapter.cache_info().currsize
    assert second.from_payloads(payloads, [SlaClock, Money]) == [
        clock,
        Money(amount=Decimal("1.50"), currency="EUR"),
    ]
    assert copied.from_payload(payloads[0], SlaClock) == clock
    assert _json(first)._type_adapter.cache_info().currsize <= before + 2  # no cache per copy
    assert first.from_payloads(payloads[:1], [ShipmentStatus | SlaClock]) == [clock]
