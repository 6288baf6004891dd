"""Helpers shared by several test folders (importable: tests/ is on sys.path via rootdir)."""

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from sqlalchemy.engine import Engine

from bench.ports import free_port
from store.db import make_engine
from store.migrate import upgrade

__all__ = ["free_port", "migrated_engine"]
"""``free_port`` is the benchmarks' (one implementation: see ``bench/ports.py``)."""


def migrated_engine(url: str) -> Engine:
    """The engine of the store at ``url``, migrated to head first (``borderflow db upgrade``).

    Every test store is made this way, never by ``create_all``: tests run on the schema the
    migrations make. A new SQLite file starts as a copy of one migrated once per session (the
    migrations' table copies cost ~100 ms a store; the copy ~5 ms), then is upgraded, a no-op.
    """
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_migrated_sqlite(), path)
    upgrade(url)
    return make_engine(url)


@functools.cache
def _migrated_sqlite() -> Path:
    directory = Path(tempfile.mkdtemp(prefix="borderflow-store-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    upgrade(f"sqlite:///{directory / 'store.db'}")  # its engine is disposed: no WAL left
    return directory / "store.db"
