"""Run ``borderflow up`` as a user would, on free ports and a data dir of the test's own."""

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests_support import free_port

from bench.platform import PORT_NAMES, port_env, sim_port_name
from canonical.partners import simulated

BORDERFLOW = str(Path(sys.executable).parent / "borderflow")


def children_of(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (Linux /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def child_running(parent: int, text: str) -> int:
    """The pid of ``parent``'s child whose command line contains ``text``."""
    for pid in children_of(parent):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        if text in cmdline:
            return pid
    raise LookupError(text)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Platform:
    """One ``borderflow up`` process and what it prints."""

    def __init__(
        self,
        data_dir: Path,
        *,
        demo_shipments: int,
        ports: dict[str, int],
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.ports = ports
        self.lines: list[str] = []
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("BORDERFLOW_")},
            "BORDERFLOW_DATA_DIR": str(data_dir),
            "BORDERFLOW_SIM_TIME_SCALE": "0.2",
            "BORDERFLOW_DEMO_SHIPMENTS": str(demo_shipments),
            "BORDERFLOW_DEMO_TIMEOUT_S": "90",
            **port_env(ports),
            **(extra_env or {}),
        }
        self.process = subprocess.Popen(
            [BORDERFLOW, "up"], env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, start_new_session=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    @staticmethod
    def free_ports() -> dict[str, int]:
        names = (*PORT_NAMES, *(sim_port_name(partner.name) for partner in simulated()))
        return {name: free_port() for name in names}

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, text: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            if self.process.poll() is not None:
                raise AssertionError(f"borderflow up exited early:\n{self.output}")
            time.sleep(0.1)
        raise AssertionError(f"no {text!r} after {timeout_s} s:\n{self.output}")

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['api']}"

    @property
    def odoo_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sim_odoo']}"

    @property
    def headers(self) -> dict[str, str]:
        """The local admin token `borderflow up` created, as an Authorization header."""
        return {"Authorization": f"Bearer {self.local_env()['BORDERFLOW_API_TOKEN']}"}

    def local_env(self) -> dict[str, str]:
        text = (self.data_dir / "local.env").read_text()
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    def stop(self, timeout_s: float = 40) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout_s)
        self._reader.join(timeout=5)
        return code
