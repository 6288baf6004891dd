"""`borderflow up` with BORDERFLOW_ENCRYPTION: keys kept in local.env, the UI's codec token."""

from pathlib import Path

from cli.local_env import CODEC_TOKEN, local_encryption, local_token, write_env_file
from cli.settings import UpSettings
from cli.up import codec_env
from store.db import make_engine
from store.tokens import Role, authenticate, create_token, revoke_token
from workers.codec import Keyring


def test_a_key_is_generated_once_and_then_kept_even_without_the_flag(tmp_path: Path) -> None:
    env_file = tmp_path / "local.env"
    assert local_encryption(env_file, wanted=False) == {}
    generated = local_encryption(env_file, wanted=True)
    ring = Keyring.parse(generated["BORDERFLOW_ENCRYPTION_KEYS"])
    assert ring.key_ids == ["local1"]
    write_env_file(env_file, {"BORDERFLOW_ODOO_PASSWORD": "x", **generated})
    # Histories written with that key need it: once in local.env, encryption stays on.
    assert local_encryption(env_file, wanted=False) == generated
    assert local_encryption(env_file, wanted=True) == generated
    assert env_file.stat().st_mode & 0o777 == 0o600


def test_a_rotated_ring_in_local_env_is_used_as_is(tmp_path: Path) -> None:
    env_file = tmp_path / "local.env"
    rotated = {
        "BORDERFLOW_ENCRYPTION_KEYS": "local2:" + "A" * 43 + "=,local1:" + "B" * 43 + "=",
        "BORDERFLOW_ENCRYPTION_KEY_ID": "local2",
    }
    write_env_file(env_file, rotated)
    assert local_encryption(env_file, wanted=True) == rotated


def test_the_ui_codec_token_is_a_support_token_reused_while_valid(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    env_file = tmp_path / "local.env"
    first = local_token(url, env_file, CODEC_TOKEN, Role.SUPPORT)
    engine = make_engine(url)
    row = authenticate(engine, first)
    assert row is not None and row.role == Role.SUPPORT
    write_env_file(env_file, {CODEC_TOKEN: first})
    assert local_token(url, env_file, CODEC_TOKEN, Role.SUPPORT) == first
    revoke_token(engine, row.id)
    replaced = local_token(url, env_file, CODEC_TOKEN, Role.SUPPORT)
    assert replaced != first and authenticate(engine, replaced) is not None
    # A token of another role in that slot is not reused: the UI endpoint only ever reads.
    _, admin = create_token(engine, Role.ADMIN, "admin")
    write_env_file(env_file, {CODEC_TOKEN: admin})
    assert local_token(url, env_file, CODEC_TOKEN, Role.SUPPORT) != admin
    engine.dispose()


def test_the_codec_server_allows_the_local_ui_origins_and_path_tokens() -> None:
    env = codec_env(UpSettings(temporal_ui_port=18233, codec_port=18234))
    assert env["BORDERFLOW_CODEC_CORS_ORIGINS"] == "http://localhost:18233,http://127.0.0.1:18233"
    assert env["BORDERFLOW_CODEC_PORT"] == "18234"
    assert env["BORDERFLOW_CODEC_ALLOW_PATH_TOKEN"] == "true"
    assert env["BORDERFLOW_CODEC_COOKIE_SECURE"] == "false"
