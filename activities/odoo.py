"""Odoo client over the external JSON-RPC API (``/jsonrpc``, ``execute_kw``), Odoo 16–18.

Odoo answers every JSON-RPC call with HTTP 200; failures are in ``error.data.name``, the
qualified name of the server-side exception. We classify by that name, never by code:
validation, user, access and missing-record errors are business errors (retrying cannot fix
them); everything else, HTTP failures and transport errors included, is retried.

Odoo has no idempotency keys, so callers make writes safe to repeat by searching before they
create and by checking a record's state before calling an ``action_*`` method.
"""

import itertools
from typing import Any

import httpx
from pydantic import SecretStr

from activities.errors import business_error, new_http_client, raise_for_status, transient_error

PARTNER = "odoo"

BUSINESS_EXCEPTIONS = frozenset(
    {
        "odoo.exceptions.ValidationError",
        "odoo.exceptions.UserError",
        "odoo.exceptions.AccessError",
        "odoo.exceptions.AccessDenied",
        "odoo.exceptions.MissingError",
        "odoo.exceptions.RedirectWarning",
    }
)


class OdooClient:
    """Authenticated ``execute_kw`` calls against one Odoo database."""

    def __init__(
        self,
        url: str,
        database: str,
        login: str,
        password: SecretStr,
        *,
        timeout_s: float = 20.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._db = database
        self._login = login
        self._password = password
        self._http = http or new_http_client(url, timeout_s=timeout_s)
        self._uid: int | None = None
        self._ids = itertools.count(1)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _call(self, service: str, method: str, args: list[Any]) -> Any:
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
            name = data.get("name") or "unknown"
            message = data.get("message") or error.get("message") or "Odoo error"
            if name in BUSINESS_EXCEPTIONS:
                raise business_error(PARTNER, f"{message} ({name})", type=name.rsplit(".", 1)[-1])
            raise transient_error(PARTNER, f"{message} ({name})")
        return body.get("result")

    async def uid(self) -> int:
        """Log in once per client; a refused login is a business error (fix the settings)."""
        if self._uid is None:
            uid = await self._call(
                "common",
                "authenticate",
                [self._db, self._login, self._password.get_secret_value(), {}],
            )
            if isinstance(uid, bool) or not isinstance(uid, int):
                raise business_error(
                    PARTNER, f"login refused for {self._login!r}", type="AccessDenied"
                )
            self._uid = uid
        return self._uid

    async def execute_kw(
        self, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None
    ) -> Any:
        uid = await self.uid()
        secret = self._password.get_secret_value()
        return await self._call(
            "object", "execute_kw", [self._db, uid, secret, model, method, args, kwargs or {}]
        )

    async def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: list[str],
        *,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"fields": fields}
        if limit is not None:
            kwargs["limit"] = limit
        if order is not None:
            kwargs["order"] = order
        records: list[dict[str, Any]] = await self.execute_kw(
            model, "search_read", [domain], kwargs
        )
        return [clean(record) for record in records]

    async def read(self, model: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = await self.execute_kw(
            model, "read", [ids], {"fields": fields}
        )
        return [clean(record) for record in records]

    async def read_one(self, model: str, record_id: int, fields: list[str]) -> dict[str, Any]:
        records = await self.read(model, [record_id], fields)
        if not records:
            raise business_error(
                PARTNER, f"{model} {record_id} does not exist", type="MissingError"
            )
        return records[0]

    async def create(self, model: str, values: dict[str, Any]) -> int:
        record_id: int = await self.execute_kw(model, "create", [values])
        return record_id

    async def write(self, model: str, ids: list[int], values: dict[str, Any]) -> None:
        await self.execute_kw(model, "write", [ids, values])


def clean(record: dict[str, Any]) -> dict[str, Any]:
    """Odoo reads empty values as ``false``: make them ``None`` (booleans stay booleans)."""
    return {
        key: (None if value is False and key not in _BOOLEAN_FIELDS else value)
        for key, value in record.items()
    }


_BOOLEAN_FIELDS = frozenset({"is_company", "active"})


def many2one_id(value: Any) -> int | None:
    """The id of a many2one value read as ``[id, "display name"]`` (or ``None``)."""
    if isinstance(value, list | tuple) and value:
        return int(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None
