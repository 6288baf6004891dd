"""What a normalizer returns: canonical events and how to find their shipment."""

from pydantic import BaseModel

from canonical.milestones import MilestoneEvent


class NormalizedWebhook(BaseModel):
    """Canonical events of one webhook, oldest first, and the key that routes them.

    Exactly one of ``shipment_id`` (the partner echoes our reference) and ``tracking_number``
    (a carrier, routed through the tracking links) is set when ``events`` is not empty.
    """

    events: list[MilestoneEvent]
    shipment_id: str | None = None
    tracking_number: str | None = None
