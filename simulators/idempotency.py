"""``Idempotency-Key`` handling for the REST simulators' writes (POST/PUT/PATCH/DELETE).

Semantics (Stripe-like):

* No header: the request runs normally.
* First use of a key: the request runs; if the handler *returns* a response, its status, body
  and content type are stored under the key. If it raises (validation error, 404, crash),
  nothing is stored and the key stays free.
* Same key, same request (method, path and JSON body, compared canonically): the stored
  response is replayed byte for byte with the header ``Idempotent-Replayed: true``; the
  handler does not run again, so no side effect (story, record) happens twice.
* Same key, different request: ``422`` with code ``conflict_code``.
* A request arriving while the first one with the same key is still running waits for it
  and then replays (or runs, if the first one stored nothing).
* :meth:`IdempotencyStore.dump` / :meth:`IdempotencyStore.load` carry the stored responses
  across a restart (requests still in flight are not stored); ``on_store`` is called after
  each newly stored response so the owner can persist it.
"""

import asyncio
import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from simulators.rest import HttpError

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_KEY_LENGTH = 255


@dataclass(frozen=True)
class StoredResponse:
    """The first response given for one idempotency key."""

    fingerprint: str
    status: int
    body: bytes
    content_type: str
    charset: str | None


@dataclass
class _InFlight:
    fingerprint: str
    done: asyncio.Future[StoredResponse | None]


def fingerprint(method: str, path: str, body: bytes) -> str:
    """A digest of the request: JSON bodies are canonicalised, anything else compared raw."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except ValueError:
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), path.encode(), canonical):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class IdempotencyStore:
    """Keys seen by one simulator and the responses stored under them."""

    def __init__(
        self,
        *,
        conflict_code: str,
        invalid_key_code: str,
        on_store: Callable[[], None] | None = None,
    ) -> None:
        self._entries: dict[str, StoredResponse | _InFlight] = {}
        self._conflict_code = conflict_code
        self._invalid_key_code = invalid_key_code
        self._on_store = on_store

    def on_store(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after each newly stored response (e.g. to persist it)."""
        self._on_store = callback

    def dump(self) -> list[dict[str, Any]]:
        """The stored responses as JSON-ready data (bodies base64-encoded)."""
        return [
            {
                "key": key,
                "fingerprint": entry.fingerprint,
                "status": entry.status,
                "body": base64.b64encode(entry.body).decode("ascii"),
                "content_type": entry.content_type,
                "charset": entry.charset,
            }
            for key, entry in self._entries.items()
            if isinstance(entry, StoredResponse)
        ]

    def load(self, rows: list[dict[str, Any]]) -> None:
        """Add the responses of :meth:`dump` (call before serving)."""
        for row in rows:
            self._entries[row["key"]] = StoredResponse(
                fingerprint=row["fingerprint"],
                status=int(row["status"]),
                body=base64.b64decode(row["body"]),
                content_type=row["content_type"],
                charset=row["charset"],
            )

    def middleware(self) -> Middleware:
        """The aiohttp middleware applying the semantics in the module docstring."""

        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            key = request.headers.get("Idempotency-Key")
            if request.method not in WRITE_METHODS or key is None:
                return await handler(request)
            if not key.strip() or len(key) > MAX_KEY_LENGTH:
                raise HttpError(
                    400,
                    self._invalid_key_code,
                    f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters",
                )
            fp = fingerprint(request.method, request.path, await request.read())
            while True:
                entry = self._entries.get(key)
                if entry is None:
                    return await self._run_first(key, fp, request, handler)
                if entry.fingerprint != fp:
                    raise HttpError(
                        422,
                        self._conflict_code,
                        "Idempotency-Key was already used with a different request",
                    )
                if isinstance(entry, StoredResponse):
                    return _replay(entry)
                stored = await asyncio.shield(entry.done)
                if stored is not None:
                    return _replay(stored)

        return middleware

    async def _run_first(
        self, key: str, fp: str, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        done: asyncio.Future[StoredResponse | None] = asyncio.get_running_loop().create_future()
        self._entries[key] = _InFlight(fp, done)
        stored: StoredResponse | None = None
        try:
            response = await handler(request)
            if isinstance(response, web.Response) and isinstance(response.body, bytes):
                stored = StoredResponse(
                    fingerprint=fp,
                    status=response.status,
                    body=response.body,
                    content_type=response.content_type,
                    charset=response.charset,
                )
            return response
        finally:
            if stored is None:
                del self._entries[key]
            else:
                self._entries[key] = stored
            done.set_result(stored)
            if stored is not None and self._on_store is not None:
                self._on_store()


def _replay(stored: StoredResponse) -> web.Response:
    return web.Response(
        body=stored.body,
        status=stored.status,
        content_type=stored.content_type,
        charset=stored.charset,
        headers={"Idempotent-Replayed": "true"},
    )
