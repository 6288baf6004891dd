"""How Odoo models are declared in the simulator: field and model specs, and shorthands.

Declarative only. Every model built with :func:`model` also has the magic fields ``id``,
``display_name``, ``create_date`` and ``write_date``.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

FieldType = Literal[
    "char",
    "text",
    "integer",
    "float",
    "monetary",
    "boolean",
    "selection",
    "date",
    "datetime",
    "many2one",
    "one2many",
    "many2many",
]
RELATIONAL = frozenset({"many2one", "one2many", "many2many"})
X2MANY = frozenset({"one2many", "many2many"})


@dataclass(frozen=True)
class FieldSpec:
    """One field. ``computed``/``readonly`` fields ignore writes; one2many needs ``inverse``."""

    type: FieldType
    string: str
    comodel: str | None = None
    inverse: str | None = None
    selection: tuple[str, ...] = ()
    required: bool = False
    computed: bool = False
    readonly: bool = False


@dataclass(frozen=True)
class ModelSpec:
    """One model: its fields, static defaults and default search order."""

    name: str
    description: str
    fields: Mapping[str, FieldSpec]
    order: str = "id"
    defaults: Mapping[str, Any] = field(default_factory=dict)


def char(string: str, *, required: bool = False, computed: bool = False) -> FieldSpec:
    """A char field."""
    return FieldSpec("char", string, required=required, computed=computed)


def num(string: str, *, kind: FieldType = "float", computed: bool = False) -> FieldSpec:
    """A float/monetary/integer field."""
    return FieldSpec(kind, string, computed=computed)


def m2o(comodel: str, string: str, *, required: bool = False) -> FieldSpec:
    """A many2one field."""
    return FieldSpec("many2one", string, comodel=comodel, required=required)


def o2m(comodel: str, inverse: str, string: str) -> FieldSpec:
    """A one2many field, stored as the comodel's ``inverse`` many2one."""
    return FieldSpec("one2many", string, comodel=comodel, inverse=inverse)


def m2m(comodel: str, string: str, *, computed: bool = False) -> FieldSpec:
    """A many2many field (stored as an id list on the record)."""
    return FieldSpec("many2many", string, comodel=comodel, computed=computed)


def sel(string: str, *values: str, required: bool = False) -> FieldSpec:
    """A selection field."""
    return FieldSpec("selection", string, selection=values, required=required)


MAGIC_FIELDS: Mapping[str, FieldSpec] = {
    "id": FieldSpec("integer", "ID", readonly=True),
    "display_name": FieldSpec("char", "Display Name", computed=True),
    "create_date": FieldSpec("datetime", "Created on", readonly=True),
    "write_date": FieldSpec("datetime", "Last Updated on", readonly=True),
}


def model(
    name: str,
    description: str,
    fields: dict[str, FieldSpec],
    order: str = "id",
    defaults: Mapping[str, Any] | None = None,
) -> ModelSpec:
    """A model spec with the magic fields added."""
    return ModelSpec(name, description, {**fields, **MAGIC_FIELDS}, order, defaults or {})
