"""JSON state files of the simulators: atomic, private, optional, written by group commit.

Guarantees:

* Atomic and private: :func:`save_json` writes a temporary file in the same directory (mode
  ``0600``), flushes and fsyncs it, then ``os.replace``-s it over the target, so a crash
  leaves either the old or the new state, never a torn file.
* Coalesced: :meth:`StateFile.save` only marks the state changed. A background flusher
  writes one snapshot of the whole state as soon as it is idle, then rests ``rest_factor``
  times as long as that snapshot took, but never more than ``interval`` seconds, before the
  next one; any number of changes made meanwhile share that next snapshot. So snapshots take
  at most ``1 / (1 + rest_factor)`` of the time (20 %) while they are cheap, and at most
  ``1 / interval`` happen per second once they are not, whatever the write rate and however
  big the state (each snapshot still costs in proportion to the state; no write costs a
  rewrite of its own any more). A lone writer on a small state waits a few milliseconds.
* Group commit: :meth:`StateFile.middleware` sends the answer to every write request (POST,
  PUT, PATCH, DELETE) only once every change made before it is on disk, so **an answered
  write survives a crash at any moment after the answer** (it waits at most ``interval``
  plus two snapshots). GET answers do not wait. Changes made outside requests (story steps,
  webhook bookkeeping) reach the disk within ``interval`` plus one snapshot.
* :meth:`StateFile.close` (app cleanup, so SIGTERM/SIGINT) writes whatever is left.
  Without a running event loop, or after ``close``, :meth:`StateFile.save` writes at once.
* :attr:`StateFile.flushes` counts the snapshots written. Without a path nothing is written
  and nothing waits, so simulators call all of this unconditionally.
"""

import asyncio
import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

logger = logging.getLogger(__name__)

STATE_FORMAT = 1
DEFAULT_INTERVAL = 0.25
REST_FACTOR = 4.0
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def load_json(path: Path) -> dict[str, Any] | None:
    """The saved object, or ``None`` when the file does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a simulator state file")
    return data


def write_atomic(path: Path, body: bytes) -> None:
    """Replace ``path`` by ``body`` atomically (temp file, fsync, rename), mode ``0600``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def encode(data: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as the state files hold it."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def save_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically with mode ``0600``."""
    write_atomic(path, encode(data))


class StateFile:
    """One simulator's state file: ``dump()`` is written after :meth:`save` (when a path is set)."""

    def __init__(
        self,
        path: Path | None,
        dump: Callable[[], dict[str, Any]],
        *,
        interval: float = DEFAULT_INTERVAL,
    ) -> None:
        self.path = path
        self.interval = interval
        self.rest_factor = REST_FACTOR
        """The flusher rests this many times as long as its last snapshot took (≤ interval)."""
        self.flushes = 0
        """Snapshots written so far."""
        self._dump = dump
        self._changes = 0  # number of save() calls so far
        self._written = 0  # the value of _changes the file on disk reflects
        self._waiters: list[tuple[int, asyncio.Future[None]]] = []
        self._wake: asyncio.Event | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._writing: asyncio.Future[None] | None = None
        self._closed = False

    def load(self) -> dict[str, Any] | None:
        """The saved state (format-checked), or ``None`` without a path or a file."""
        if self.path is None:
            return None
        data = load_json(self.path)
        if data is None:
            return None
        if data.get("format") != STATE_FORMAT:
            raise ValueError(f"{self.path}: unsupported state format {data.get('format')!r}")
        logger.info("loaded simulator state from %s", self.path)
        return data

    def save(self) -> None:
        """Mark the state changed: it is written soon (no-op without a path)."""
        if self.path is None:
            return
        self._changes += 1
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or self._closed:
            self.write_now()
            return
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._flusher is None:
            self._flusher = loop.create_task(self._run(), name=f"state-file:{self.path.name}")

    @property
    def dirty(self) -> bool:
        """Whether some change is not on disk yet."""
        return self._written < self._changes

    async def durable(self) -> None:
        """Return once every change saved so far is on disk (raises if writing it failed)."""
        if not self.dirty:
            return
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append((self._changes, done))
        await done

    def write_now(self) -> None:
        """Write the current state synchronously (only before serving or after :meth:`close`)."""
        if self.path is None:
            return
        target = self._changes
        save_json(self.path, {"format": STATE_FORMAT, **self._dump()})
        self._done(target, None)

    async def close(self) -> None:
        """Stop the flusher and write what is not on disk yet (idempotent)."""
        self._closed = True
        flusher, self._flusher = self._flusher, None
        if flusher is not None:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
        if self._writing is not None:  # a write the flusher had started: let it land first
            with contextlib.suppress(Exception):
                await self._writing
        if self.dirty:
            self.write_now()

    async def on_cleanup(self, app: web.Application) -> None:
        """``app.on_cleanup`` hook: :meth:`close`."""
        await self.close()

    def middleware(self) -> Middleware:
        """Hold the answer to a write request until the state it leaves is on disk."""

        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            response = await handler(request)
            if request.method in WRITE_METHODS:
                await self.durable()
            return response

        return middleware

    async def _run(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            started = loop.time()
            await self._flush()
            took = loop.time() - started
            await asyncio.sleep(min(self.interval, self.rest_factor * took))

    async def _flush(self) -> None:
        assert self.path is not None
        target = self._changes
        try:
            body = encode({"format": STATE_FORMAT, **self._dump()})  # on the loop: consistent
            self._writing = asyncio.ensure_future(asyncio.to_thread(write_atomic, self.path, body))
            await asyncio.shield(self._writing)
        except Exception as exc:
            logger.exception("cannot write the simulator state to %s", self.path)
            assert self._wake is not None
            self._wake.set()  # try again after the interval
            self._done(target, exc)
            return
        finally:
            if self._writing is not None and self._writing.done():
                self._writing = None
        self._done(target, None)

    def _done(self, target: int, error: Exception | None) -> None:
        if error is None:
            self._written = max(self._written, target)
            self.flushes += 1
        waiting = []
        for wanted, future in self._waiters:
            if wanted > target:
                waiting.append((wanted, future))
            elif not future.done():
                if error is None:
                    future.set_result(None)
                else:
                    future.set_exception(error)
        self._waiters = waiting
