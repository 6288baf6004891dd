"""`borderflow temporal-setup` (the compose job and the Kubernetes Job) on a real dev server."""

import json
import os
import subprocess

from running_platform import BORDERFLOW
from tests_support import free_port

from workflows.models import SEARCH_ATTRIBUTES


def setup(address: str, *flags: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERFLOW_")}
    env |= {"BORDERFLOW_TEMPORAL_ADDRESS": address, "BORDERFLOW_TEMPORAL_NAMESPACE": "borderflow"}
    return subprocess.run([BORDERFLOW, "temporal-setup", *flags], env=env, capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def test_registers_every_search_attribute_and_can_run_again(
    dev_server: str, temporal_cli: str
) -> None:
    first, again = setup(dev_server), setup(dev_server)
    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr  # idempotent: a rerun after an upgrade is safe
    listed = subprocess.run(
        [temporal_cli, "operator", "search-attribute", "list", "--address", dev_server,
         "--namespace", "borderflow", "--output", "json"],
        capture_output=True, text=True, timeout=30, check=True,
    ).stdout  # fmt: skip
    registered = json.loads(listed)
    text = json.dumps(registered)
    assert all(f'"{name}"' in text for name in SEARCH_ATTRIBUTES), text


def test_an_unreachable_server_is_a_one_line_error() -> None:
    failed = setup(f"127.0.0.1:{free_port()}", "--wait", "1")
    assert failed.returncode == 1
    assert failed.stderr.startswith("borderflow: cannot set up namespace borderflow at")
    assert len(failed.stderr.strip().splitlines()) == 1
