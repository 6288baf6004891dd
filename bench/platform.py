"""Start the platform for a benchmark exactly as ``make run`` does: ``borderflow up``.

The dev server, simulators, worker and API are started by ``borderflow up`` itself (same
command line, SQLite pragmas, search attributes), on free loopback ports and a fresh data
dir, with no demo shipment. Four things differ from a default ``make run``, on purpose:

- ``BORDERFLOW_SIM_TIME_SCALE`` is tiny, so the partners' stories (tracking, customs) are
  instant and a shipment's lifetime is our own processing, not simulated waiting;
- the data dir is in tmpfs (``/dev/shm``, when there is one; ``BENCH_TMPFS=0`` keeps it in
  the temporary directory): the simulators rewrite their JSON state files on every write and
  are stand-ins, so their disk writes must not be on the critical path of what is measured.
  Temporal's SQLite (WAL, ``synchronous=normal``: it syncs only at checkpoints) is there too;
- the partner and API rate limits are raised far above what the machine can do: they are
  policy (protecting partners), and left at their defaults they, not the code, would be
  measured. Set ``BENCH_KEEP_LIMITS=1`` to measure with the defaults;
- a second worker process (:mod:`bench.bare`) serves the bare workflows that each
  benchmark compares against, on its own task queue of the same server.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr
from temporalio.client import Client

from activities.odoo import OdooClient
from bench.ports import free_port
from canonical.partners import partner, partners, simulated
from workflows.client import connect

BIN = Path(sys.executable).parent
PORT_NAMES = (
    "temporal", "temporal_ui", "api", "worker_metrics", "codec", "worker_sdk_metrics",
)  # fmt: skip
"""``borderflow up``'s own ports (``BORDERFLOW_<NAME>_PORT``); each simulated partner of the
registry has one more, ``sim_<partner name>`` (``BORDERFLOW_SIM_PORTS``)."""
DEMO_ERP = "odoo"
"""The partner whose simulator holds the orders the benchmarks create (Odoo)."""
CHILDREN = {
    "temporal": "start-dev",
    "simulators": "-m simulators",
    "worker": "-m workers",
    "api": "-m api",
}
"""``borderflow up``'s children, by a piece of their command line."""
UNLIMITED = {
    "BORDERFLOW_CALLS_PER_S": json.dumps(
        {p.name: 100_000 for p in partners() if p.queue is not None}
    ),
    "BORDERFLOW_RATE_LIMIT_PER_S": "100000",
    "BORDERFLOW_RATE_LIMIT_BURST": "100000",
    "BORDERFLOW_WEBHOOK_RATE_LIMIT_PER_S": "100000",
    "BORDERFLOW_WEBHOOK_RATE_LIMIT_BURST": "100000",
    # Every benchmark caller is 127.0.0.1: one client address for the per-address limits.
    "BORDERFLOW_CLIENT_RATE_LIMIT_PER_S": "100000",
    "BORDERFLOW_CLIENT_RATE_LIMIT_BURST": "100000",
}


def sim_port_name(partner_name: str) -> str:
    """The key of a simulated partner's port in :attr:`Platform.ports`."""
    return f"sim_{partner_name}"


def port_env(ports: dict[str, int]) -> dict[str, str]:
    """``borderflow up``'s settings of ``ports``: its own ports one variable each, the
    simulators' in ``BORDERFLOW_SIM_PORTS`` (every simulated partner's, by name)."""
    sims = {p.name: ports[sim_port_name(p.name)] for p in simulated()}
    return {
        **{f"BORDERFLOW_{name.upper()}_PORT": str(ports[name]) for name in PORT_NAMES},
        "BORDERFLOW_SIM_PORTS": json.dumps(sims),
    }


def read_env(path: Path) -> dict[str, str]:
    """``KEY=value`` lines (``local.env``, written by ``borderflow up``)."""
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def rss_mb(pid: int) -> float:
    """Resident memory of a process, in MiB (Linux ``/proc``)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (``/proc/<pid>/stat``)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pid(parent: int, text: str) -> int | None:
    """The pid of ``parent``'s child whose command line contains ``text``."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if ppid != parent:
                continue
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if text in cmdline:
            return int(stat.parent.name)
    return None


