"""A generic in-memory Odoo ORM over :data:`MODELS`: storage, reads and searches.

Guarantees:

* Reads follow Odoo's wire format: empty values are ``false`` (numbers ``0``), many2one is
  ``[id, display_name]`` (the bare id with ``m2o_ids``), x2many is a list of ids; unknown
  fields raise ``OdooValueError`` and unknown ids ``MissingError``.
* Searches validate the whole domain and ``order`` first (``OdooValueError``), then filter,
  sort (nulls last ascending, first descending, like PostgreSQL) and slice.
* Computed fields are evaluated on every read, so totals are never stale.

Writes live in :mod:`simulators.odoo_write`, snapshots and the state file in
:mod:`simulators.odoo_persist`; model-specific behaviour is injected as :class:`Hooks`.
"""

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simulators.clock import utc_now
from simulators.odoo_domain import compile_domain
from simulators.odoo_errors import OdooValueError, missing_records
from simulators.odoo_models import MODELS, X2MANY, FieldSpec, ModelSpec

logger = logging.getLogger(__name__)

ComputeFn = Callable[["OdooStore", int], Any]
CreateHook = Callable[["OdooStore", dict[str, Any]], None]
DATE_FORMATS = {"date": "%Y-%m-%d", "datetime": "%Y-%m-%d %H:%M:%S"}


@dataclass(frozen=True)
class Hooks:
    """Per-model behaviour: computed field values and create-time defaults."""

    computes: Mapping[tuple[str, str], ComputeFn] = field(default_factory=dict)
    create_defaults: Mapping[str, CreateHook] = field(default_factory=dict)


def now_string() -> str:
    """The current UTC time in Odoo's datetime wire format."""
    return utc_now().strftime(DATE_FORMATS["datetime"])


class OdooStore:
    """Records per model, id counters and named sequences."""

    def __init__(self, hooks: Hooks, models: Mapping[str, ModelSpec] = MODELS) -> None:
        self.models = models
        self.hooks = hooks
        self.records: dict[str, dict[int, dict[str, Any]]] = {m: {} for m in models}
        self.next_ids: dict[str, int] = {m: 1 for m in models}
        self.sequences: dict[str, int] = {}

    # -- lookup -------------------------------------------------------------------------
    def spec(self, model: str) -> ModelSpec:
        """The model, or ``OdooValueError`` when the simulator does not serve it."""
        spec = self.models.get(model)
        if spec is None:
            raise OdooValueError(f"Object {model} doesn't exist")
        return spec

    def field(self, model: str, name: str) -> FieldSpec:
        """The field, or ``OdooValueError('Invalid field …')``."""
        spec = self.spec(model).fields.get(name)
        if spec is None:
            raise OdooValueError(f"Invalid field {name!r} on model {model!r}")
        return spec

    def check_ids(self, model: str, ids: list[int]) -> None:
        """``MissingError`` naming the ids that do not exist."""
        missing = [i for i in ids if i not in self.records[model]]
        if missing:
            raise missing_records(model, missing)

    def next_sequence(self, key: str) -> int:
        """The next number of the named sequence (1, 2, …)."""
        self.sequences[key] = self.sequences.get(key, 0) + 1
        return self.sequences[key]

    def raw(self, model: str, rec_id: int, name: str) -> Any:
        """The internal value: many2one an id or ``False``, x2many a list of ids."""
        spec = self.models[model].fields[name]
        if name == "id":
            return rec_id
        compute = self.hooks.computes.get((model, name))
        if compute is not None:
            return compute(self, rec_id)
        if name == "display_name":
            return self.records[model][rec_id].get("name") or f"{model},{rec_id}"
        if spec.type == "one2many":
            assert spec.comodel is not None and spec.inverse is not None
            children = self.records[spec.comodel]
            return [i for i in sorted(children) if children[i].get(spec.inverse) == rec_id]
        value = self.records[model][rec_id].get(name, False)
        if spec.type == "many2many":
            assert spec.comodel is not None
            return [i for i in value or [] if i in self.records[spec.comodel]]
        return value

    def display_name(self, model: str, rec_id: int) -> str:
        """The record's display name (as in many2one reads)."""
        return str(self.raw(model, rec_id, "display_name"))

    # -- read ---------------------------------------------------------------------------
    def read(
        self, model: str, ids: list[int], fields: list[str] | None, *, m2o_ids: bool = False
    ) -> list[dict[str, Any]]:
        """Records in ``ids`` order with ``fields`` (all when empty), always with ``id``."""
        spec = self.spec(model)
        names = list(fields) if fields else list(spec.fields)
        for name in names:
            self.field(model, name)
        self.check_ids(model, ids)
        out = []
        for rec_id in ids:
            row: dict[str, Any] = {"id": rec_id}
            for name in names:
                row[name] = self._wire(model, rec_id, name, spec.fields[name], m2o_ids)
            out.append(row)
        return out

    def _wire(self, model: str, rec_id: int, name: str, spec: FieldSpec, m2o_ids: bool) -> Any:
        value = self.raw(model, rec_id, name)
        if spec.type == "many2one":
            assert spec.comodel is not None
            if not value or value not in self.records[spec.comodel]:
                return False
            return value if m2o_ids else [value, self.display_name(spec.comodel, value)]
        if spec.type in X2MANY:
            return list(value)
        if spec.type in ("float", "monetary"):
            return float(value or 0.0)
        if spec.type == "integer":
            return int(value or 0)
        if spec.type == "boolean":
            return bool(value)
        return value if value not in (None, "") else False

    # -- search -------------------------------------------------------------------------
    def search(
        self,
        model: str,
        domain: Any,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[int]:
        """Ids matching ``domain``, sorted by ``order`` (default: the model's), then sliced."""
        spec = self.spec(model)
        predicate = compile_domain(self, model, domain)
        terms = self._parse_order(model, order or spec.order)
        ids = [i for i in self.records[model] if predicate(i)]
        ids.sort()
        for name, descending in reversed(terms):
            keys = {i: self._sort_key(model, i, name) for i in ids}
            ids.sort(key=keys.__getitem__, reverse=descending)
        end = offset + limit if limit else None
        return ids[offset:end]

    def _parse_order(self, model: str, order: str) -> list[tuple[str, bool]]:
        terms = []
        for chunk in order.split(","):
            words = chunk.split()
            if (
                not words
                or len(words) > 2
                or (len(words) == 2 and words[1].lower() not in ("asc", "desc"))
            ):
                raise OdooValueError(f'Invalid "order" specified ({order!r})')
            spec = self.field(model, words[0])
            if spec.type in X2MANY:
                raise OdooValueError(f'Invalid "order" specified ({order!r}): {words[0]}')
            terms.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
        return terms

    def _sort_key(self, model: str, rec_id: int, name: str) -> tuple[int, Any]:
        spec = self.models[model].fields[name]
        value = self.raw(model, rec_id, name)
        if value is False or value is None:
            return (1, 0)
        if spec.type == "many2one":
            assert spec.comodel is not None
            return (0, self.display_name(spec.comodel, value).lower())
        if isinstance(value, str):
            return (0, value.lower())
        return (0, value)
