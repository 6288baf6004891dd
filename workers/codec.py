"""AES-GCM payload encryption: what Temporal stores of our payloads is ciphertext.

An encrypted payload has the metadata ``encoding: binary/encrypted`` and
``encryption-key-id: <id>``; its data is a 12-byte random nonce followed by
AES-256-GCM(key, nonce, the original ``Payload`` serialized, associated data = the key id).

Guarantees:
- ``encode`` encrypts every payload with the keyring's *current* key; ``decode`` decrypts with
  whichever key the payload names, so a key can be rotated without touching old histories
  (keep the old key in the ring for as long as histories encrypted with it are kept).
- A payload whose ciphertext, nonce or key id was altered is refused (``DecryptionFailed``);
  a payload naming a key the ring lacks is refused with ``UnknownEncryptionKey``, which names
  the id and the ids the ring has, never key material.
- Payloads without ``binary/encrypted`` pass ``decode`` unchanged, so histories written before
  encryption was switched on stay readable.
- Keys are held as ``SecretStr`` in settings and as bytes inside the codec only; no message,
  ``repr`` or log line of this module contains them.

Settings (environment, prefix ``BORDERFLOW_``): ``ENCRYPTION_KEYS="k2:<base64 32 bytes>,k1:…"``
and ``ENCRYPTION_KEY_ID=k2`` (default: the first key listed). No keys: no encryption.
"""

import base64
import binascii
import os
import re
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID_METADATA = "encryption-key-id"
NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class KeyringError(ValueError):
    """The configured keys cannot be used; the message never contains key material."""


class UnknownEncryptionKey(KeyringError):
    """A payload names a key id that the keyring does not have."""


class DecryptionFailed(ValueError):
    """A payload's ciphertext does not authenticate (tampered, truncated, or a wrong key)."""


class EncryptionSettings(BaseSettings):
    """Which keys encrypt payloads (environment variables prefixed ``BORDERFLOW_``)."""

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_", extra="ignore")

    encryption_keys: SecretStr | None = None
    """``id:base64key,id:base64key``: every key that may decrypt; each key is 32 bytes."""
    encryption_key_id: str | None = None
    """The key that encrypts new payloads; default: the first one in ``encryption_keys``."""


def generate_key() -> str:
    """A new random AES-256 key, base64-encoded (what ``BORDERFLOW_ENCRYPTION_KEYS`` takes)."""
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _decode_key(key_id: str, text: str) -> bytes:
    normalized = text.strip().replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(normalized, validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"encryption key {key_id!r} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyringError(
            f"encryption key {key_id!r} is {len(key)} bytes long; AES-256 needs {KEY_BYTES}"
        )
    return key


class Keyring:
    """Named AES-256 keys and the one that encrypts. Build with :meth:`parse`."""

    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        if current not in keys:
            raise KeyringError(
                f"the current encryption key {current!r} is not among the keys "
                f"({', '.join(sorted(keys))})"
            )
        self._ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = current

    @classmethod
    def parse(cls, spec: str, current: str | None = None) -> "Keyring":
        """``"k2:<base64>,k1:<base64>"``; ``current`` defaults to the first id."""
        keys: dict[str, bytes] = {}
        for entry in (part.strip() for part in spec.split(",")):
            if not entry:
                continue
            key_id, sep, text = entry.partition(":")
            key_id = key_id.strip()
            if not sep or not _KEY_ID.match(key_id):
                raise KeyringError(
                    "each encryption key reads <id>:<base64 key>, the id made of letters, "
                    "digits, '.', '_' or '-'"
                )
            if key_id in keys:
                raise KeyringError(f"encryption key id {key_id!r} appears twice")
            keys[key_id] = _decode_key(key_id, text)
        if not keys:
            raise KeyringError("no encryption key given")
        return cls(keys, current or next(iter(keys)))

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    def __repr__(self) -> str:
        return f"Keyring(key_ids={self.key_ids!r}, current={self.current!r})"

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._ciphers[self.current].encrypt(nonce, plaintext, self.current.encode())
        return self.current, nonce + sealed

    def decrypt(self, key_id: str, data: bytes) -> bytes:
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownEncryptionKey(
                f"payload encrypted with key {key_id!r}, which this keyring does not have "
                f"(it has {', '.join(self.key_ids)}): add that key to BORDERFLOW_ENCRYPTION_KEYS"
            )
        if len(data) <= NONCE_BYTES:
            raise DecryptionFailed(f"encrypted payload too short ({len(data)} bytes)")
        try:
            return cipher.decrypt(data[:NONCE_BYTES], data[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            raise DecryptionFailed(
                f"encrypted payload (key {key_id!r}) does not authenticate: altered or corrupt"
            ) from None


class EncryptionCodec(PayloadCodec):
    """Temporal payload codec: AES-256-GCM with a rotating keyring (see the module doc)."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self.decrypt(payload) for payload in payloads]

    def encrypt(self, payload: Payload) -> Payload:
        key_id, data = self.keyring.encrypt(payload.SerializeToString())
        return Payload(metadata={"encoding": ENCODING, KEY_ID_METADATA: key_id.encode()}, data=data)

    def decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload
        raw_id = payload.metadata.get(KEY_ID_METADATA)
        if raw_id is None:
            raise DecryptionFailed(f"encrypted payload without {KEY_ID_METADATA!r} metadata")
        plaintext = self.keyring.decrypt(raw_id.decode(errors="replace"), payload.data)
        decrypted = Payload()
        decrypted.ParseFromString(plaintext)
        return decrypted


def codec_from_settings(settings: EncryptionSettings) -> EncryptionCodec | None:
    """The codec the settings ask for, or ``None`` when no key is configured."""
    spec = settings.encryption_keys.get_secret_value() if settings.encryption_keys else ""
    if not spec.strip():
        if settings.encryption_key_id:
            raise KeyringError("BORDERFLOW_ENCRYPTION_KEY_ID is set but no encryption key is")
        return None
    return EncryptionCodec(Keyring.parse(spec, settings.encryption_key_id))