@dataclass
class Platform:
    """A running ``borderflow up`` plus the bare worker, and what clients need to reach them."""

    data_dir: Path
    ports: dict[str, int]
    up: subprocess.Popen[bytes]
    bare: subprocess.Popen[bytes] | None = None
    secrets: dict[str, str] = field(default_factory=dict)
    client: Client | None = None

    @property
    def temporal(self) -> Client:
        assert self.client is not None
        return self.client

    def url(self, port_name: str) -> str:
        return f"http://127.0.0.1:{self.ports[port_name]}"

    def sim_url(self, partner_name: str) -> str:
        """The simulator of the registry's partner ``partner_name``."""
        return self.url(sim_port_name(partner_name))

    @property
    def api_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets['BORDERFLOW_API_TOKEN']}"}

    def odoo(self) -> OdooClient:
        return OdooClient(
            self.sim_url(DEMO_ERP), "borderflow", "admin",
            SecretStr(self.secrets[partner(DEMO_ERP).secret_envs[0]]),
        )  # fmt: skip

    def pids(self) -> dict[str, int]:
        """The platform's processes by name (those found), this one included."""
        found = {"bench": os.getpid()}
        for name, text in CHILDREN.items():
            pid = child_pid(self.up.pid, text)
            if pid is not None:
                found[name] = pid
        if self.bare is not None:
            found["bare-worker"] = self.bare.pid
        return found

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time (user + system) used so far by each of the platform's processes."""
        return {name: cpu_seconds(pid) for name, pid in self.pids().items()}

    def worker_pid(self) -> int | None:
        return child_pid(self.up.pid, "-m workers")

    def server_pid(self) -> int | None:
        return child_pid(self.up.pid, "start-dev")


def _spawn(argv: list[str], env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    """A child in its own session (a Ctrl-C reaches only us), its output in ``log_path``."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def _logged(path: Path, text: str) -> bool:
    return path.exists() and text in path.read_text(errors="replace")


async def _wait_for(
    path: Path, text: str, process: subprocess.Popen[bytes], timeout_s: float
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited early; see {path}")
        if _logged(path, text):
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"no {text!r} in {path} after {timeout_s:.0f} s")


def _data_parent() -> str | None:
    shm = Path("/dev/shm")
    if os.environ.get("BENCH_TMPFS", "1") == "1" and shm.is_dir() and os.access(shm, os.W_OK):
        return str(shm)
    return None


async def restart_worker(platform: Platform, timeout_s: float = 60) -> int:
    """Stop the real worker (SIGTERM); ``borderflow up`` starts it again after its back-off.
    Returns the new worker's pid once it logged that it is ready."""
    old = platform.worker_pid()
    if old is None:
        raise RuntimeError("no worker process to restart")
    log = platform.data_dir / "logs" / "worker.log"
    os.kill(old, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        new = platform.worker_pid()
        text = log.read_text(errors="replace") if log.exists() else ""
        marker = text.rfind("--- restarted by borderflow up ---")
        if new not in (None, old) and marker >= 0 and "worker ready" in text[marker:]:
            return new
        await asyncio.sleep(0.2)
    raise RuntimeError(f"the worker did not come back within {timeout_s:.0f} s; see {log}")


async def start(extra_env: dict[str, str] | None = None) -> Platform:
    """Start ``borderflow up`` and the bare worker; wait until both are ready."""
    data_dir = Path(tempfile.mkdtemp(prefix="borderflow-bench-", dir=_data_parent()))
    names = (*PORT_NAMES, *(sim_port_name(p.name) for p in simulated()))
    ports = {name: free_port() for name in names}
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERFLOW_")}
    env.update({
        "BORDERFLOW_DATA_DIR": str(data_dir),
        "BORDERFLOW_SIM_TIME_SCALE": os.environ.get("BENCH_SIM_TIME_SCALE", "0.001"),
        "BORDERFLOW_DEMO_SHIPMENTS": "0",
        **port_env(ports),
    })  # fmt: skip
    if os.environ.get("BENCH_KEEP_LIMITS") != "1":
        env.update(UNLIMITED)
    env.update(extra_env or {})
    up_log = data_dir / "up.log"
    up = _spawn([str(BIN / "borderflow"), "up"], env, up_log)
    platform = Platform(data_dir, ports, up)
    try:
        await _wait_for(up_log, "platform ready", up, 120)
        platform.secrets = read_env(data_dir / "local.env")
        address = f"127.0.0.1:{ports['temporal']}"
        bare_log = data_dir / "bare-worker.log"
        platform.bare = _spawn([sys.executable, "-m", "bench.bare", address], env, bare_log)
        await _wait_for(bare_log, "bare worker ready", platform.bare, 60)
        platform.client = await connect(address, "default")
    except BaseException:
        stop(platform)
        raise
    return platform


def stop(platform: Platform) -> None:
    """Stop what :func:`start` started (SIGTERM, then SIGKILL after a grace period)."""
    for process in (platform.bare, platform.up):
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for process in (platform.bare, platform.up):
        if process is None:
            continue
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
