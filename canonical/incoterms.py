"""Incoterms 2020: who pays for and clears what."""

from enum import StrEnum

from pydantic import Field

from canonical.base import CanonicalModel


class Incoterm(StrEnum):
    EXW = "EXW"
    FCA = "FCA"
    CPT = "CPT"
    CIP = "CIP"
    DAP = "DAP"
    DPU = "DPU"
    DDP = "DDP"
    FAS = "FAS"
    FOB = "FOB"
    CFR = "CFR"
    CIF = "CIF"

    @property
    def buyer_clears_export(self) -> bool:
        """Only under EXW does the buyer handle export clearance."""
        return self is Incoterm.EXW

    @property
    def seller_clears_import(self) -> bool:
        """Only under DDP does the seller handle (and pay) import clearance and duties."""
        return self is Incoterm.DDP


class IncotermPlace(CanonicalModel):
    """An Incoterm with its named place, e.g. ``DAP Boston``."""

    code: Incoterm
    place: str | None = Field(default=None, min_length=1)
