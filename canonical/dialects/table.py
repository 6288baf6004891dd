"""Partner code tables: versioned data files, validated when loaded."""

import tomllib
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict

from canonical.milestones import Milestone


class DialectTable(BaseModel):
    """One partner's codes. An unlisted code maps to UNKNOWN: it is never dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    partner: str
    version: int
    codes: dict[str, Milestone]

    def milestone(self, code: str, detail: str | None = None) -> Milestone:
        if detail and f"{code}/{detail}" in self.codes:
            return self.codes[f"{code}/{detail}"]
        return self.codes.get(code, Milestone.UNKNOWN)


@cache
def load_table(partner: str) -> DialectTable:
    text = resources.files("canonical.dialects").joinpath(f"{partner}.toml").read_text("utf-8")
    return DialectTable.model_validate(tomllib.loads(text))
