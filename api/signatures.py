"""Webhook signature checks, each on the raw body before anything parses it.

Comparisons are constant-time. Both functions return False (never raise) for a missing or
malformed header, so every failure is the same 401. A signature is lowercase hex of a fixed
length and a timestamp is ASCII digits: anything else (non-ASCII text, undecodable bytes,
Unicode digits such as ``١٢٣``, a value of thousands of digits) is refused before any
comparison or conversion, since ``hmac.compare_digest`` raises on non-ASCII text and ``int``
on huge numbers.
"""

import hashlib
import hmac
import re
import time
import unicodedata
from collections.abc import Mapping

HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
"""A hex HMAC-SHA256, as both partners send it (``re`` character classes are ASCII-only)."""
TIMESTAMP = re.compile(r"[0-9]{1,12}")
"""Unix seconds, ASCII digits only (twelve digits reach the year 33658)."""


def _hex_hmac(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _matches(expected: str, presented: str) -> bool:
    """Constant-time equality of hex digests; False for anything that is not one."""
    return HEX_SHA256.fullmatch(presented) is not None and hmac.compare_digest(presented, expected)


def verify_easypost(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """EasyPost: ``X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256(secret, body)>``.

    EasyPost normalises the secret to Unicode NFKD before signing; so do we.
    """
    header = headers.get("X-Hmac-Signature", "")
    prefix = "hmac-sha256-hex="
    if not header.startswith(prefix):
        return False
    key = unicodedata.normalize("NFKD", secret).encode()
    return _matches(_hex_hmac(key, body), header[len(prefix) :])


def verify_broker(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance_s: int = 300,
    now: float | None = None,
) -> bool:
    """Broker: ``X-Broker-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.

    The signed timestamp must be within ``tolerance_s`` of now, either way (replay guard).
    """
    fields = dict(
        part.split("=", 1)
        for part in headers.get("X-Broker-Signature", "").split(",")
        if "=" in part
    )
    timestamp, signature = fields.get("t", ""), fields.get("v1", "")
    if TIMESTAMP.fullmatch(timestamp) is None or HEX_SHA256.fullmatch(signature) is None:
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_s:
        return False
    expected = _hex_hmac(secret.encode(), timestamp.encode() + b"." + body)
    return _matches(expected, signature)
