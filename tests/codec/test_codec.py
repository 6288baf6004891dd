"""The AES-GCM payload codec: round trip, key rotation, tampering, unknown keys, settings."""

import base64
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import BaseModel, SecretStr, ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError
from temporalio.service import TLSConfig

from workers.codec import (
    ENCODING,
    KEY_ID_METADATA,
    DecryptionFailed,
    EncryptionCodec,
    EncryptionSettings,
    Keyring,
    KeyringError,
    UnknownEncryptionKey,
    codec_from_settings,
    generate_key,
)
from workers.connection import ConnectionSettings
from workflows.client import data_converter

K1, K2 = generate_key(), generate_key()


class Order(BaseModel):
    order_ref: str
    customer: str
    value: Decimal


ORDER = Order(order_ref="S04711", customer="Müller Spedition GmbH", value=Decimal("1234.50"))


def settings(keys: str, current: str | None = None) -> ConnectionSettings:
    return ConnectionSettings(encryption_keys=SecretStr(keys), encryption_key_id=current)


async def test_round_trip_through_the_data_converter_leaves_no_plaintext() -> None:
    converter = data_converter(settings(f"k1:{K1}"))
    [payload] = await converter.encode([ORDER])
    assert payload.metadata["encoding"] == ENCODING
    assert payload.metadata[KEY_ID_METADATA] == b"k1"
    raw = payload.SerializeToString()
    for clear in (b"S04711", "Müller".encode(), b"1234.50", b"json/plain"):
        assert clear not in raw
    [back] = await converter.decode([payload], [Order])
    assert back == ORDER


async def test_failure_messages_and_details_are_encrypted_too() -> None:
    converter = data_converter(settings(f"k1:{K1}"))
    error = ApplicationError("order S04711 unknown to Odoo", ORDER, type="OrderNotFound")
    failure = Failure()
    await converter.encode_failure(error, failure)
    raw = failure.SerializeToString()
    assert b"S04711" not in raw and "Müller".encode() not in raw
    assert failure.message == "Encoded failure"  # the real one travels encrypted
    back = await converter.decode_failure(failure)
    assert isinstance(back, ApplicationError) and back.type == "OrderNotFound"
    assert back.message == "order S04711 unknown to Odoo"


async def test_two_encryptions_of_one_value_differ() -> None:
    converter = data_converter(settings(f"k1:{K1}"))
    first, second = await converter.encode([ORDER, ORDER])
    assert first.data != second.data  # a fresh nonce each time


async def test_rotation_old_key_still_decrypts_new_key_encrypts() -> None:
    old = data_converter(settings(f"k1:{K1}"))
    [before_rotation] = await old.encode([ORDER])

    rotated = data_converter(settings(f"k2:{K2},k1:{K1}", current="k2"))
    [after_rotation] = await rotated.encode([ORDER])
    assert after_rotation.metadata[KEY_ID_METADATA] == b"k2"
    assert await rotated.decode([before_rotation], [Order]) == [ORDER]
    assert await rotated.decode([after_rotation], [Order]) == [ORDER]

    # A process still on the old ring cannot read what the new key wrote, and says why.
    with pytest.raises(UnknownEncryptionKey, match=r"'k2'.*has k1"):
        await old.decode([after_rotation], [Order])


async def test_current_key_defaults_to_the_first_listed() -> None:
    codec = codec_from_settings(settings(f"k2:{K2},k1:{K1}"))
    assert codec is not None and codec.keyring.current == "k2"


async def test_tampered_ciphertext_is_refused() -> None:
    codec = EncryptionCodec(Keyring.parse(f"k1:{K1}"))
    [payload] = await codec.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"{}")])
    for position in (0, 12, len(payload.data) - 1):  # nonce, ciphertext, tag
        altered = Payload()
        altered.CopyFrom(payload)
        flipped = bytearray(payload.data)
        flipped[position] ^= 0x01
        altered.data = bytes(flipped)
        with pytest.raises(DecryptionFailed, match="does not authenticate"):
            await codec.decode([altered])
    truncated = Payload()
    truncated.CopyFrom(payload)
    truncated.data = payload.data[:8]
    with pytest.raises(DecryptionFailed, match="too short"):
        await codec.decode([truncated])


async def test_a_payload_relabelled_with_another_key_id_is_refused() -> None:
    codec = EncryptionCodec(Keyring.parse(f"k1:{K1},k2:{K2}"))
    [payload] = await codec.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"1")])
    payload.metadata[KEY_ID_METADATA] = b"k2"
    with pytest.raises(DecryptionFailed):
        await codec.decode([payload])


