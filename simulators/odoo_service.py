"""Odoo's RPC services (``common``, ``db``, ``object``) and model calls over the store.

Guarantees:

* ``common.authenticate``/``login`` return uid ``2`` for the configured login and password,
  ``False`` otherwise; an unknown database raises ``psycopg2.OperationalError``.
* ``object.execute_kw`` checks database, uid and password (``AccessDenied``), then runs
  :meth:`OdooService.call_model`, which checks the model (``odoo.exceptions.UserError``
  "Object <model> doesn't exist", as Odoo 17–19's ``execute_kw`` answers), the method
  (private → ``AccessError``, unknown → ``builtins.AttributeError``) and the arguments
  (``builtins.TypeError``) before running. JSON-2 reports unknown models and methods as
  ``werkzeug.exceptions.NotFound`` instead.
* Every model call received (JSON-RPC ``execute_kw``/``execute`` or JSON-2) is appended to
  :attr:`OdooService.calls` as ``{model, method, args, kwargs, transport}`` — never the
  password — including refused ones and ones failed by fault injection.
* Each call is atomic: on any error the store is restored to its state before the call.
  After a successful write the state file (if configured) is marked changed; the app answers
  once it is on disk (:mod:`simulators.state_file`).
* The server version (``17.0`` by default) is reported consistently by ``common.version``,
  ``db.server_version`` and ``/web/version``.
"""

import copy
import functools
import hmac
import inspect
from collections.abc import Callable
from typing import Any

from pydantic import SecretStr

from simulators.odoo_actions import ACTIONS, MODEL_ACTIONS
from simulators.odoo_business import ADMIN_UID
from simulators.odoo_errors import (
    AccessDenied,
    AccessError,
    DatabaseError,
    InjectedError,
    NotFound,
    OdooAttributeError,
    OdooError,
    OdooTypeError,
    ServiceNotFound,
    UserError,
)
from simulators.odoo_orm import MODEL_LEVEL as ORM_MODEL_LEVEL
from simulators.odoo_orm import READ_ONLY, Orm, as_ids
from simulators.odoo_persist import restore, snapshot
from simulators.odoo_store import OdooStore
from simulators.state_file import StateFile

MODEL_LEVEL = ORM_MODEL_LEVEL | {method for _, method in MODEL_ACTIONS}


def version_info(version: str) -> list[Any]:
    """``"19.0"`` → ``[19, 0, 0, "final", 0, ""]``, as Odoo reports it."""
    major, minor = (int(part) for part in version.split("."))
    return [major, minor, 0, "final", 0, ""]


def _check_arguments(
    name: str, function: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]
) -> None:
    try:
        inspect.signature(function).bind(*args, **kwargs)
    except TypeError as exc:
        raise OdooTypeError(f"{name}() {exc}") from None


