"""Customs broker ``declaration.status_changed`` webhooks → canonical milestones.

The broker echoes our declaration ``reference`` (the shipment id), which routes the event.
"""

from pydantic import AwareDatetime, BaseModel, ConfigDict

from canonical.dialects.normalized import NormalizedWebhook
from canonical.dialects.table import load_table
from canonical.milestones import MilestoneEvent

PARTNER = "broker"


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Declaration(_Wire):
    id: str
    reference: str
    lrn: str | None = None
    mrn: str | None = None
    status: str
    hold_reason: str | None = None


class StatusChanged(_Wire):
    event_id: str
    type: str
    occurred_at: AwareDatetime
    declaration: Declaration


def normalize(body: bytes) -> NormalizedWebhook:
    """Raises ``pydantic.ValidationError`` for a body that is not a broker status webhook."""
    event = StatusChanged.model_validate_json(body)
    if event.type != "declaration.status_changed":
        return NormalizedWebhook(events=[])
    declaration = event.declaration
    details = [f"declaration {declaration.id}"]
    if declaration.mrn:
        details.append(f"MRN {declaration.mrn}")
    if declaration.hold_reason:
        details.append(f"held: {declaration.hold_reason}")
    canonical = MilestoneEvent(
        milestone=load_table(PARTNER).milestone(declaration.status),
        occurred_at=event.occurred_at,
        partner=PARTNER,
        partner_event_id=event.event_id,
        raw_code=declaration.status,
        description=", ".join(details),
    )
    return NormalizedWebhook(events=[canonical], shipment_id=declaration.reference)
