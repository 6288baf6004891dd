"""Odoo client: ORM calls over JSON-RPC (Odoo 16–18) or JSON-2 (Odoo ≥ 19).

The transport is a setting (``jsonrpc``, ``json2``) or ``auto``: detected once from
``/web/version`` (JSON-2 from major version 19, when an API key is configured).

Odoo has no idempotency keys, so callers make writes safe to repeat by searching before they
create and by checking a record's state before calling an ``action_*`` method. Empty values
(Odoo's ``false``) read as ``None`` here; many2one values stay ``[id, "name"]`` (see
:func:`many2one_id`).
"""

import asyncio
from typing import Any, Literal

import httpx
from pydantic import SecretStr
from temporalio.exceptions import ApplicationError

from activities.errors import business_error, new_http_client
from activities.odoo_errors import PARTNER
from activities.odoo_transports import Json2, JsonRpc, OdooTransport

TransportName = Literal["auto", "jsonrpc", "json2"]
READ_RETRY_DELAYS_S = (0.2, 0.6)
"""Pauses between the in-client attempts of a read (three attempts in all)."""
JSON2_SINCE = 19


class OdooClient:
    """ORM calls against one Odoo database."""

    def __init__(
        self,
        url: str,
        database: str,
        login: str,
        password: SecretStr,
        *,
        api_key: SecretStr | None = None,
        transport: TransportName = "auto",
        timeout_s: float = 20.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._db = database
        self._login = login
        self._password = password
        self._api_key = api_key
        self._wanted: TransportName = transport
        self._http = http or new_http_client(url, timeout_s=timeout_s, partner="odoo")
        self._transport: OdooTransport | None = None
        self._choosing = asyncio.Lock()
        self.transport_name: str | None = None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def transport(self) -> OdooTransport:
        async with self._choosing:
            if self._transport is None:
                name = self._wanted
                if name == "auto":
                    name = "json2" if await self._serves_json2() else "jsonrpc"
                if name == "json2":
                    if self._api_key is None:
                        raise business_error(PARTNER, "JSON-2 needs an API key (settings)",
                                             type="AccessDenied")  # fmt: skip
                    self._transport = Json2(self._http, self._db, self._api_key)
                else:
                    self._transport = JsonRpc(self._http, self._db, self._login, self._password)
                self.transport_name = name
            return self._transport

    async def _serves_json2(self) -> bool:
        if self._api_key is None:
            return False
        response = await self._http.get("/web/version")
        if response.status_code != 200:
            return False
        info = response.json().get("version_info") or [0]
        return isinstance(info[0], int) and info[0] >= JSON2_SINCE

    async def call(
        self, model: str, method: str, ids: list[int] | None = None, **named: Any
    ) -> Any:
        """Any public ORM or business method, e.g. ``call("sale.order", "action_confirm", [7])``."""
        return await (await self.transport()).call(model, method, ids, named)

    async def _read(
        self, model: str, method: str, ids: list[int] | None = None, **named: Any
    ) -> Any:
        """A call that changes nothing: retried here on a transient failure, a few times, fast.

        One flaky read should not cost a whole activity attempt (and its backoff); writes are
        left to the activity's retry policy, where search-before-create makes them safe. A 429
        with Retry-After is not retried here: the activity waits as long as Odoo asked.
        """
        for delay in (*READ_RETRY_DELAYS_S, None):
            try:
                return await self.call(model, method, ids, **named)
            except (ApplicationError, httpx.TransportError) as err:
                asked_to_wait = isinstance(err, ApplicationError) and (
                    err.non_retryable or err.next_retry_delay is not None
                )
                if delay is None or asked_to_wait:
                    raise
                await asyncio.sleep(delay)

    async def search_read(
        self,
        model: str,
        domain: list[Any],
        fields: list[str],
        *,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[dict[str, Any]]:
        named: dict[str, Any] = {"domain": domain, "fields": fields}
        if limit is not None:
            named["limit"] = limit
        if order is not None:
            named["order"] = order
        records: list[dict[str, Any]] = await self._read(model, "search_read", **named)
        return [clean(record) for record in records]

    async def read(self, model: str, ids: list[int], fields: list[str]) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = await self._read(model, "read", ids, fields=fields)
        return [clean(record) for record in records]

    async def read_one(self, model: str, record_id: int, fields: list[str]) -> dict[str, Any]:
        records = await self.read(model, [record_id], fields)
        if not records:
            raise business_error(PARTNER, f"{model} {record_id} does not exist",
                                 type="MissingError")  # fmt: skip
        return records[0]

    async def create(self, model: str, values: dict[str, Any]) -> int:
        created = await self.call(model, "create", vals_list=[values])
        return int(created[0] if isinstance(created, list) else created)

    async def write(self, model: str, ids: list[int], values: dict[str, Any]) -> None:
        await self.call(model, "write", ids, vals=values)


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
