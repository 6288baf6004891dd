"""Webhook signatures, exactly as the vendors document them (and ``docs/partners.md``).

Pure functions: the same inputs always give the same header value. The API verifies these
independently; nothing here is shared with it.
"""

import base64
import hashlib
import hmac
import unicodedata


def _text(secret: str | bytes) -> str:
    return secret if isinstance(secret, str) else secret.decode("utf-8")


def sign_easypost(secret: str | bytes, body: bytes) -> str:
    """Return the ``X-Hmac-Signature`` header value: ``hmac-sha256-hex=<hex>`` over the raw body.

    As EasyPost does, the secret (text, or its UTF-8 bytes) is normalized to Unicode NFKD and
    UTF-8 encoded before it keys the HMAC: ``"ﬁ"`` signs as ``"fi"``.
    """
    key = unicodedata.normalize("NFKD", _text(secret)).encode("utf-8")
    digest = hmac.new(key, body, hashlib.sha256).hexdigest()
    return f"hmac-sha256-hex={digest}"


def sign_broker(secret: bytes, body: bytes, timestamp: int) -> str:
    """Return the ``X-Broker-Signature`` header value: ``t=<unix>,v1=<hex>``.

    The MAC is HMAC-SHA256 over ``b"<timestamp>." + body``.
    """
    signed = str(timestamp).encode("ascii") + b"." + body
    digest = hmac.new(secret, signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def sign_aftership(secret: str | bytes, body: bytes) -> str:
    """Return the ``aftership-hmac-sha256`` header value: base64 HMAC-SHA256 of the raw body,
    keyed by the webhook secret's UTF-8 bytes
    (https://www.aftership.com/docs/tracking/webhook/webhook-signature)."""
    key = _text(secret).encode("utf-8")
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode("ascii")


def sign_dcsa(secret_base64: str, body: bytes) -> str:
    """Return the ``Notification-Signature`` header value of a DCSA TNT subscription callback:
    ``sha256=<hex HMAC-SHA256>`` of the raw body, keyed by the subscription's secret bytes
    (given base64-encoded, as the subscription's JSON carries them; DCSA's reference
    implementation, ``dcsaorg/DCSA-Event-Core`` ``MessageSignatureHandler``)."""
    key = base64.b64decode(secret_base64, validate=True)
    return "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
