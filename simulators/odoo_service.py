"""Odoo's RPC services (``common``, ``db``, ``object``) on top of the in-memory store.

Guarantees:

* ``common.authenticate``/``login`` return uid ``2`` for the configured login and password,
  ``False`` otherwise; an unknown database raises ``psycopg2.OperationalError``.
* ``object.execute_kw`` checks database, uid and password (``AccessDenied``), the model
  (``builtins.ValueError``), the method (private → ``AccessError``, unknown →
  ``builtins.AttributeError``) and the arguments (``builtins.TypeError``) before running.
* Every ``execute_kw`` received is appended to :attr:`OdooService.calls` (model, method,
  args, kwargs — never the password), including refused ones.
* Each call is atomic: on any error the store is restored to its state before the call.
  After a successful write the state file (if configured) is rewritten atomically.
"""

import copy
import inspect
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from simulators.odoo_business import ACTIONS, check_write
from simulators.odoo_errors import (
    AccessDenied,
    AccessError,
    DatabaseError,
    OdooAttributeError,
    OdooError,
    OdooTypeError,
    OdooValueError,
    ServiceNotFound,
)
from simulators.odoo_models import X2MANY
from simulators.odoo_persist import dump, restore, save_state_file, snapshot
from simulators.odoo_store import OdooStore
from simulators.odoo_write import create_record, write_records

logger = logging.getLogger(__name__)

ADMIN_UID = 2
SERVER_VERSION = "17.0"
VERSION_INFO: list[Any] = [17, 0, 0, "final", 0, ""]
READ_ONLY_METHODS = frozenset({"search", "search_read", "read", "search_count", "fields_get"})


def _ids(value: Any) -> list[int]:
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


class OdooService:
    """Authentication and method dispatch for one simulated database."""

    def __init__(
        self,
        *,
        db: str,
        login: str,
        password: SecretStr,
        store: OdooStore,
        state_file: Path | None = None,
    ) -> None:
        self.db = db
        self.login = login
        self._password = password
        self.store = store
        self.state_file = state_file
        self.calls: list[dict[str, Any]] = []

    # -- services -----------------------------------------------------------------------
    def dispatch(self, service: str, method: str, args: list[Any]) -> Any:
        """Run ``service.method(*args)`` and return its JSON-ready result."""
        table: dict[str, dict[str, Callable[..., Any]]] = {
            "common": {
                "version": self.version,
                "authenticate": self.authenticate,
                "login": self.do_login,
            },
            "db": {"list": lambda: [self.db], "server_version": lambda: SERVER_VERSION},
            "object": {"execute_kw": self.execute_kw, "execute": self.execute},
        }
        methods = table.get(service)
        if methods is None:
            raise ServiceNotFound(f"404 Not Found: unknown service {service!r}")
        function = methods.get(method)
        if function is None:
            raise OdooError(f"Method not found: {method}")
        return self._call(function, args, {})

    @staticmethod
    def _call(function: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
        try:
            inspect.signature(function).bind(*args, **kwargs)
        except TypeError as exc:
            raise OdooTypeError(f"{getattr(function, '__name__', 'method')}() {exc}") from None
        return function(*args, **kwargs)

    def version(self) -> dict[str, Any]:
        """``common.version``."""
        return {
            "server_version": SERVER_VERSION,
            "server_version_info": VERSION_INFO,
            "server_serie": SERVER_VERSION,
            "protocol_version": 1,
        }

    def _check_db(self, db: Any) -> None:
        if db != self.db:
            raise DatabaseError(
                f'connection to server failed: FATAL:  database "{db}" does not exist'
            )

    def _password_ok(self, password: Any) -> bool:
        return isinstance(password, str) and password == self._password.get_secret_value()

    def authenticate(self, db: Any, login: Any, password: Any, user_agent_env: Any) -> Any:
        """``common.authenticate`` → uid or ``False``."""
        self._check_db(db)
        return ADMIN_UID if login == self.login and self._password_ok(password) else False

    def do_login(self, db: Any, login: Any, password: Any) -> Any:
        """``common.login`` → uid or ``False``."""
        return self.authenticate(db, login, password, {})

    def execute(self, db: Any, uid: Any, password: Any, model: Any, method: Any, *args: Any) -> Any:
        """``object.execute``: ``execute_kw`` with positional arguments only."""
        return self.execute_kw(db, uid, password, model, method, list(args), {})

    def execute_kw(
        self,
        db: Any,
        uid: Any,
        password: Any,
        model: Any,
        method: Any,
        args: Any = None,
        kwargs: Any = None,
    ) -> Any:
        """``object.execute_kw``: see the module docstring for the checks, in order."""
        self.calls.append(
            {
                "model": model,
                "method": method,
                "args": copy.deepcopy(args if args is not None else []),
                "kwargs": copy.deepcopy(kwargs if kwargs is not None else {}),
            }
        )
        self._check_db(db)
        if uid != ADMIN_UID or not self._password_ok(password):
            raise AccessDenied()
        if not isinstance(model, str) or not isinstance(method, str):
            raise OdooTypeError("execute_kw() model and method must be strings")
        self.store.spec(model)
        if method.startswith("_"):
            raise AccessError(
                f"Private methods (such as {model}.{method}) cannot be called remotely."
            )
        function = self._method(model, method)
        if args is None:
            args = []
        if kwargs is None:
            kwargs = {}
        if not isinstance(args, list | tuple) or not isinstance(kwargs, dict):
            raise OdooTypeError("execute_kw() args must be a list and kwargs a dict")
        kwargs = {k: v for k, v in kwargs.items() if k != "context"}
        if method in READ_ONLY_METHODS:
            return self._call(function, [model, *args], kwargs)
        before = snapshot(self.store)
        try:
            result = self._call(function, [model, *args], kwargs)
        except BaseException:
            restore(self.store, before)
            raise
        self._persist()
        return result

    def _method(self, model: str, method: str) -> Callable[..., Any]:
        orm: dict[str, Callable[..., Any]] = {
            "search": self.search,
            "search_read": self.search_read,
            "read": self.read,
            "search_count": self.search_count,
            "create": self.create,
            "write": self.write,
            "fields_get": self.fields_get,
        }
        if method in orm:
            return orm[method]
        action = ACTIONS.get((model, method))
        if action is None:
            raise OdooAttributeError(f"The method '{method}' does not exist on the model '{model}'")

        def run_action(model: str, ids: Any) -> Any:
            return action(self.store, _ids(ids))

        run_action.__name__ = method
        return run_action

    def _persist(self) -> None:
        if self.state_file is not None:
            save_state_file(self.state_file, dump(self.store))

    # -- ORM ----------------------------------------------------------------------------
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

    def read(self, model: str, ids: Any, fields: Any = None, load: Any = None) -> Any:
        """``read(ids, fields=None)`` → records in ``ids`` order."""
        return self.store.read(model, _ids(ids), _fields(fields))

    def search_count(self, model: str, domain: Any, limit: Any = None) -> int:
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
        id_list = _ids(ids)
        if isinstance(vals, dict):
            check_write(self.store, model, id_list, vals)
        write_records(self.store, model, id_list, vals)
        return True

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
