"""Customs declarations and their lifecycle.

Status moves only along these transitions (anything else is an error, not a silent overwrite):
DRAFT → SUBMITTED → ACCEPTED → UNDER_REVIEW → HELD(reason) ⇄ UNDER_REVIEW, and from
ACCEPTED / UNDER_REVIEW / HELD → RELEASED or REJECTED; any non-final status → CANCELLED.
RELEASED, REJECTED and CANCELLED are final.
"""

from enum import StrEnum
from typing import Self

from pydantic import Field, model_validator

from canonical.base import CanonicalModel
from canonical.codes import CountryCode, Mrn


class CustomsDirection(StrEnum):
    EXPORT = "export"
    IMPORT = "import"
    TRANSIT = "transit"
    ENS = "ens"
    """Entry Summary Declaration (EU safety and security pre-arrival filing)."""


class DeclarationStatus(StrEnum):
    DRAFT = "DRAFT"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    UNDER_REVIEW = "UNDER_REVIEW"
    HELD = "HELD"
    RELEASED = "RELEASED"
    REJECTED = "REJECTED"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self in FINAL_STATUSES


class HoldReason(StrEnum):
    CUSTOMS_DELAY = "customs_delay"
    CUSTOMS_DOCUMENTATION = "customs_documentation"
    CUSTOMS_DUTIES_UNPAID = "customs_duties_unpaid"
    CUSTOMS_PROHIBITED = "customs_prohibited"
    CUSTOMS_INSPECTION = "customs_inspection"


S = DeclarationStatus
FINAL_STATUSES = frozenset({S.RELEASED, S.REJECTED, S.CANCELLED})
TRANSITIONS: dict[DeclarationStatus, frozenset[DeclarationStatus]] = {
    S.DRAFT: frozenset({S.SUBMITTED, S.CANCELLED}),
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REJECTED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.UNDER_REVIEW, S.HELD, S.RELEASED, S.REJECTED, S.CANCELLED}),
    S.UNDER_REVIEW: frozenset({S.HELD, S.RELEASED, S.REJECTED, S.CANCELLED}),
    S.HELD: frozenset({S.UNDER_REVIEW, S.RELEASED, S.REJECTED, S.CANCELLED}),
    S.RELEASED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
}
NEEDS_MRN = frozenset({S.ACCEPTED, S.UNDER_REVIEW, S.HELD, S.RELEASED})


class CustomsDeclaration(CanonicalModel):
    """One filing with one customs office, identified by our LRN and (once accepted) the MRN."""

    direction: CustomsDirection
    country: CountryCode
    """Where it is filed: the origin for exports, the destination for imports."""
    lrn: str = Field(min_length=1, max_length=22)
    """Local Reference Number: ours, unique per filing."""
    mrn: Mrn | None = None
    status: DeclarationStatus = DeclarationStatus.DRAFT
    hold_reason: HoldReason | None = None
    broker_reference: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.status is S.HELD) != (self.hold_reason is not None):
            raise ValueError("a hold reason is given exactly when the status is HELD")
        if self.status in NEEDS_MRN and self.mrn is None:
            raise ValueError(f"a {self.status} declaration has an MRN")
        return self

    def moved_to(
        self,
        status: DeclarationStatus,
        *,
        mrn: str | None = None,
        hold_reason: HoldReason | None = None,
    ) -> "CustomsDeclaration":
        """The declaration in ``status``; raises ``ValueError`` for a move the lifecycle forbids."""
        if status not in TRANSITIONS[self.status]:
            raise ValueError(f"a declaration cannot go from {self.status} to {status}")
        return CustomsDeclaration.model_validate(
            {**self.model_dump(), "status": status, "mrn": mrn or self.mrn,
             "hold_reason": hold_reason}
        )  # fmt: skip
