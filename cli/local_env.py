"""The local platform's private settings file (``<data_dir>/local.env``, mode 0600).

``borderflow up`` keeps there what must survive a restart and must never be in code or logs:
the partner simulators' secrets, the encryption keys (once a history is encrypted, the keys
must stay), and two API tokens (an admin token for the demo and the CLI, a ``codec`` token —
decode only, refused by the API — to sign the browser in to the codec server for the Temporal
UI). Tokens are stored hashed in our store; the file holds the only clear copy, and a token
that is no longer valid there is replaced.

A secret set in the environment wins over the file's, as every other setting does
(:func:`environment_wins`); the file keeps its own value and never copies the environment's.
"""

import base64
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from api.webhook_partners import WEBHOOK_PARTNERS
from canonical.partners import partners
from store.db import make_engine
from store.tokens import Role, authenticate, create_token
from workers.codec import generate_key

BASE64_SECRETS = frozenset(d.secret_env for d in WEBHOOK_PARTNERS if d.base64_secret)
"""Secrets that are bytes, kept base64-encoded (a DCSA subscription's)."""
SECRET_NAMES = tuple(
    dict.fromkeys((
        *(env for p in partners() for env in p.secret_envs),
        *(declaration.secret_env for declaration in WEBHOOK_PARTNERS),
    ))
)  # fmt: skip
"""Every partner credential ``borderflow up`` generates, each once: every registry partner's
credentials (:attr:`~canonical.partner_descriptor.Partner.secret_envs`, which its simulator
checks; a plugin's too) and every webhook partner's current secret
(``api/webhook_partners.py``). The ``_PREVIOUS`` secrets of a rotation are an operator's to
set, never generated."""
ENCRYPTION_NAMES = ("BORDERFLOW_ENCRYPTION_KEYS", "BORDERFLOW_ENCRYPTION_KEY_ID")
ADMIN_TOKEN = "BORDERFLOW_API_TOKEN"
CODEC_TOKEN = "BORDERFLOW_CODEC_UI_TOKEN"
TOKEN_LABELS = {
    ADMIN_TOKEN: "local platform (borderflow up)",
    CODEC_TOKEN: "local Temporal UI codec (borderflow up)",
}


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of ``path`` (none when it does not exist; comments skipped)."""
    if not path.exists():
        return {}
    pairs = (line.partition("=") for line in path.read_text().splitlines())
    return {key: value for key, sep, value in pairs if sep and not key.startswith("#")}


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """Replace ``path`` with ``values`` atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_suffix(".tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("# Written by `borderflow up`: this machine's local platform. Keep private.\n")
        handle.writelines(f"{key}={value}\n" for key, value in sorted(values.items()))
    os.replace(temp, path)


def new_secret(name: str) -> str:
    """A fresh random value for the secret ``name`` (192 bits; a DCSA key 64 bytes, base64,
    the length DCSA's reference implementation requires of an HMAC-SHA256 key)."""
    if name in BASE64_SECRETS:
        return base64.b64encode(secrets.token_bytes(64)).decode("ascii")
    return secrets.token_urlsafe(24)


def load_or_create_secrets(path: Path) -> dict[str, str]:
    """The partner secrets: read from ``path``, any missing one generated."""
    existing = read_env_file(path)
    return {name: existing.get(name) or new_secret(name) for name in SECRET_NAMES}


def environment_wins(kept: dict[str, str], environ: Mapping[str, str]) -> dict[str, str]:
    """``kept`` (what ``local.env`` holds) with every value the environment sets (non-empty)
    replaced by the environment's."""
    return {name: environ.get(name) or value for name, value in kept.items()}


def local_encryption(env_file: Path, wanted: bool) -> dict[str, str]:
    """The encryption keys: those in ``env_file`` (once there, encryption stays on: the
    histories need them), else a new key when ``wanted``, else none."""
    existing = read_env_file(env_file)
    keys = {name: existing[name] for name in ENCRYPTION_NAMES if existing.get(name)}
    if keys or not wanted:
        return keys
    return {"BORDERFLOW_ENCRYPTION_KEYS": f"local1:{generate_key()}"}


def local_token(database_url: str, env_file: Path, name: str, role: Role) -> str:
    """The token kept in ``env_file`` under ``name`` while the store still knows it with
    ``role``; else a new one with that role (created in the store, hashed)."""
    engine = make_engine(database_url)
    try:
        existing = read_env_file(env_file).get(name, "")
        row = authenticate(engine, existing) if existing else None
        if row is not None and row.role == role:
            return existing
        _, token = create_token(engine, role, TOKEN_LABELS[name])
        return token
    finally:
        engine.dispose()


__all__ = [
    "ADMIN_TOKEN",
    "BASE64_SECRETS",
    "CODEC_TOKEN",
    "ENCRYPTION_NAMES",
    "SECRET_NAMES",
    "TOKEN_LABELS",
    "environment_wins",
    "load_or_create_secrets",
    "local_encryption",
    "local_token",
    "new_secret",
    "read_env_file",
    "write_env_file",
]
