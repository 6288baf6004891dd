"""`borderflow up` with BORDERFLOW_ENCRYPTION: keys kept in local.env, the UI's codec token."""

from pathlib import Path

from tests_support import migrated_engine

from cli.local_env import (
    CODEC_TOKEN,
    environment_wins,
    load_or_create_secrets,
    local_encryption,
    local_token,
    write_env_file,
)
from cli.settings import UpSettings
from cli.up import codec_env, codec_url
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


def test_the_ui_codec_token_is_a_codec_token_reused_while_valid(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    env_file = tmp_path / "local.env"
    engine = migrated_engine(url)
    first = local_token(url, env_file, CODEC_TOKEN, Role.CODEC)
    row = authenticate(engine, first)
    assert row is not None and row.role == Role.CODEC
    write_env_file(env_file, {CODEC_TOKEN: first})
    assert local_token(url, env_file, CODEC_TOKEN, Role.CODEC) == first
    revoke_token(engine, row.id)
    replaced = local_token(url, env_file, CODEC_TOKEN, Role.CODEC)
    assert replaced != first and authenticate(engine, replaced) is not None
    # A token of another role in that slot is not reused: the UI's token only ever decodes
    # (the support token older releases put there is replaced too).
    for role in (Role.ADMIN, Role.SUPPORT):
        _, other = create_token(engine, role, str(role))
        write_env_file(env_file, {CODEC_TOKEN: other})
        assert local_token(url, env_file, CODEC_TOKEN, Role.CODEC) != other
    engine.dispose()


def test_the_codec_server_allows_the_local_ui_origins_and_no_path_token() -> None:
    settings = UpSettings(temporal_ui_port=18233, codec_port=18234)
    env = codec_env(settings)
    assert env["BORDERFLOW_CODEC_CORS_ORIGINS"] == "http://localhost:18233,http://127.0.0.1:18233"
    assert env["BORDERFLOW_CODEC_PORT"] == "18234"
    assert "BORDERFLOW_CODEC_ALLOW_PATH_TOKEN" not in env  # the UI's endpoint holds no token
    assert env["BORDERFLOW_CODEC_COOKIE_SECURE"] == "false"
    # the UI (http://localhost:18233) and the codec server share a site: the Lax cookie rides
    assert codec_url(settings) == "http://localhost:18234"


def test_a_secret_in_the_environment_wins_over_local_env(tmp_path: Path) -> None:
    env_file = tmp_path / "local.env"
    kept = load_or_create_secrets(env_file)
    write_env_file(env_file, kept)
    assert load_or_create_secrets(env_file) == kept  # generated once, then kept
    name = "BORDERFLOW_EASYPOST_WEBHOOK_SECRET"
    used = environment_wins(kept, {name: "from-the-environment", "BORDERFLOW_TMS_API_KEY": ""})
    assert used[name] == "from-the-environment"
    # every other secret is local.env's (an empty variable does not count)
    assert {k: v for k, v in used.items() if k != name} == {
        k: v for k, v in kept.items() if k != name
    }
