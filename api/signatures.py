"""Webhook signature checks, each on the raw body before anything parses it.

Comparisons are constant-time. Both functions return False (never raise) for a missing or
malformed header, so every failure is the same 401.
"""

import hashlib
import hmac
import time
import unicodedata
from collections.abc import Mapping


def _hex_hmac(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def verify_easypost(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """EasyPost: ``X-Hmac-Signature: hmac-sha256-hex=<hex HMAC-SHA256(secret, body)>``.

    EasyPost normalises the secret to Unicode NFKD before signing; so do we.
    """
    header = headers.get("X-Hmac-Signature", "")
    prefix = "hmac-sha256-hex="
    if not header.startswith(prefix):
        return False
    key = unicodedata.normalize("NFKD", secret).encode()
    return hmac.compare_digest(header[len(prefix) :], _hex_hmac(key, body))


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
    if not timestamp.isdigit() or not signature:
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_s:
        return False
    expected = _hex_hmac(secret.encode(), timestamp.encode() + b"." + body)
    return hmac.compare_digest(signature, expected)
