"""Timestamps and random identifiers shared by the simulators."""

import secrets
import string
from datetime import UTC, datetime

_ALNUM_UPPER = string.ascii_uppercase + string.digits


def utc_now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def iso_now() -> str:
    """The current time as ISO 8601 with an explicit ``+00:00`` offset, second precision."""
    return utc_now().isoformat(timespec="seconds")


def random_id(prefix: str) -> str:
    """A fresh opaque identifier such as ``shp_3f2c…`` (32 hex characters after the prefix)."""
    return f"{prefix}_{secrets.token_hex(16)}"


def random_alnum_upper(length: int) -> str:
    """``length`` random characters from ``A-Z0-9``."""
    return "".join(secrets.choice(_ALNUM_UPPER) for _ in range(length))
