"""Text output of the ops commands: tables, pages, and the one timestamp format.

Guarantees: every timestamp a command prints goes through :func:`moment`, so it reads the same
everywhere: ISO 8601 to the second with the offset the API gave (``2026-11-23T11:00:00+01:00``),
or, with ``--utc``, the same instant in UTC (``2026-11-23T10:00:00Z``). A value that is not a
date-time is printed as it came. ``None`` prints as ``-`` in tables.
"""

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["given", "moment", "page_text", "table"]


def moment(value: object, utc: bool = False) -> str:
    """An API timestamp as printed: ISO 8601 with its offset, or in UTC (``Z``) when ``utc``."""
    if value is None:
        return "-"
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if at.tzinfo is None:  # the API always answers with an offset; never guess one
        return at.replace(microsecond=0).isoformat()
    at = at.replace(microsecond=0)
    if utc:
        return at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return at.isoformat()


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[("-" if value is None else str(value)) for value in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    lines = [headers, *cells]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)  # fmt: skip


def page_text(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, empty: str, more: str | None
) -> str:
    """One page as a table (``empty`` when it has no rows), and how to ask for the next one."""
    text = table(headers, rows) if rows else empty
    return f"{text}\nmore: {more}" if more else text


def given(**values: object) -> dict[str, Any]:
    """The values that are not ``None``."""
    return {key: value for key, value in values.items() if value is not None}
