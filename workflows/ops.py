"""Ops actions on a running shipment: the inputs of its workflow updates.

Each action is a Temporal update with a validator. The validator refuses, before anything is
written to history, an action the shipment's state does not allow (error type
``NotAllowedNow``: the API answers 409) or an input that cannot be right (``InvalidUpdate``:
422). An accepted update returns the new ``ShipmentStatus``. The rules are the ``check_*``
functions below: pure, so a reader finds every refusal in one place.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field
from temporalio.exceptions import ApplicationError

from canonical.codes import CarrierName, Rfc3339
from canonical.customs import DeclarationStatus
from canonical.events import ShipmentEvent
from canonical.milestones import Milestone
from canonical.parties import Party
from canonical.shipment import ServiceLevel, Stage

if TYPE_CHECKING:
    from workflows.customs import Declaration
    from workflows.progress import Progress
    from workflows.state import ShipmentState

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

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"not": {"type": "null"}}}}
                for name in AMENDABLE
            ]
        }
    )

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


# -- the rules the validators apply (pure: state in, refusal out) ------------------------------


def refuse(message: str, type: str = NOT_ALLOWED_NOW) -> ApplicationError:
    """A refusal the API maps to 409 (``NotAllowedNow``) or 422 (``InvalidUpdate``)."""
    return ApplicationError(message, type=type, non_retryable=True)


def check_open(state: ShipmentState) -> None:
    if state.stage.is_final:
        raise refuse(f"the shipment is {state.stage.value}: nothing can change it now")


def check_carrier(state: ShipmentState, carrier: str | None) -> None:
    if carrier is not None and state.policy is not None and carrier not in state.policy.carriers:
        known = ", ".join(state.policy.carriers) or "none configured"
        if carrier in state.policy.unconfigured:
            raise refuse(f"{carrier} is not configured here (carriers: {known})", INVALID_UPDATE)
        raise refuse(f"{carrier} does not serve this lane (carriers: {known})", INVALID_UPDATE)


def check_amend(
    state: ShipmentState, progress: Progress, input: AmendInput, now: datetime, booking: bool
) -> None:
    """``booking``: a carrier booking is under way."""
    check_open(state)
    if input.promised_date is None and input.consignee is None and input.service_level is None:
        raise refuse(
            "nothing to amend: give a promised date, consignee or service level", INVALID_UPDATE
        )
    if input.promised_date is not None:
        if input.promised_date.tzinfo is None:
            raise refuse("the promised date needs a time zone", INVALID_UPDATE)
        if input.promised_date <= now:
            raise refuse("the promised date is in the past", INVALID_UPDATE)
        if progress.delivered_at is not None:
            raise refuse("the shipment is delivered: its promised date is history")
    if input.consignee is not None or input.service_level is not None:
        if state.shipment is None:
            raise refuse("the order is still being accepted: amend it once accepted")
        if state.booking is not None or booking:
            raise refuse(
                "the carrier is booked: consignee and service level are fixed "
                "(re-book or cancel instead)"
            )


def check_cancel(state: ShipmentState, progress: Progress) -> None:
    check_open(state)
    if state.cancel is not None:
        raise refuse("a cancellation is already under way")
    if progress.delivered_at is not None or state.stage in (Stage.INVOICE, Stage.INVOICED):
        raise refuse("the shipment is delivered: it can no longer be cancelled")


def check_rebook(
    state: ShipmentState, progress: Progress, input: RebookInput, booking: bool
) -> None:
    check_open(state)
    if state.booking is None or booking or state.cancel is not None:
        raise refuse("there is no settled booking to replace right now")
    if progress.has_reached(Milestone.PICKED_UP):
        raise refuse("the carrier has picked the goods up: too late to re-book")
    check_carrier(state, input.carrier)


def check_resolve(state: ShipmentState, input: ResolveInput) -> None:
    check_open(state)
    if input.kind is ResolutionKind.EXCEPTION:
        if state.stage is not Stage.EXCEPTION:
            raise refuse(f"the shipment is not in exception (stage {state.stage.value})")
        check_carrier(state, input.carrier)
    elif held(state) is None:
        raise refuse("no customs declaration is on hold")


def check_milestone(state: ShipmentState, input: ManualMilestoneInput) -> None:
    check_open(state)
    if input.event.source.partner != "ops":
        raise refuse("a manual milestone comes from partner 'ops'", INVALID_UPDATE)
    if input.event.milestone is Milestone.UNKNOWN:
        raise refuse("UNKNOWN is not a milestone ops can record", INVALID_UPDATE)


def held(state: ShipmentState) -> Declaration | None:
    """The declaration on hold, if any."""
    return next((d for d in state.declarations if d.current.status is DeclarationStatus.HELD), None)
