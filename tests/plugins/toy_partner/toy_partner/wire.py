"""Toy Post's wire models: its booking and its tracking event, as its API sends them."""

from decimal import Decimal

from pydantic import AwareDatetime, BaseModel


class ToyCharge(BaseModel):
    amount: Decimal
    currency: str


class ToyBooking(BaseModel):
    id: str
    reference: str
    tracking_number: str
    status: str
    label_url: str
    charge: ToyCharge


class ToyEvent(BaseModel):
    """One scan; a webhook is ``{"event": ToyEvent}``, a poll ``{"events": [ToyEvent, …]}``."""

    id: str
    booking_id: str
    tracking_number: str
    status: str
    at: AwareDatetime
    signed_by: str | None = None
