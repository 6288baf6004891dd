"""The generic ORM methods every Odoo model answers over RPC.

``search``, ``search_read``, ``read``, ``search_count``, ``create``, ``write``,
``fields_get`` and ``default_get``, with Odoo's argument names (so JSON-2 named arguments bind
to them) and Odoo's argument checks (``builtins.ValueError`` for bad ids, fields, offset, limit
or order). ``read(..., load=<anything but "_classic_read">)`` returns many2one values as bare
ids, as Odoo does (odoorpc reads that way). ``default_get(fields_list)`` answers the model's
static defaults for the requested fields that have one (``context`` defaults are not served).
:data:`MODEL_LEVEL` are the ``@api.model`` ones, which take no record ids.
"""

from collections.abc import Callable
from typing import Any

from simulators.odoo_business import check_write
from simulators.odoo_errors import OdooValueError
from simulators.odoo_models import X2MANY
from simulators.odoo_store import OdooStore
from simulators.odoo_write import create_record, write_records

READ_ONLY = frozenset(
    {"search", "search_read", "read", "search_count", "fields_get", "default_get"}
)
MODEL_LEVEL = frozenset(
    {"search", "search_read", "search_count", "create", "fields_get", "default_get"}
)


def as_ids(value: Any) -> list[int]:
    """Record ids from an int or a list of ints, else ``builtins.ValueError``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value]
    if isinstance(value, list | tuple) and all(
        isinstance(i, int) and not isinstance(i, bool) for i in value
    ):
        return list(value)
    raise OdooValueError(f"Invalid ids: {value!r}")


def _fields(value: Any) -> list[str] | None:
    if value is None or value is False:
        return None
    if isinstance(value, list | tuple) and all(isinstance(f, str) for f in value):
        return list(value)
    raise OdooValueError(f"Invalid fields: {value!r}")


def _window(offset: Any, limit: Any, order: Any) -> tuple[int, int | None, str | None]:
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise OdooValueError(f"Invalid offset: {offset!r}")
    if limit is None or limit is False:
        limit = None
    elif isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
        raise OdooValueError(f"Invalid limit: {limit!r}")
    if order is None or order is False:
        order = None
    elif not isinstance(order, str):
        raise OdooValueError(f"Invalid order: {order!r}")
    return offset, limit, order


class Orm:
    """The ORM methods over one store; each takes the model name first."""

    def __init__(self, store: OdooStore) -> None:
        self.store = store

    def method(self, name: str) -> Callable[..., Any] | None:
        """The ORM method called ``name``, or ``None``."""
        methods: dict[str, Callable[..., Any]] = {
            "search": self.search,
            "search_read": self.search_read,
            "read": self.read,
            "search_count": self.search_count,
            "create": self.create,
            "write": self.write,
            "fields_get": self.fields_get,
            "default_get": self.default_get,
        }
        return methods.get(name)

    def search(
        self, model: str, domain: Any, offset: Any = 0, limit: Any = None, order: Any = None
    ) -> list[int]:
        """``search(domain, offset=0, limit=None, order=None)`` → ids."""
        offset, limit, order = _window(offset, limit, order)
        return self.store.search(model, domain, offset, limit, order)

    def search_read(
        self,
        model: str,
        domain: Any = None,
        fields: Any = None,
        offset: Any = 0,
        limit: Any = None,
        order: Any = None,
    ) -> list[dict[str, Any]]:
        """``search_read(domain, fields=None, offset=0, limit=None, order=None)`` → records."""
        names = _fields(fields)
        offset, limit, order = _window(offset, limit, order)
        ids = self.store.search(model, domain, offset, limit, order)
        return self.store.read(model, ids, names)

    def read(self, model: str, ids: Any, fields: Any = None, load: Any = "_classic_read") -> Any:
        """``read(ids, fields=None, load="_classic_read")`` → records in ``ids`` order."""
        return self.store.read(model, as_ids(ids), _fields(fields), m2o_ids=load != "_classic_read")

    def search_count(self, model: str, domain: Any = None, limit: Any = None) -> int:
        """``search_count(domain)`` → int."""
        _, limit, _ = _window(0, limit, None)
        return len(self.store.search(model, domain, 0, limit, None))

    def create(self, model: str, vals_list: Any) -> Any:
        """``create(vals)`` → id, ``create([vals, …])`` → ids."""
        if isinstance(vals_list, list):
            return [create_record(self.store, model, vals) for vals in vals_list]
        return create_record(self.store, model, vals_list)

    def write(self, model: str, ids: Any, vals: Any) -> bool:
        """``write(ids, vals)`` → ``True``."""
        id_list = as_ids(ids)
        if isinstance(vals, dict):
            check_write(self.store, model, id_list, vals)
        write_records(self.store, model, id_list, vals)
        return True

    def default_get(self, model: str, fields_list: Any) -> dict[str, Any]:
        """``default_get(fields_list)`` → ``{field: default}`` for those that have one."""
        defaults = self.store.spec(model).defaults
        return {name: defaults[name] for name in _fields(fields_list) or [] if name in defaults}

    def fields_get(self, model: str, allfields: Any = None, attributes: Any = None) -> Any:
        """``fields_get()`` → ``{field: {type, string, required, readonly, relation?}}``."""
        out: dict[str, Any] = {}
        for name, spec in self.store.spec(model).fields.items():
            if allfields and name not in allfields:
                continue
            info: dict[str, Any] = {
                "type": spec.type,
                "string": spec.string,
                "required": spec.required,
                "readonly": spec.computed or spec.readonly,
            }
            if spec.comodel:
                info["relation"] = spec.comodel
            if spec.type in X2MANY and spec.inverse:
                info["relation_field"] = spec.inverse
            if spec.selection:
                info["selection"] = [[v, v] for v in spec.selection]
            out[name] = info
        return out
