"""The two wire protocols of Odoo's external API, behind one ``call``.

- :class:`JsonRpc` (Odoo 16–18, still served by 19): ``POST /jsonrpc``, ``common.authenticate``
  then ``object.execute_kw`` with positional arguments; always HTTP 200, errors in
  ``error.data``.
- :class:`Json2` (Odoo ≥ 19): ``POST /json/2/<model>/<method>`` with a bearer API key and named
  arguments; errors as HTTP status + ``{name, message, …}``.

Both take ``call(model, method, ids, named)``: ``ids`` for record methods (``None`` for model
methods), ``named`` the method's keyword arguments.
"""

import itertools
from typing import Any, Protocol

import httpx
from pydantic import SecretStr

from activities.errors import business_error, raise_for_status, retry_after
from activities.odoo_errors import PARTNER, odoo_error


class OdooTransport(Protocol):
    async def call(
        self, model: str, method: str, ids: list[int] | None, named: dict[str, Any]
    ) -> Any: ...


def _positional(method: str, ids: list[int] | None, named: dict[str, Any]) -> tuple[list, dict]:
    """``execute_kw`` arguments: the ORM's first parameters positionally, the rest by name."""
    named = dict(named)
    if method in ("search", "search_read", "search_count"):
        return [named.pop("domain", [])], named
    if method == "create":
        values = named.pop("vals_list")
        return [values[0] if len(values) == 1 else values], named
    if method == "write":
        return [ids, named.pop("vals")], named
    return ([ids] if ids is not None else []), named


class JsonRpc:
    def __init__(self, http: httpx.AsyncClient, database: str, login: str, password: SecretStr):
        self._http = http
        self._db = database
        self._login = login
        self._password = password
        self._uid: int | None = None
        self._ids = itertools.count(1)

    async def _rpc(self, service: str, method: str, args: list[Any]) -> Any:
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": next(self._ids),
            "params": {"service": service, "method": method, "args": args},
        }
        response = await self._http.post("/jsonrpc", json=payload)
        raise_for_status(PARTNER, response, response.text[:200])
        body = response.json()
        error = body.get("error")
        if error is not None:
            data = error.get("data") or {}
            raise odoo_error(
                data.get("name") or "unknown",
                data.get("message") or error.get("message") or "Odoo error",
            )
        return body.get("result")

    async def uid(self) -> int:
        """Log in once; a refused login is a business error (fix the settings)."""
        if self._uid is None:
            uid = await self._rpc(
                "common", "authenticate",
                [self._db, self._login, self._password.get_secret_value(), {}],
            )  # fmt: skip
            if isinstance(uid, bool) or not isinstance(uid, int):
                raise business_error(
                    PARTNER, f"login refused for {self._login!r}", type="AccessDenied"
                )
            self._uid = uid
        return self._uid

    async def call(
        self, model: str, method: str, ids: list[int] | None, named: dict[str, Any]
    ) -> Any:
        args, kwargs = _positional(method, ids, named)
        uid = await self.uid()
        secret = self._password.get_secret_value()
        return await self._rpc(
            "object", "execute_kw", [self._db, uid, secret, model, method, args, kwargs]
        )


class Json2:
    def __init__(self, http: httpx.AsyncClient, database: str, api_key: SecretStr) -> None:
        self._http = http
        self._headers = {
            "Authorization": f"bearer {api_key.get_secret_value()}",
            "X-Odoo-Database": database,
        }

    async def call(
        self, model: str, method: str, ids: list[int] | None, named: dict[str, Any]
    ) -> Any:
        body = {**named, **({"ids": ids} if ids is not None else {})}
        response = await self._http.post(
            f"/json/2/{model}/{method}", json=body, headers=self._headers
        )
        if response.status_code == 200:
            return response.json()
        try:
            error = response.json()
        except ValueError:
            error = None
        if isinstance(error, dict) and error.get("name"):
            raise odoo_error(
                str(error["name"]), str(error.get("message") or ""),
                retry_after=retry_after(response),
            )  # fmt: skip
        raise_for_status(PARTNER, response, response.text[:200])
        raise odoo_error("unknown", f"HTTP {response.status_code}")
