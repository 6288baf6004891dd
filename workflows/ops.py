"""Ops actions on a running shipment: the inputs of its workflow updates.

Each action is a Temporal update with a validator. The validator refuses, before anything is
written to history, an action the shipment's state does not allow (error type
``NotAllowedNow``: the API answers 409) or an input that cannot be right (``InvalidUpdate``:
422). An accepted update returns the new ``ShipmentStatus``.
"""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from canonical.codes import CarrierName, Rfc3339
from canonical.events import ShipmentEvent
from canonical.parties import Party
from canonical.shipment import ServiceLevel

NOT_ALLOWED_NOW = "NotAllowedNow"
"""Error type of an update the shipment's current state refuses (HTTP 409)."""
INVALID_UPDATE = "InvalidUpdate"
"""Error type of an update whose input is wrong whatever the state (HTTP 422)."""
ORDER_REJECTED = "OrderRejected"
"""Error type of the ``accept`` update when the order cannot ship (HTTP 422)."""


class Actor(BaseModel):
    """Who asked: the API token and its role (kept on the shipment's log and the audit trail)."""

    token_id: str | None = None
    role: str = "ops"


AMENDABLE = ("consignee", "promised_date", "service_level")
"""What an amendment may change; it names at least one (the JSON schema says so too)."""


class AmendInput(BaseModel):
    """Change what may still change. At least one of the three fields is given."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [
        {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
        for name in AMENDABLE
    ]})  # fmt: skip

    consignee: Party | None = None
    """Only before the carrier is booked."""
    promised_date: Rfc3339 | None = None
    """Until delivered; moves the delivery SLA deadline."""
    service_level: ServiceLevel | None = None
    """Only before the carrier is booked; resets the SLA policy."""
    reason: str = Field(min_length=1, max_length=500)
    actor: Actor = Field(default_factory=Actor)


class CancelInput(BaseModel):
    """Cancel the shipment (allowed until delivered); undoes what was done, in reverse."""

    reason: str = Field(min_length=1, max_length=500)
    actor: Actor = Field(default_factory=Actor)


class RebookInput(BaseModel):
    """Book again: cancel the current carrier booking, then book ``carrier`` (or the next one)."""

    carrier: CarrierName | None = None
    reason: str = Field(min_length=1, max_length=500)
    actor: Actor = Field(default_factory=Actor)


class ResolutionKind(StrEnum):
    EXCEPTION = "exception"
    """The shipment is in EXCEPTION (every carrier refused): book ``carrier`` and go on."""
    CUSTOMS_HOLD = "customs_hold"
    """A declaration is HELD: ops supplied what customs asked; back to review."""


class ResolveInput(BaseModel):
    kind: ResolutionKind
    note: str = Field(min_length=1, max_length=1000)
    carrier: CarrierName | None = None
    """For an EXCEPTION: the carrier to book (default: the lane's first one)."""
    actor: Actor = Field(default_factory=Actor)


class ManualMilestoneInput(BaseModel):
    """A milestone recorded by ops, as a canonical event with partner ``ops``."""

    event: ShipmentEvent
    actor: Actor = Field(default_factory=Actor)
