"""The bounded memory of events signalled to each shipment (``api/delivered_events.py``)."""

import pytest

from api.delivered_events import MAX_IDS, MAX_IDS_PER_SHIPMENT, MAX_SHIPMENTS, DeliveredEvents
from canonical.dialects.normalized import MAX_EVENTS


def test_only_events_never_signalled_to_the_shipment_are_unsent() -> None:
    memory = DeliveredEvents()
    assert memory.unsent("s1", ["a", "b", "a"]) == ["a", "b"]  # nothing is remembered yet
    memory.signalled("s1", ["a"])
    assert memory.unsent("s1", ["a", "b", "c"]) == ["b", "c"]
    assert memory.unsent("s2", ["a"]) == ["a"]  # another shipment's events are its own
    assert memory.ids_of("s1") == 1 and memory.ids_of("s2") == 0 and len(memory) == 1


def test_the_least_recently_used_shipment_is_forgotten_first() -> None:
    memory = DeliveredEvents(max_shipments=2)
    memory.signalled("s1", ["a"])
    memory.signalled("s2", ["b"])
    memory.unsent("s1", ["x"])  # asking about s1 uses it: s2 is now the oldest
    memory.signalled("s3", ["c"])
    assert len(memory) == 2
    assert memory.unsent("s2", ["b"]) == ["b"]  # forgotten: sent again, never lost
    assert memory.unsent("s1", ["a"]) == [] and memory.unsent("s3", ["c"]) == []


def test_a_shipment_keeps_its_most_recent_ids_within_its_bound() -> None:
    memory = DeliveredEvents(max_ids_per_shipment=3)
    memory.signalled("s1", ["a", "b", "c"])
    memory.signalled("s1", ["a"])  # signalled again: the newest
    memory.signalled("s1", ["d"])
    assert memory.ids_of("s1") == 3 and memory.ids == 3
    assert memory.unsent("s1", ["a", "b", "c", "d"]) == ["b"]


def test_the_total_of_ids_is_bounded_by_forgetting_whole_shipments() -> None:
    memory = DeliveredEvents(max_ids=5)
    memory.signalled("s1", ["a", "b"])
    memory.signalled("s2", ["c", "d"])
    memory.signalled("s3", ["e", "f"])  # 6 > 5: s1, the least recently used, goes
    assert memory.ids == 4 and len(memory) == 2
    assert memory.unsent("s1", ["a"]) == ["a"]
    assert memory.unsent("s2", ["c", "d"]) == [] and memory.unsent("s3", ["e", "f"]) == []


def test_filling_it_far_past_its_bounds_keeps_it_within_them() -> None:
    memory = DeliveredEvents(max_shipments=50, max_ids_per_shipment=20, max_ids=600)
    for shipment in range(200):
        memory.signalled(f"s{shipment}", [f"e{shipment}-{i}" for i in range(30)])
        assert len(memory) <= 50 and memory.ids <= 600
    assert memory.ids_of("s199") == 20 and memory.ids == 600 and len(memory) == 30


def test_the_default_bounds_hold_a_shipment_with_a_full_payload_and_bad_ones_are_refused() -> None:
    memory = DeliveredEvents()
    memory.signalled("s1", [f"e{i}" for i in range(MAX_EVENTS)])
    assert memory.ids_of("s1") == MAX_EVENTS <= MAX_IDS_PER_SHIPMENT
    assert MAX_IDS_PER_SHIPMENT <= MAX_IDS and MAX_SHIPMENTS >= 1
    with pytest.raises(ValueError, match="at least 1"):
        DeliveredEvents(max_ids=0)
