"""The shipment policy: SLA deadlines per service level, the escalation ladder, lane carriers.

The policy is data (``workflows/sla_policy.toml`` or the file ``BORDERFLOW_SLA_POLICY`` names).
A shipment reads it once through an activity, so the policy it runs under is recorded in its
history: replays see the same deadlines, and editing the file changes new shipments only.
"""

import re
import tomllib
from collections.abc import Collection
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field, model_validator

from canonical.shipment import ServiceLevel

DEFAULT_POLICY_FILE = Path(__file__).with_name("sla_policy.toml")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")


def _duration(value: object) -> object:
    """``"2h"`` → 2 hours; anything else is left to pydantic (ISO 8601, seconds)."""
    if isinstance(value, str) and (match := DURATION.match(value)):
        return timedelta(seconds=float(match[1]) * UNITS[match[2]])
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class SlaTargets(BaseModel):
    """How long each stage may take, for one service level."""

    book: Duration
    pickup: Duration
    customs: Duration
    delivery_days: int = Field(ge=0)
    invoice: Duration


class Escalation(BaseModel):
    """The ladder every SLA clock climbs: warn → breach → escalated (grace) → critical."""

    warn_at: float = Field(gt=0, lt=1)
    grace: Duration
    critical: Duration


class ShipmentPolicy(BaseModel):
    """The policy one shipment runs under."""

    sla: SlaTargets
    escalation: Escalation
    charges_window: Duration
    carriers: list[str]
    """The carriers to try, in order: the one asked for first, then the lane's others; only
    those configured on the platform (each has its own task queue, which no worker would poll
    otherwise)."""
    unconfigured: list[str] = Field(default_factory=list)
    """Carriers asked for or listed for the lane that are not configured: never called, each
    a refusal on the timeline."""


class PolicyFile(BaseModel):
    service_levels: dict[ServiceLevel, SlaTargets]
    escalation: Escalation
    invoice: dict[str, Duration]
    lanes: dict[str, list[str]]

    @model_validator(mode="after")
    def _complete(self) -> "PolicyFile":
        missing = [level.value for level in ServiceLevel if level not in self.service_levels]
        if missing:
            raise ValueError(f"service_levels has no targets for {', '.join(missing)}")
        if "charges_window" not in self.invoice:
            raise ValueError("invoice.charges_window is missing")
        return self

    def for_shipment(
        self, service_level: ServiceLevel, lane: str, carrier: str,
        configured: Collection[str] | None = None,
    ) -> ShipmentPolicy:  # fmt: skip
        """The policy of one shipment; ``configured``: the carriers the platform has (``None``:
        every carrier named)."""
        lane_carriers = self.lanes.get(lane, self.lanes.get("default", []))
        named = [carrier, *(c for c in lane_carriers if c != carrier)]
        known = set(named if configured is None else configured)
        return ShipmentPolicy(
            unconfigured=[c for c in named if c not in known],
            sla=self.service_levels[service_level],
            escalation=self.escalation,
            charges_window=self.invoice["charges_window"],
            carriers=[c for c in named if c in known],
        )


def load_policy_file(path: Path = DEFAULT_POLICY_FILE) -> PolicyFile:
    """Read and validate a policy file (``ValueError`` naming what is wrong)."""
    with path.open("rb") as file:
        return PolicyFile.model_validate(tomllib.load(file))
