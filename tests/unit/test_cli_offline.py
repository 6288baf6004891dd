"""The `borderflow` commands that need no running platform: normalize and schema."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

BORDERFLOW = str(Path(sys.executable).parent / "borderflow")
FIXTURES = Path(__file__).parent.parent / "fixtures"


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    return subprocess.run([BORDERFLOW, *args], input=stdin.decode(), capture_output=True,
                          text=True, timeout=60)  # fmt: skip


@pytest.mark.parametrize(
    ("partner", "fixture"),
    [("easypost", "easypost/delivered.json"), ("dcsa", "dcsa/events_v2.json"),
     ("broker", "broker/released.json"), ("dhl", "dhl/delivered.json")],
)  # fmt: skip
def test_normalize_prints_one_canonical_event_per_line(partner: str, fixture: str) -> None:
    done = run("normalize", "--partner", partner, str(FIXTURES / fixture))
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in done.stdout.splitlines()]
    assert events and all(e["source"]["partner"] == partner for e in events)
    times = [e["occurred_at"] for e in events]
    assert len({e["event_id"] for e in events}) == len(events)
    assert times, times


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [(("--partner", "fedex", "-"), b"{}", "unknown partner 'fedex'"),
     (("--partner", "easypost", "-"), b"not json", "not JSON"),
     (("--partner", "dcsa", "-"), b'{"x": 1}', "eventID"),
     (("--partner", "easypost", "/no/such/file"), b"", "cannot read /no/such/file")],
)  # fmt: skip
def test_normalize_refuses_bad_input_in_one_line_with_exit_2(
    args: tuple[str, ...], stdin: bytes, message: str
) -> None:
    done = run("normalize", *args, stdin=stdin)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and message in done.stderr


def test_schema_check_passes_on_the_committed_files_and_fails_on_stale_ones(
    tmp_path: Path,
) -> None:
    assert run("schema", "--check").returncode == 0
    stale = run("schema", "--check", "--out", str(tmp_path))
    assert stale.returncode == 1 and "Shipment.json" in stale.stderr
    assert run("schema", "--out", str(tmp_path)).returncode == 0
    assert run("schema", "--check", "--out", str(tmp_path)).returncode == 0
