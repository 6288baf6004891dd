"""Masking secrets and personal data before anything is logged or stored in the audit trail.

Two rules, applied everywhere (log lines, log ``extra`` fields, audit summaries):
- by key: the value of a key that names a secret (``Authorization``, ``api_key``, ``password``,
  ``token``, ``signature``, cookies, …) or personal data (names, addresses, e-mail, phone, tax
  ids) is replaced by ``***``, whatever it is;
- by pattern, in any text: e-mail addresses, phone numbers (international ``+``/``00`` form
  and the US ``(617) 555-0100`` / ``617-555-0100`` forms), bearer tokens, our ``bf_`` API
  tokens, and ``key=value`` pairs whose key names a secret.

Masking errs on the side of hiding: a product ``name`` is masked as well as a party's.
"""

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

MASK = "***"

SECRET_FRAGMENTS = (
    "authorization", "password", "passwd", "secret", "token", "api_key", "apikey",
    "signature", "cookie", "credential", "private_key",
)  # fmt: skip
PERSONAL_KEYS = frozenset({
    "name", "names", "first_name", "last_name", "full_name", "contact", "contact_name",
    "attention", "email", "email_from", "phone", "mobile", "fax", "street", "street2", "street3",
    "address", "addresses", "address_lines", "lines", "city", "zip", "zip_code", "postal_code",
    "postcode", "vat", "tax_id",
})  # fmt: skip
NOT_SECRET = frozenset({"token_id", "idempotency_key", "dedupe_key"})

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_API_TOKEN = re.compile(r"\bbf_[A-Za-z0-9]+\.[A-Za-z0-9_-]+")
_SECRET_PAIR = re.compile(
    r"(?i)\b([\w-]*(?:password|passwd|secret|token|api[_-]?key|signature|authorization))"
    r"(\"?\s*[=:]\s*)(\"?)[^\s\",;&]+"
)
_INTL_PHONE = re.compile(r"(?<![\w+])(?:\+|00)\d{1,3}(?:[\s./-]?\(?\d{1,6}\)?){1,6}(?![\w])")
_US_PHONE = re.compile(r"(?<![\w-])(?:\(\d{3}\)\s?|\d{3}[.-])\d{3}[.-]\d{4}(?![\w-])")
MIN_PHONE_DIGITS = 7


def _normal(key: str) -> str:
    return key.strip().lower().replace("-", "_")


def is_secret_key(key: str) -> bool:
    normal = _normal(key)
    if normal in NOT_SECRET:
        return False
    return any(fragment in normal for fragment in SECRET_FRAGMENTS)


def is_sensitive_key(key: str) -> bool:
    """True for a key whose value is a secret or personal data (masked whatever it holds)."""
    return is_secret_key(key) or _normal(key) in PERSONAL_KEYS


def _phone(match: re.Match[str]) -> str:
    digits = sum(char.isdigit() for char in match.group(0))
    return MASK if digits >= MIN_PHONE_DIGITS else match.group(0)


def mask_text(text: str) -> str:
    """``text`` with e-mails, phone numbers, bearer/API tokens and ``secret=…`` pairs masked."""
    text = _BEARER.sub(lambda m: f"{m.group(1)} {MASK}", text)
    text = _API_TOKEN.sub(f"bf_{MASK}", text)
    text = _SECRET_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}{MASK}", text)
    text = _EMAIL.sub(MASK, text)
    text = _INTL_PHONE.sub(_phone, text)
    return _US_PHONE.sub(MASK, text)


def mask(value: Any) -> Any:
    """A JSON-ready copy of ``value`` with sensitive keys and patterns masked (recursively)."""
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {
            str(key): MASK if is_sensitive_key(str(key)) else mask(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [mask(item) for item in value]
    if isinstance(value, str):
        return mask_text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return mask_text(str(value))


def summarize(value: Any, *, limit: int = 400) -> str:
    """A short, masked, one-line JSON summary: top-level fields only, nested ones abridged."""
    masked = mask(value)
    if isinstance(masked, dict):
        masked = {key: _abridge(item) for key, item in masked.items()}
    elif isinstance(masked, list):
        masked = [_abridge(item) for item in masked]
    text = json.dumps(masked, ensure_ascii=False, separators=(",", ":"), default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _abridge(value: Any) -> Any:
    if isinstance(value, dict):
        return "{…}"
    if isinstance(value, list):
        return f"[{len(value)} item(s)]"
    return value
