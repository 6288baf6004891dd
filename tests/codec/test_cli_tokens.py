"""`borderflow token create|list|revoke`: the API-token rotation of docs/operations.md."""

import os
import subprocess
from pathlib import Path

from running_platform import BORDERFLOW
from tests_support import migrated_engine

from store.db import make_engine
from store.tokens import authenticate


def run(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERFLOW_")}
    env["BORDERFLOW_DATABASE_URL"] = url
    env["BORDERFLOW_DATA_DIR"] = "/nonexistent"  # no local.env
    return subprocess.run([BORDERFLOW, "token", *args], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def test_create_list_revoke(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    migrated_engine(url).dispose()  # `borderflow db upgrade`
    created = run(url, "create", "--role", "support", "--name", "codec for the UI")
    assert created.returncode == 0, created.stderr
    token = created.stdout.strip()
    token_id = token[3:].split(".", 1)[0]
    listed = run(url, "list")
    assert listed.returncode == 0
    assert token_id in listed.stdout and "support" in listed.stdout and "live" in listed.stdout
    assert token.split(".", 1)[1] not in listed.stdout  # never the secret
    revoked = run(url, "revoke", token_id)
    assert revoked.returncode == 0 and f"token {token_id} revoked" in revoked.stdout
    engine = make_engine(url)
    assert authenticate(engine, token) is None
    engine.dispose()
    assert "revoked" in run(url, "list").stdout
    again = run(url, "revoke", token_id)
    assert again.returncode == 1 and again.stderr.strip() == f"borderflow: no live token {token_id}"


def test_a_codec_token_is_created_with_its_own_role(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    migrated_engine(url).dispose()  # `borderflow db upgrade`
    created = run(url, "create", "--role", "codec", "--name", "Temporal UI codec")
    assert created.returncode == 0, created.stderr
    engine = make_engine(url)
    row = authenticate(engine, created.stdout.strip())
    engine.dispose()
    assert row is not None and row.role == "codec"
    assert "codec" in run(url, "list").stdout
