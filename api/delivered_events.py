"""A bounded memory of the events this API process has signalled to each shipment.

Carriers send cumulative webhooks: the Nth EasyPost ``tracker.updated`` repeats the N-1 scans
sent before. The inbox delivery (``api/inbox_delivery.py``) asks this memory which events of a
payload are new to its shipment and signals only those; it records events here only once the
signal that carried them succeeded.

Guarantees:
- bounded: at most :data:`MAX_SHIPMENTS` shipments, :data:`MAX_IDS_PER_SHIPMENT` event ids per
  shipment (its oldest are forgotten first) and :data:`MAX_IDS` ids in all (the least recently
  used shipments are forgotten first, whole);
- never authoritative: the workflow records each ``event_id`` once, whoever sends it how often.
  Forgetting (a cold start, an eviction, another API replica that delivered the earlier
  webhooks) only makes a signal carry events the shipment has already: it never loses an event
  nor records one twice. An id is remembered only once a signal carrying it succeeded;
- one process, one event loop, no locks: two concurrent deliveries to one shipment may both
  send an event, and the workflow keeps it once.
"""

from collections import OrderedDict
from collections.abc import Iterable

MAX_SHIPMENTS = 10_000
"""Shipments remembered: those with webhooks in the last hours of a busy API."""
MAX_IDS_PER_SHIPMENT = 1_000
"""Event ids remembered per shipment: one whole payload (``MAX_EVENTS``); real histories have
tens, a long multi-leg journey a few hundred."""
MAX_IDS = 500_000
"""Event ids remembered in all: some 130 bytes each (a 36-character id and its slot), so at
most about 65 MB, whatever the partners send."""


class DeliveredEvents:
    """Which event ids were signalled to which shipment; shipments least recently used first,
    each shipment's ids oldest first."""

    def __init__(
        self,
        *,
        max_shipments: int = MAX_SHIPMENTS,
        max_ids_per_shipment: int = MAX_IDS_PER_SHIPMENT,
        max_ids: int = MAX_IDS,
    ) -> None:
        if min(max_shipments, max_ids_per_shipment, max_ids) < 1:
            raise ValueError("every bound must be at least 1")
        self._max_shipments = max_shipments
        self._max_per_shipment = max_ids_per_shipment
        self._max_ids = max_ids
        self._shipments: OrderedDict[str, dict[str, None]] = OrderedDict()
        self._ids = 0

    def unsent(self, shipment_id: str, event_ids: Iterable[str]) -> list[str]:
        """Those of ``event_ids`` not known to have been signalled to ``shipment_id``, in
        their order, each once."""
        known = self._shipments.get(shipment_id)
        if known is None:
            return list(dict.fromkeys(event_ids))
        self._shipments.move_to_end(shipment_id)
        return [event_id for event_id in dict.fromkeys(event_ids) if event_id not in known]

    def signalled(self, shipment_id: str, event_ids: Iterable[str]) -> None:
        """Remember that a signal carrying ``event_ids`` to ``shipment_id`` succeeded."""
        known = self._shipments.pop(shipment_id, None)
        if known is None:
            known = {}
        self._shipments[shipment_id] = known  # the most recently used
        self._ids -= len(known)
        for event_id in event_ids:
            known.pop(event_id, None)  # a repeat counts as the newest
            known[event_id] = None
        while len(known) > self._max_per_shipment:
            del known[next(iter(known))]
        self._ids += len(known)
        while len(self._shipments) > self._max_shipments or self._ids > self._max_ids:
            _, forgotten = self._shipments.popitem(last=False)
            self._ids -= len(forgotten)

    def __len__(self) -> int:
        """Shipments remembered."""
        return len(self._shipments)

    @property
    def ids(self) -> int:
        """Event ids remembered, in all."""
        return self._ids

    def ids_of(self, shipment_id: str) -> int:
        """Event ids remembered for ``shipment_id`` (0 when forgotten or unknown)."""
        return len(self._shipments.get(shipment_id, ()))
