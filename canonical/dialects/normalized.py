"""What a normalizer returns: canonical events and the references that route them."""

from pydantic import BaseModel, Field

from canonical.events import ShipmentEvent

MAX_EVENTS = 1000
"""The most events one payload may carry. Partners resend a tracker's whole history with every
update (EasyPost, AfterShip); a real history has tens of events, a few hundred for a long
multi-leg journey. A payload with more is refused as malformed (kept as a dead letter), never
cut short: each event becomes a signal in the shipment's history."""


class PartnerReferences(BaseModel):
    """The identifiers a payload names; the ingress routes by the first one it knows."""

    shipment_id: str | None = None
    """Our own reference, echoed back (broker, TMS)."""
    tracking_number: str | None = None
    booking_reference: str | None = None
    transport_document: str | None = None


class NormalizedWebhook(BaseModel):
    """One partner payload in canonical form.

    ``dedupe_key`` identifies the payload itself (the webhook delivery: EasyPost Event.id,
    AfterShip event_id, …, else a hash of the body) for the inbox; each event has its own.
    ``events`` are oldest first; an empty list means the payload carries no shipment event.
    ``current_event_id`` names the event of ``events`` that is the vendor's own current status
    (EasyPost ``status``, AfterShip ``tag``, Shippo ``tracking_status``, DCSA by classifier and
    time; it is also the last event): the shipment follows it whatever the times say. None when
    the vendor has no current-status field, or none of its events matches it.
    """

    partner: str
    dedupe_key: str
    events: list[ShipmentEvent] = Field(max_length=MAX_EVENTS)
    references: PartnerReferences
    current_event_id: str | None = None
