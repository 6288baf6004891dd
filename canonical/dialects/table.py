"""Partner code tables: versioned TOML data files, validated with pydantic when loaded.

One file per partner (``<partner>.toml``) with ``partner``, ``version``, the ``sources`` the
codes were taken from, and a ``[codes]`` table of partner code → :class:`Milestone` name. A
composite key ``"status/sub_status"`` wins over the plain ``"status"`` key. A code the table does
not list maps to ``Milestone.UNKNOWN``: it is never dropped, and :meth:`DialectTable.is_mapped`
lets callers count such codes.

Loading fails loudly (:class:`DialectTableError`) on a milestone name that does not exist, a
malformed key, an unknown field, or a ``partner`` that does not match the file name.
"""

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from canonical.milestones import Milestone

ModelT = TypeVar("ModelT", bound=BaseModel)

SEPARATOR = "/"


class DialectTableError(ValueError):
    """A table file that cannot be used: raised at import time, never at run time."""


@dataclass(frozen=True)
class Resolution:
    """What a table says about one partner code."""

    milestone: Milestone
    raw_code: str
    """``"status/sub_status"`` when the partner gave a sub-status, else ``"status"``."""
    mapped: bool
    """False when neither the composite nor the plain key is in the table (→ UNKNOWN)."""


class DialectTable(BaseModel):
    """One partner's codes → milestones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    partner: str = Field(min_length=1)
    version: int = Field(ge=1)
    sources: tuple[str, ...] = ()
    """Where the codes come from (the partner's public documentation)."""
    codes: dict[str, Milestone]

    @field_validator("codes")
    @classmethod
    def _keys_are_codes(cls, codes: dict[str, Milestone]) -> dict[str, Milestone]:
        if not codes:
            raise ValueError("a table maps at least one code")
        for key in codes:
            parts = key.split(SEPARATOR)
            if len(parts) > 2 or any(not part or part != part.strip() for part in parts):
                raise ValueError(f"{key!r} is not 'code' or 'code{SEPARATOR}sub_code'")
        return codes

    @property
    def mapped_codes(self) -> frozenset[str]:
        """Every key the table maps (plain and composite)."""
        return frozenset(self.codes)

    def resolve(self, code: str | None, sub_code: str | None = None) -> Resolution:
        """The milestone of ``code`` (and ``sub_code``): composite key, then plain, else UNKNOWN."""
        code = code or ""
        raw_code = f"{code}{SEPARATOR}{sub_code}" if sub_code else code
        if sub_code and raw_code in self.codes:
            return Resolution(self.codes[raw_code], raw_code, True)
        if code in self.codes:
            return Resolution(self.codes[code], raw_code, True)
        return Resolution(Milestone.UNKNOWN, raw_code, False)

    def milestone(self, code: str | None, sub_code: str | None = None) -> Milestone:
        return self.resolve(code, sub_code).milestone

    def is_mapped(self, code: str | None, sub_code: str | None = None) -> bool:
        return self.resolve(code, sub_code).mapped

    def maps(self, raw_code: str | None) -> bool:
        """Whether an event's ``source.raw_code`` resolves to a table entry (for counting the
        unmapped codes a partner sends)."""
        code, _, sub_code = (raw_code or "").partition(SEPARATOR)
        return self.is_mapped(code, sub_code or None)


def parse_toml(text: str, name: str, model: type[ModelT], error: type[Exception]) -> ModelT:
    """The TOML ``text`` of the data file ``<name>.toml`` as ``model``; ``error`` naming the
    file and the first offending field otherwise."""
    try:
        return model.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as err:
        raise error(f"{name}.toml: not TOML: {err}") from err
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise error(f"{name}.toml: {where}: {first['msg']}") from err


def parse_table(text: str, name: str) -> DialectTable:
    """Validate the TOML ``text`` of the table file for partner ``name``."""
    table = parse_toml(text, name, DialectTable, DialectTableError)
    if table.partner != name:
        raise DialectTableError(f"{name}.toml: partner is {table.partner!r}, expected {name!r}")
    return table


def table_names() -> tuple[str, ...]:
    """The partner names of every table file shipped in this package."""
    files = resources.files("canonical.dialects").iterdir()
    return tuple(sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml")))


@cache
def load_table(partner: str) -> DialectTable:
    """The validated table of ``partner`` (read once per process)."""
    path = resources.files("canonical.dialects").joinpath(f"{partner}.toml")
    if not path.is_file():
        raise DialectTableError(f"{partner}.toml: no such table file")
    return parse_table(path.read_text("utf-8"), partner)
