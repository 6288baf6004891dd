"""The toy partner plugin (``tests/plugins/toy_partner``), installed the way pip installs it.

:func:`install` writes the distribution's ``.dist-info`` (its metadata and the entry points of
its ``pyproject.toml``: the one registry line) into a site directory and returns the
``PYTHONPATH`` that makes it importable and discoverable, for the processes ``borderflow up``
starts. :func:`registered` does the same for this process, for as long as the block runs.
"""

import os
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from canonical.partners import ENTRY_POINT_GROUP, partners

PLUGIN = Path(__file__).parent / "plugins" / "toy_partner"


def install(site: Path) -> str:
    """Install the plugin's metadata into ``site``; the ``PYTHONPATH`` it needs."""
    project = tomllib.loads((PLUGIN / "pyproject.toml").read_text())["project"]
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    points = project["entry-points"][ENTRY_POINT_GROUP]
    lines = [f"[{ENTRY_POINT_GROUP}]", *(f"{name} = {value}" for name, value in points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return os.pathsep.join([str(site), str(PLUGIN)])


@contextmanager
def registered(pythonpath: str) -> Iterator[None]:
    """This process sees the plugin while the block runs (the registry is read again)."""
    entries = pythonpath.split(os.pathsep)
    sys.path[:0] = entries
    partners.cache_clear()
    try:
        yield
    finally:
        for entry in entries:
            sys.path.remove(entry)
        for name in [m for m in sys.modules if m == "toy_partner" or m.startswith("toy_partner.")]:
            del sys.modules[name]
        partners.cache_clear()
