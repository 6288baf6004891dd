"""Which shipment a partner's webhook may reach: a partner touches only its own shipments.

- Partners that are sent our shipment reference and echo it back (the customs broker, which
  files every shipment's declaration; the TMS) may name any shipment by its id.
- Every other partner is a carrier. It reaches a shipment only through a tracking number it
  issued (the link the booking step writes, ``store/tracking.py``). A tracking number that
  another carrier holds, or a shipment id whose tracking numbers are all another carrier's,
  is **refused**: the inbox keeps the payload as a dead letter at once, with the reason, and
  nothing is signalled.
- A reference nobody holds yet is **unknown**, not refused: the link may not be written yet,
  so delivery is retried until the inbox's grace period runs out.

:class:`PartnerScope` remembers the links it has read, in a bounded memory (least recently
used forgotten first, :data:`MAX_LINKS`), so a tracking number's later webhooks are routed
without reading the store. A link never changes once written (``store/tracking.py``), so only
what a link proves is answered from memory (this carrier's number belongs to that shipment;
this carrier holds a number of that shipment); a refusal or an unknown reference always
reads the store again, as a link written since may change it.
"""

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from sqlalchemy.engine import Engine

from canonical.dialects.normalized import PartnerReferences
from canonical.partners import pushing
from store.tracking import links_for_shipment, links_for_tracking


@cache
def reference_partners() -> frozenset[str]:
    """Partners trusted with our shipment ids (their webhook ``names_our_shipments``, in the
    registry); everyone else is scoped by tracking number."""
    return frozenset(p.name for p in pushing() if p.webhook and p.webhook.names_our_shipments)


@dataclass(frozen=True)
class Route:
    """Where a payload goes: a shipment, a refusal with its reason, or (neither) unknown."""

    shipment_id: str | None = None
    refused: str | None = None


UNKNOWN = Route()
MAX_LINKS = 50_000
"""Link facts remembered: some 200 bytes each, so at most about 10 MB."""


def route(store: Engine, partner: str, references: PartnerReferences) -> Route:
    """Resolve ``references`` for ``partner`` within what that partner may touch."""
    return PartnerScope(store).route(partner, references)


class PartnerScope:
    """:func:`route` with a bounded memory of the links read. Thread-safe: :meth:`route`
    reads the store (run it in a thread), :meth:`cached` never does."""

    def __init__(self, store: Engine, *, max_links: int = MAX_LINKS) -> None:
        if max_links < 1:
            raise ValueError("max_links must be at least 1")
        self._store = store
        self._max = max_links
        self._facts: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        """``("number", carrier, number)`` → shipment; ``("holds", carrier, shipment)`` → it."""
        self._lock = threading.Lock()

    def cached(self, partner: str, references: PartnerReferences) -> Route | None:
        """The route when the links remembered decide it, else ``None`` (ask :meth:`route`)."""
        named, number = references.shipment_id, references.tracking_number
        if partner in reference_partners():
            return Route(shipment_id=named) if named else None
        if number:
            owned = self._recall(("number", partner, number))
            return None if owned is None else _owned(partner, number, owned, named)
        if named and self._recall(("holds", partner, named)):
            return Route(shipment_id=named)
        return None

    def route(self, partner: str, references: PartnerReferences) -> Route:
        """Resolve ``references`` for ``partner`` within what that partner may touch."""
        named, number = references.shipment_id, references.tracking_number
        if partner in reference_partners():
            if named:
                return Route(shipment_id=named)
            owners = set(self._by_number(number).values()) if number else set()
            return Route(shipment_id=owners.pop()) if len(owners) == 1 else UNKNOWN
        if number:
            holders = self._by_number(number)
            if partner in holders:
                return _owned(partner, number, holders[partner], named)
            if holders:
                others = ", ".join(f"{c} ({s})" for c, s in sorted(holders.items()))
                return Route(refused=f"tracking number {number} is not {partner}'s: it is "
                                     f"linked to {others}")  # fmt: skip
        if named:
            carriers = set(links_for_shipment(self._store, named).values())
            self._remember((("holds", carrier, named), named) for carrier in carriers)
            if partner in carriers:
                return Route(shipment_id=named)
            if carriers:
                return Route(refused=f"{partner} holds no tracking number of {named} (its "
                                     f"carriers: {', '.join(sorted(carriers))})")  # fmt: skip
        return UNKNOWN

    def __len__(self) -> int:
        """Link facts remembered."""
        return len(self._facts)

    def _by_number(self, number: str) -> dict[str, str]:
        holders = links_for_tracking(self._store, number)
        self._remember((("number", c, number), s) for c, s in holders.items())
        return holders

    def _recall(self, fact: tuple[str, str, str]) -> str | None:
        with self._lock:
            found = self._facts.get(fact)
            if found is not None:
                self._facts.move_to_end(fact)
            return found

    def _remember(self, facts: Iterable[tuple[tuple[str, str, str], str]]) -> None:
        with self._lock:
            for fact, shipment_id in facts:
                self._facts[fact] = shipment_id
                self._facts.move_to_end(fact)
            while len(self._facts) > self._max:
                self._facts.popitem(last=False)


def _owned(partner: str, number: str, owned: str, named: str | None) -> Route:
    """The route of a payload naming ``partner``'s own tracking number ``number``."""
    if named and named != owned:
        return Route(refused=f"{partner} tracking number {number} belongs to {owned}, "
                             f"not to {named}")  # fmt: skip
    return Route(shipment_id=owned)
