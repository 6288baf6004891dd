"""JSON state files of the simulators: atomic, private, and optional.

Guarantees: :func:`save_json` writes a temporary file in the same directory (mode ``0600``),
flushes and fsyncs it, then ``os.replace``-s it over the target, so a crash leaves either the
old or the new state, never a torn file, and other users cannot read it. :class:`StateFile`
does nothing when no path is configured, so simulators call it unconditionally.
"""

import json
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

STATE_FORMAT = 1


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


def save_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically with mode ``0600``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, ensure_ascii=False, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class StateFile:
    """One simulator's state file: ``dump()`` is saved by :meth:`save` (when a path is set)."""

    def __init__(self, path: Path | None, dump: Callable[[], dict[str, Any]]) -> None:
        self.path = path
        self._dump = dump

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
        """Write the current state (no-op without a path)."""
        if self.path is not None:
            save_json(self.path, {"format": STATE_FORMAT, **self._dump()})
