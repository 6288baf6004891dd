"""Webhook signatures, exactly as documented in ``docs/partners.md``.

Pure functions: the same inputs always give the same header value. The API verifies these
independently; nothing here is shared with it.
"""

import hashlib
import hmac


def sign_easypost(secret: bytes, body: bytes) -> str:
    """Return the ``X-Hmac-Signature`` header value: ``hmac-sha256-hex=<hex>`` over the raw body."""
    digest = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return f"hmac-sha256-hex={digest}"


def sign_broker(secret: bytes, body: bytes, timestamp: int) -> str:
    """Return the ``X-Broker-Signature`` header value: ``t=<unix>,v1=<hex>``.

    The MAC is HMAC-SHA256 over ``b"<timestamp>." + body``.
    """
    signed = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
