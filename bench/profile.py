"""``BENCH_PROFILE=worker,api`` (names from ``Platform.pids``): sample those processes with
py-spy while each benchmark runs, then print where their time went.

Sampling from outside (``py-spy record --pid``) changes nothing in the processes measured,
so the same ``borderflow up`` children run as they would without it. Raw (collapsed) stacks
are kept in ``<data dir>/profiles``; the summary lists the frames seen most often, by
themselves ("self") and anywhere in the stack ("total", our packages only).
"""

import collections
import os
import signal
import subprocess
from pathlib import Path

from bench.platform import BIN, Platform

OURS = ("activities/", "api/", "canonical/", "workflows/", "workers/", "store/",
        "observability/", "simulators/", "cli/")  # fmt: skip


class Profiler:
    def __init__(self, platform: Platform, benchmark: str) -> None:
        self.names = [n for n in os.environ.get("BENCH_PROFILE", "").split(",") if n]
        self.out = platform.data_dir / "profiles"
        self.benchmark = benchmark
        self._pids = platform.pids()
        self._running: dict[str, subprocess.Popen[bytes]] = {}

    def __enter__(self) -> "Profiler":
        self.out.mkdir(parents=True, exist_ok=True)
        for name in self.names:
            pid = self._pids.get(name)
            if pid is None:
                continue
            path = self.out / f"{self.benchmark}-{name}.txt"
            self._running[name] = subprocess.Popen(
                [str(BIN / "py-spy"), "record", "--pid", str(pid), "--rate", "100",
                 "--format", "raw", "--output", str(path), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
        return self

    def __exit__(self, *_: object) -> None:
        for process in self._running.values():
            process.send_signal(signal.SIGINT)
        for process in self._running.values():
            process.wait(timeout=30)

    def summary(self, top: int = 12) -> str:
        lines = []
        for name in self._running:
            lines.append(f"  profile of {name} ({self.out / f'{self.benchmark}-{name}.txt'}):")
            lines += ["    " + line for line in summarize(
                self.out / f"{self.benchmark}-{name}.txt", top)]  # fmt: skip
        return "\n".join(lines)


def summarize(path: Path, top: int) -> list[str]:
    """The most sampled frames of a py-spy raw profile: by self time and (ours) in total."""
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in path.read_text(errors="replace").splitlines() if path.exists() else []:
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            if any(part in frame for part in OURS):
                total[frame] += count
    if not samples:
        return ["(no samples)"]
    out = [f"{samples} samples; self:"]
    out += [f"  {100 * c / samples:5.1f}%  {f}" for f, c in own.most_common(top)]
    out.append("ours, total (self + callees):")
    out += [f"  {100 * c / samples:5.1f}%  {f}" for f, c in total.most_common(top)]
    return out