async def test_unknown_key_id_is_a_clear_error_without_key_material() -> None:
    writer = EncryptionCodec(Keyring.parse(f"gone:{K1}"))
    reader = EncryptionCodec(Keyring.parse(f"k2:{K2}"))
    [payload] = await writer.encode([Payload(metadata={"encoding": b"json/plain"}, data=b"1")])
    with pytest.raises(UnknownEncryptionKey) as caught:
        await reader.decode([payload])
    message = str(caught.value)
    assert "'gone'" in message and "BORDERFLOW_ENCRYPTION_KEYS" in message
    assert K1 not in message and K2 not in message


async def test_unencrypted_payloads_pass_decode_unchanged() -> None:
    codec = EncryptionCodec(Keyring.parse(f"k1:{K1}"))
    plain = Payload(metadata={"encoding": b"json/plain"}, data=b'"written before encryption"')
    assert await codec.decode([plain]) == [plain]


@pytest.mark.parametrize(
    ("spec", "current", "message"),
    [
        ("k1:not base64!", None, "not valid base64"),
        (f"k1:{base64.b64encode(b'short').decode()}", None, "5 bytes long"),
        (f"k1:{K1},k1:{K2}", None, "appears twice"),
        (f"k1:{K1}", "k9", "'k9' is not among the keys"),
        (K1, None, "<id>:<base64 key>"),
        ("", None, "no encryption key"),
    ],
)
def test_bad_keyrings_are_refused_without_echoing_keys(
    spec: str, current: str | None, message: str
) -> None:
    with pytest.raises(KeyringError, match=message) as caught:
        Keyring.parse(spec, current)
    assert K1 not in str(caught.value) and K2 not in str(caught.value)


def test_url_safe_base64_keys_are_accepted() -> None:
    raw = bytes(range(250, 256)) * 5 + b"\xfb\xff"  # has '+' and '/' in standard base64
    urlsafe = base64.urlsafe_b64encode(raw).decode()
    assert "-" in urlsafe or "_" in urlsafe
    assert Keyring.parse(f"k:{urlsafe}").key_ids == ["k"]


def test_keys_never_show_in_reprs() -> None:
    configured = settings(f"k2:{K2},k1:{K1}", current="k2")
    codec = codec_from_settings(configured)
    for text in (repr(configured), str(configured), repr(codec and codec.keyring)):
        assert K1 not in text and K2 not in text


def test_no_keys_means_no_codec_and_a_key_id_alone_is_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BORDERFLOW_ENCRYPTION_KEYS", raising=False)
    monkeypatch.delenv("BORDERFLOW_ENCRYPTION_KEY_ID", raising=False)
    assert codec_from_settings(EncryptionSettings()) is None
    assert data_converter(ConnectionSettings()).payload_codec is None
    with pytest.raises(KeyringError, match="KEY_ID is set"):
        codec_from_settings(EncryptionSettings(encryption_key_id="k1"))


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BORDERFLOW_ENCRYPTION_KEYS", f"k2:{K2},k1:{K1}")
    monkeypatch.setenv("BORDERFLOW_ENCRYPTION_KEY_ID", "k1")
    codec = codec_from_settings(EncryptionSettings())
    assert codec is not None
    assert codec.keyring.current == "k1" and codec.keyring.key_ids == ["k2", "k1"]


def test_temporal_cloud_api_key_turns_tls_on() -> None:
    cloud = ConnectionSettings(temporal_api_key=SecretStr("secret-api-key"))
    assert cloud.tls() is True and cloud.api_key() == "secret-api-key"
    assert ConnectionSettings().tls() is False and ConnectionSettings().api_key() is None
    with pytest.raises(ValueError, match="contradicts"):
        ConnectionSettings(temporal_api_key=SecretStr("x"), temporal_tls=False).tls()


def test_mtls_reads_the_client_certificate_and_key(tmp_path: Path) -> None:
    cert, key, ca = tmp_path / "client.pem", tmp_path / "client.key", tmp_path / "ca.pem"
    cert.write_bytes(b"CERT")
    key.write_bytes(b"KEY")
    ca.write_bytes(b"CA")
    tls = ConnectionSettings(
        temporal_tls_client_cert_path=cert, temporal_tls_client_key_path=key,
        temporal_tls_server_ca_path=ca, temporal_tls_server_name="temporal.internal",
    ).tls()  # fmt: skip
    assert tls == TLSConfig(
        client_cert=b"CERT", client_private_key=b"KEY", server_root_ca_cert=b"CA",
        domain="temporal.internal",
    )  # fmt: skip
    with pytest.raises(ValidationError, match="go together"):
        ConnectionSettings(temporal_tls_client_cert_path=cert)
    missing = ConnectionSettings(
        temporal_tls_client_cert_path=tmp_path / "nope.pem", temporal_tls_client_key_path=key
    )
    with pytest.raises(ValueError, match="cannot read"):
        missing.tls()
