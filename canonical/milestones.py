"""Milestones: the closed vocabulary every partner event is translated into."""

from enum import StrEnum

from pydantic import Field

from canonical.base import CanonicalModel


class Milestone(StrEnum):
    """Canonical shipment milestones. Closed: an unmapped partner code becomes UNKNOWN."""

    ORDER_ACCEPTED = "ORDER_ACCEPTED"
    BOOKING_CONFIRMED = "BOOKING_CONFIRMED"
    BOOKING_REJECTED = "BOOKING_REJECTED"
    LABEL_CREATED = "LABEL_CREATED"
    PICKED_UP = "PICKED_UP"
    DEPARTED = "DEPARTED"
    ARRIVED = "ARRIVED"
    IN_TRANSIT = "IN_TRANSIT"
    CUSTOMS_SUBMITTED = "CUSTOMS_SUBMITTED"
    CUSTOMS_ACCEPTED = "CUSTOMS_ACCEPTED"
    CUSTOMS_HELD = "CUSTOMS_HELD"
    CUSTOMS_RELEASED = "CUSTOMS_RELEASED"
    CUSTOMS_REJECTED = "CUSTOMS_REJECTED"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    AVAILABLE_FOR_PICKUP = "AVAILABLE_FOR_PICKUP"
    DELIVERY_ATTEMPTED = "DELIVERY_ATTEMPTED"
    DELIVERED = "DELIVERED"
    POD_RECEIVED = "POD_RECEIVED"
    EXCEPTION = "EXCEPTION"
    RETURN_TO_SENDER = "RETURN_TO_SENDER"
    CANCELLED = "CANCELLED"
    INVOICE_POSTED = "INVOICE_POSTED"
    UNKNOWN = "UNKNOWN"


class ProofOfDelivery(CanonicalModel):
    """Evidence that the consignee received the goods."""

    signed_by: str | None = Field(default=None, min_length=1, max_length=200)
    """Who signed; ``None``: delivered without a signature (the carrier said so, e.g.
    "Signature not required", or it sent only a proof document)."""
    document_uri: str | None = Field(default=None, max_length=2048)
