"""Webhook signature checks, each on the raw body before anything parses it, against one
secret (during a rotation a partner has two, each tried: ``api/webhook_auth.py``).

Comparisons are constant-time. Every function returns False (never raises) for a missing or
malformed header, so every failure is the same 401. A signature is hex (or base64) of a fixed
length and a timestamp is ASCII digits: anything else (non-ASCII text, undecodable bytes,
Unicode digits such as ``١٢٣``, a value of thousands of digits) is refused before any
comparison or conversion, since ``hmac.compare_digest`` raises on non-ASCII text and ``int``
on huge numbers. A shared token is compared as UTF-8 bytes, so any text is safe to compare.
"""

import base64
import binascii
import hashlib
import hmac
import re
import time
import unicodedata
from collections.abc import Mapping

HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
"""A hex HMAC-SHA256, as EasyPost and the broker send it (``re`` classes are ASCII-only)."""
ANY_CASE_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
"""DCSA's hex (the reference implementation decodes either case)."""
BASE64_SHA256 = re.compile(r"[A-Za-z0-9+/]{43}=")
"""A base64 HMAC-SHA256 (32 bytes: 43 characters and one ``=``), as AfterShip sends it."""
TIMESTAMP = re.compile(r"[0-9]{1,12}")
"""Unix seconds, ASCII digits only (twelve digits reach the year 33658)."""
MAX_TOKEN_CHARS = 512
"""A presented shared token longer than this is refused without comparing it."""


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


def verify_aftership(secret: str, headers: Mapping[str, str], body: bytes) -> bool:
    """AfterShip: ``aftership-hmac-sha256: <base64 HMAC-SHA256(secret, body)>``
    (https://www.aftership.com/docs/tracking/webhook/webhook-signature)."""
    presented = headers.get("aftership-hmac-sha256", "")
    if BASE64_SHA256.fullmatch(presented) is None:
        return False
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return hmac.compare_digest(presented, base64.b64encode(digest).decode("ascii"))


def dcsa_key(secret: str) -> bytes:
    """The HMAC key of a DCSA subscription: its ``secret`` is bytes, given base64-encoded (as
    the subscription's JSON carries it). Raises ``ValueError`` for anything else."""
    try:
        key = base64.b64decode(secret.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as err:
        raise ValueError("a DCSA subscription secret is base64") from err
    if not key:
        raise ValueError("a DCSA subscription secret is not empty")
    return key


def verify_dcsa(key: bytes, headers: Mapping[str, str], body: bytes) -> bool:
    """DCSA TNT 2.2/3.0 subscription callbacks: ``Notification-Signature: sha256=<hex
    HMAC-SHA256(key, body)>``, ``key`` the subscription's secret bytes (:func:`dcsa_key`)."""
    header = headers.get("Notification-Signature", "").strip()
    method, sep, presented = header.partition("=")
    if not sep or method.lower() != "sha256":
        return False
    if ANY_CASE_HEX_SHA256.fullmatch(presented) is None:
        return False
    return _matches(_hex_hmac(key, body), presented.lower())


def verify_token(secret: str, presented: str) -> bool:
    """A shared secret the partner sends as is (a header, or Shippo's ``?token=``): equal to
    ``secret``, compared in constant time. An empty secret never matches."""
    if not secret or not presented or len(presented) > MAX_TOKEN_CHARS:
        return False
    try:  # a header aiohttp could not decode carries surrogates
        given = presented.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(given, secret.encode())
