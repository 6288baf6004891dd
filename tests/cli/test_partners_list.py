"""`borderflow partners list [--json]`: the partner registry as the command prints it, run as
the installed command, with no Temporal and no store."""

import json
import os
import subprocess

from running_platform import BORDERFLOW

from canonical.partners import partners


def run(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERFLOW_")}
    env.update(settings)
    env["BORDERFLOW_DATA_DIR"] = "/nonexistent"  # no local.env
    env["BORDERFLOW_DATABASE_URL"] = "sqlite:////nonexistent/store.db"  # never opened
    env["BORDERFLOW_TEMPORAL_ADDRESS"] = "127.0.0.1:1"  # never dialled
    return subprocess.run([BORDERFLOW, "partners", "list", *args], env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip


def test_json_lists_every_registered_partner() -> None:
    listed = run("--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [row["name"] for row in rows] == [p.name for p in partners()]
    for row, partner in zip(rows, partners(), strict=True):
        assert set(row) == {"name", "kind", "queue", "calls_per_s", "webhook_route",
                            "auth_scheme", "simulator_url"}  # fmt: skip
        assert row["kind"] == partner.kind.value
        assert row["queue"] == (partner.queue.name if partner.queue else None)
        assert row["calls_per_s"] == (partner.queue.calls_per_s if partner.queue else None)
        assert row["webhook_route"] == partner.webhook_route
        assert row["auth_scheme"] == (partner.webhook.scheme.value if partner.webhook else None)
        simulator = partner.simulator
        assert row["simulator_url"] == (f"http://127.0.0.1:{simulator.port}" if simulator else None)
    easypost = next(row for row in rows if row["name"] == "easypost")
    moved = json.loads(run("--json", BORDERFLOW_SIM_PORTS='{"easypost": 18092}').stdout)
    assert next(r for r in moved if r["name"] == "easypost")["simulator_url"] == (
        "http://127.0.0.1:18092"
    )
    assert easypost["queue"] == "borderflow-carrier-easypost"
    assert easypost["webhook_route"] == "/v1/webhooks/easypost"
    assert easypost["auth_scheme"] == "easypost-hmac"


def test_the_table_has_a_header_and_one_aligned_row_per_partner() -> None:
    listed = run()
    assert listed.returncode == 0, listed.stderr
    header, *lines = listed.stdout.splitlines()
    assert header.split() == [
        "NAME", "KIND", "QUEUE", "WEBHOOK_ROUTE", "AUTH_SCHEME", "SIMULATOR_URL"
    ]  # fmt: skip
    assert [line.split()[0] for line in lines] == [p.name for p in partners()]
    starts = [header.index(column) for column in header.split()]
    for line, partner in zip(lines, partners(), strict=True):
        cells = line.split()
        assert len(cells) == len(starts), line  # "-" where a partner has none
        found = [line.index(cell, start) for cell, start in zip(cells, starts, strict=True)]
        assert found == starts, line  # each cell starts under its column's header
        assert cells[2] == (partner.queue.name if partner.queue else "-")
        assert cells[3] == (partner.webhook_route or "-")


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERFLOW_")}
    env["BORDERFLOW_DATA_DIR"] = "/nonexistent"
    process = subprocess.Popen([BORDERFLOW, "partners", "list", "--json"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert process.stdout is not None
    process.stdout.close()  # like `| head` that is done before the command writes
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0
    assert b"Traceback" not in stderr and b"BrokenPipe" not in stderr, stderr


def test_a_setting_that_is_not_json_is_one_line_and_exit_2() -> None:
    for ports in ('{"nobody": 1}', "not json"):
        listed = run("--json", BORDERFLOW_SIM_PORTS=ports)
        assert listed.returncode == 2 and listed.stdout == "", listed.stderr
        assert len(listed.stderr.strip().splitlines()) == 1
        assert listed.stderr.startswith("borderflow: invalid setting"), listed.stderr
