"""``borderflow up``'s supervisor: a child that exits on its own is started again, after a
back-off; one that keeps exiting is given up on. Real child processes, a controlled clock."""

import sys
import time
from pathlib import Path

from cli.up import MAX_RESTARTS, RESTART_BACKOFF_S, RESTART_WINDOW_S, Supervisor

CRASH = [sys.executable, "-c", "import sys; print('crashing now'); sys.exit(3)"]
LIVE = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(60)"]


def wait_exit(supervisor: Supervisor) -> None:
    for child in supervisor.children:
        child.process.wait(timeout=30)


def test_a_dead_child_is_restarted_after_its_back_off_with_the_same_command(
    tmp_path: Path,
) -> None:
    supervisor, said = Supervisor(tmp_path), []
    child = supervisor.spawn("worker", CRASH, {"PATH": "/usr/bin", "MARK": "x"})
    try:
        wait_exit(supervisor)
        first = child.process
        assert supervisor.restart_dead(said.append, now=100.0) is None
        assert child.process is first  # waiting for its back-off
        assert said[0] == "worker exited with code 3; its last lines:"
        assert "crashing now" in said[1]
        assert said[2] == f"restarting worker in {RESTART_BACKOFF_S[0]:.0f} s"
        assert supervisor.restart_dead(said.append, now=100.0 + RESTART_BACKOFF_S[0]) is None
        assert child.process is not first and child.process.args == CRASH
        assert said[-1] == f"worker restarted (pid {child.process.pid})"
        child.process.wait(timeout=30)
        log = child.log_path.read_text()
        assert log.count("crashing now") == 2 and "restarted by borderflow up" in log
    finally:
        supervisor.stop_all(said.append)


def test_a_live_child_is_left_alone_and_stop_all_stops_it(tmp_path: Path) -> None:
    supervisor, said = Supervisor(tmp_path), []
    child = supervisor.spawn("api", LIVE, {"PATH": "/usr/bin"})
    deadline = time.monotonic() + 30
    while "up" not in child.log_path.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert supervisor.restart_dead(said.append) is None and said == []
    supervisor.stop_all(said.append)
    assert child.process.returncode is not None and supervisor.children == []


def test_a_crash_looping_child_is_given_up_on(tmp_path: Path) -> None:
    supervisor, said = Supervisor(tmp_path), []
    child = supervisor.spawn("worker", CRASH, {"PATH": "/usr/bin"})
    try:
        now = 0.0
        for restart in range(MAX_RESTARTS - 1):
            child.process.wait(timeout=30)
            assert supervisor.restart_dead(said.append, now=now) is None
            now += RESTART_BACKOFF_S[min(restart, len(RESTART_BACKOFF_S) - 1)]
            assert supervisor.restart_dead(said.append, now=now) is None
        child.process.wait(timeout=30)
        assert supervisor.restart_dead(said.append, now=now) is child
        assert (
            said[-1] == f"worker exited {MAX_RESTARTS} times in {RESTART_WINDOW_S:.0f} s: giving up"
        )
    finally:
        supervisor.stop_all(said.append)


def test_exits_outside_the_window_are_forgotten(tmp_path: Path) -> None:
    supervisor, said = Supervisor(tmp_path), []
    child = supervisor.spawn("worker", CRASH, {"PATH": "/usr/bin"})
    try:
        now = 0.0
        for _ in range(MAX_RESTARTS * 2):
            child.process.wait(timeout=30)
            assert supervisor.restart_dead(said.append, now=now) is None
            now += RESTART_WINDOW_S  # one exit per window: never a crash loop
            assert supervisor.restart_dead(said.append, now=now) is None
        assert said.count(f"restarting worker in {RESTART_BACKOFF_S[0]:.0f} s") == MAX_RESTARTS * 2
    finally:
        supervisor.stop_all(said.append)
