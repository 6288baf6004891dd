"""A carrier's confirmation that it will move the shipment."""

from pydantic import AwareDatetime, Field

from canonical.base import CanonicalModel
from canonical.billing import Charge
from canonical.documents import Document


class CarrierBooking(CanonicalModel):
    carrier: str = Field(min_length=1)
    service: str | None = None
    booking_reference: str = Field(min_length=1)
    """The carrier's id of the booking (EasyPost shipment id, DHL tracking number, …)."""
    tracking_numbers: list[str] = Field(min_length=1)
    label: Document | None = None
    charges: list[Charge] = Field(default_factory=list)
    booked_at: AwareDatetime | None = None

    @property
    def tracking_number(self) -> str:
        """The master tracking number."""
        return self.tracking_numbers[0]
