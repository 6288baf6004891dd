"""Odoo client: ORM calls over JSON-RPC (Odoo 16–18) or JSON-2 (Odoo ≥ 19).

The transport is a setting (``jsonrpc``, ``json2``) or ``auto``: detected once from
``/web/version`` (JSON-2 from major version 19, when an API key is configured).

Odoo has no idempotency keys, so callers make writes safe to repeat by searching before they
create and by checking a record's state before calling an ``action_*`` method. Empty values
(Odoo's ``false``) read as ``None`` here; many2one values stay ``[id, "name"]`` (see
:func:`many2one_id`).

Reference data (:meth:`OdooClient.read_reference`: countries, incoterms, a company's partner)
is read once per client and then served from memory for at most ``reference_ttl_s`` (10 minutes
by default): an edit in Odoo is seen by this process within that time, never later. The cache
is bounded (:data:`REFERENCE_CAP` values; expired and then oldest entries go first), ids Odoo
does not return are not cached, and the ids a call lacks are read in one call.
"""

import asyncio
import time
from collections.abc import Callable, Iterable
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
REFERENCE_TTL_S = 600.0
"""How long a reference value read from Odoo is served from memory."""
REFERENCE_CAP = 4096
"""At most this many reference values are kept (the seed has ~250 countries, 11 incoterms)."""


class ReferenceCache:
    """``(model, field, id) → value``, each for ``ttl_s`` seconds, at most ``cap`` of them."""

    def __init__(
        self, ttl_s: float, cap: int = REFERENCE_CAP, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ttl_s = ttl_s
        self._cap = cap
        self._clock = clock
        self._values: dict[tuple[str, str, int], tuple[float, Any]] = {}

    def get(self, model: str, field: str, ids: Iterable[int]) -> dict[int, Any]:
        """The fresh values among ``ids`` (an expired one is dropped)."""
        now = self._clock()
        found: dict[int, Any] = {}
        for record_id in ids:
            entry = self._values.get((model, field, record_id))
            if entry is None:
                continue
            if entry[0] <= now:
                del self._values[(model, field, record_id)]
            else:
                found[record_id] = entry[1]
        return found

    def put(self, model: str, field: str, values: dict[int, Any]) -> None:
        now = self._clock()
        for record_id, value in values.items():
            key = (model, field, record_id)
            self._values.pop(key, None)  # re-inserted last: the newest
            if len(self._values) >= self._cap:
                self._evict(now)
            self._values[key] = (now + self._ttl_s, value)

    def _evict(self, now: float) -> None:
        """Drop the expired values; if none were, the oldest one."""
        expired = [key for key, (until, _) in self._values.items() if until <= now]
        for key in expired:
            del self._values[key]
        if not expired:
            del self._values[next(iter(self._values))]

    def __len__(self) -> int:
        return len(self._values)


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
        reference_ttl_s: float = REFERENCE_TTL_S,
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
        self.reference = ReferenceCache(reference_ttl_s)

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

    async def read_reference(self, model: str, ids: Iterable[int], field: str) -> dict[int, Any]:
        """``{id: value of field}`` of reference data, cached (see the module docstring).

        Only for data that does not change in practice while a process lives; the ids not
        cached are read in one call. An id Odoo does not return is absent from the result.
        """
        wanted = sorted(set(ids))
        found = self.reference.get(model, field, wanted)
        missing = [record_id for record_id in wanted if record_id not in found]
        if missing:
            read = {r["id"]: r[field] for r in await self.read(model, missing, [field])}
            self.reference.put(model, field, read)
            found.update(read)
        return found

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