class OdooService:
    """Authentication and method dispatch for one simulated database."""

    def __init__(
        self,
        *,
        db: str,
        login: str,
        password: SecretStr,
        store: OdooStore,
        state_file: StateFile | None = None,
        version: str = "17.0",
    ) -> None:
        self.db = db
        self.login = login
        self._password = password
        self.store = store
        self.orm = Orm(store)
        self.state_file = state_file
        self.version_string = version
        self.version_info = version_info(version)
        self.calls: list[dict[str, Any]] = []

    # -- services -----------------------------------------------------------------------
    def dispatch(
        self, service: str, method: str, args: list[Any], *, injected: str | None = None
    ) -> Any:
        """Run ``service.method(*args)`` and return its JSON-ready result.

        ``injected`` (fault injection) fails an ``object`` call under that exception name
        after it was recorded.
        """
        table: dict[str, dict[str, Callable[..., Any]]] = {
            "common": {
                "version": self.version,
                "authenticate": self.authenticate,
                "login": self.do_login,
            },
            "db": {"list": lambda: [self.db], "server_version": lambda: self.version_string},
            "object": {
                "execute_kw": functools.partial(self.execute_kw, injected=injected),
                "execute": functools.partial(self.execute, injected=injected),
            },
        }
        methods = table.get(service)
        if methods is None:
            raise ServiceNotFound(f"404 Not Found: unknown service {service!r}")
        function = methods.get(method)
        if function is None:
            raise OdooError(f"Method not found: {method}")
        _check_arguments(method, function, args, {})
        return function(*args)

    def version(self) -> dict[str, Any]:
        """``common.version``."""
        return {
            "server_version": self.version_string,
            "server_version_info": self.version_info,
            "server_serie": self.version_string,
            "protocol_version": 1,
        }

    def check_db(self, db: Any) -> None:
        """``psycopg2.OperationalError`` unless ``db`` is the simulated database."""
        if db != self.db:
            raise DatabaseError(
                f'connection to server failed: FATAL:  database "{db}" does not exist'
            )

    def password_ok(self, password: Any) -> bool:
        """Whether ``password`` (or a JSON-2 API key) is the configured password."""
        return isinstance(password, str) and hmac.compare_digest(
            password.encode("utf-8"), self._password.get_secret_value().encode("utf-8")
        )

    def authenticate(self, db: Any, login: Any, password: Any, user_agent_env: Any) -> Any:
        """``common.authenticate`` → uid or ``False``."""
        self.check_db(db)
        return ADMIN_UID if login == self.login and self.password_ok(password) else False

    def do_login(self, db: Any, login: Any, password: Any) -> Any:
        """``common.login`` → uid or ``False``."""
        return self.authenticate(db, login, password, {})

    def execute(
        self,
        db: Any,
        uid: Any,
        password: Any,
        model: Any,
        method: Any,
        *args: Any,
        injected: str | None = None,
    ) -> Any:
        """``object.execute``: ``execute_kw`` with positional arguments only."""
        return self.execute_kw(db, uid, password, model, method, list(args), {}, injected=injected)

    def execute_kw(
        self,
        db: Any,
        uid: Any,
        password: Any,
        model: Any,
        method: Any,
        args: Any = None,
        kwargs: Any = None,
        *,
        injected: str | None = None,
    ) -> Any:
        """``object.execute_kw``: see the module docstring for the checks, in order."""
        self.record(model, method, args or [], kwargs or {}, "jsonrpc")
        if injected is not None:
            raise InjectedError(injected)
        self.check_db(db)
        if uid != ADMIN_UID or not self.password_ok(password):
            raise AccessDenied()
        if not isinstance(model, str) or not isinstance(method, str):
            raise OdooTypeError("execute_kw() model and method must be strings")
        if not isinstance(args or [], list | tuple) or not isinstance(kwargs or {}, dict):
            raise OdooTypeError("execute_kw() args must be a list and kwargs a dict")
        return self.call_model(model, method, list(args or []), dict(kwargs or {}))

    def record(self, model: Any, method: Any, args: Any, kwargs: Any, transport: str) -> None:
        """Append one entry to :attr:`calls` (deep copies; never credentials)."""
        self.calls.append(
            {
                "model": model,
                "method": method,
                "args": copy.deepcopy(args),
                "kwargs": copy.deepcopy(kwargs),
                "transport": transport,
            }
        )

    # -- model calls --------------------------------------------------------------------
    def call_model(
        self,
        model: str,
        method: str,
        args: list[Any],
        kwargs: dict[str, Any],
        *,
        json2: bool = False,
    ) -> Any:
        """Check and run ``model.method(*args, **kwargs)`` atomically (``context`` ignored)."""
        if model not in self.store.models:
            if json2:
                raise NotFound(f"404 Not Found: the model {model!r} does not exist")
            raise UserError(f"Object {model} doesn't exist")
        if method.startswith("_"):
            raise AccessError(
                f"Private methods (such as {model}.{method}) cannot be called remotely."
            )
        kwargs = {k: v for k, v in kwargs.items() if k != "context"}
        function = self._method(model, method, json2)
        _check_arguments(method, function, args, kwargs)
        if method in READ_ONLY or (model, method) in MODEL_ACTIONS:
            return function(*args, **kwargs)
        before = snapshot(self.store)
        try:
            result = function(*args, **kwargs)
        except BaseException:
            restore(self.store, before)
            raise
        if self.state_file is not None:
            self.state_file.save()
        return result

    def _method(self, model: str, method: str, json2: bool) -> Callable[..., Any]:
        orm = self.orm.method(method)
        if orm is not None:
            return functools.partial(orm, model)
        if (model, method) in MODEL_ACTIONS:
            return functools.partial(MODEL_ACTIONS[model, method], self.store)
        action = ACTIONS.get((model, method))
        if action is None:
            message = f"The method '{method}' does not exist on the model '{model}'"
            raise NotFound(f"404 Not Found: {message}") if json2 else OdooAttributeError(message)
        bound = functools.partial(action, self.store)

        def run_action(ids: Any, *args: Any, **kwargs: Any) -> Any:
            return bound(as_ids(ids), *args, **kwargs)

        run_action.__signature__ = inspect.signature(bound)  # type: ignore[attr-defined]
        return run_action


__all__ = ["ADMIN_UID", "MODEL_LEVEL", "OdooService", "version_info"]
