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
"""

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from canonical.dialects.normalized import PartnerReferences
from store.tracking import links_for_shipment, links_for_tracking

REFERENCE_PARTNERS = frozenset({"broker", "tms"})
"""Partners trusted with our shipment ids; everyone else is scoped by tracking number."""


@dataclass(frozen=True)
class Route:
    """Where a payload goes: a shipment, a refusal with its reason, or (neither) unknown."""

    shipment_id: str | None = None
    refused: str | None = None


UNKNOWN = Route()


def route(store: Engine, partner: str, references: PartnerReferences) -> Route:
    """Resolve ``references`` for ``partner`` within what that partner may touch."""
    named, number = references.shipment_id, references.tracking_number
    if partner in REFERENCE_PARTNERS:
        if named:
            return Route(shipment_id=named)
        owners = set(links_for_tracking(store, number).values()) if number else set()
        return Route(shipment_id=owners.pop()) if len(owners) == 1 else UNKNOWN
    if number:
        holders = links_for_tracking(store, number)
        if partner in holders:
            owned = holders[partner]
            if named and named != owned:
                return Route(refused=f"{partner} tracking number {number} belongs to {owned}, "
                                     f"not to {named}")  # fmt: skip
            return Route(shipment_id=owned)
        if holders:
            others = ", ".join(f"{c} ({s})" for c, s in sorted(holders.items()))
            return Route(refused=f"tracking number {number} is not {partner}'s: it is linked to "
                                 f"{others}")  # fmt: skip
    if named:
        issued = links_for_shipment(store, named)
        if partner in issued.values():
            return Route(shipment_id=named)
        if issued:
            return Route(refused=f"{partner} holds no tracking number of {named} (its carriers: "
                                 f"{', '.join(sorted(set(issued.values())))})")  # fmt: skip
    return UNKNOWN
