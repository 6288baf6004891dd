"""The carrier port: what Borderflow needs from any carrier, whatever its API looks like.

Every adapter guarantees:
- ``book`` is idempotent for one ``reference``: a repeat returns the same booking (by an
  ``Idempotency-Key`` where the carrier honours one, else by searching its bookings for the
  reference before creating);
- ``cancel`` is repeat-safe (cancelling a cancelled booking succeeds);
- a refusal (bad address, booking rejected, too late to cancel) is a non-retryable
  ``ApplicationError``; outages, 5xx, 429 (with its Retry-After) and timeouts are retryable;
- ``track`` returns canonical events through the carrier's dialect normalizer, so a poll and a
  webhook carrying the same scan produce the same ``event_id``;
- ``final_charges`` never guesses: ``None`` until the carrier's own figure is known.
"""

from datetime import datetime
from typing import Protocol

from canonical.billing import Charge
from canonical.booking import CarrierBooking
from canonical.documents import Document
from canonical.events import ShipmentEvent
from canonical.shipment import Shipment


class CarrierPort(Protocol):
    name: str
    webhook_partner: str
    """Whose webhooks carry this carrier's scans (the webhook route and dialect name): the
    carrier itself, or for a carrier reached through Karrio the vendor that pushes them."""

    async def book(
        self, reference: str, shipment: Shipment, *, idempotency_key: str
    ) -> CarrierBooking: ...

    async def cancel(self, booking: CarrierBooking) -> None: ...

    async def label(self, booking: CarrierBooking) -> Document: ...

    async def track(
        self, booking: CarrierBooking, *, received_at: datetime
    ) -> list[ShipmentEvent]: ...

    async def final_charges(self, booking: CarrierBooking) -> list[Charge] | None:
        """The carrier's settled charges, or ``None`` while it has not settled (or cannot say)."""
        ...

    async def aclose(self) -> None: ...
