"""``python -m bench [name …]`` (``make bench``): start the platform once, run the benchmarks.

Prints each benchmark's table as it finishes, then one JSON document with every number,
the machine and the versions (also written to ``BENCH_OUTPUT``, default
``.data/bench/results.json``). Names: ceiling, adapter, lifecycle, webhooks, timers, parked.
"""

import asyncio
import json
import os
import platform as host
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

from bench import adapter, ceiling, lifecycle, parked, timers, webhooks
from bench.platform import BIN, Platform, rss_mb, start, stop
from bench.profile import Profiler
from bench.stats import BenchResult, table

BENCHMARKS: dict[str, Callable[[Platform], Awaitable[BenchResult]]] = {
    "ceiling": ceiling.run,
    "adapter": adapter.run,
    "lifecycle": lifecycle.run,
    "webhooks": webhooks.run,
    "timers": timers.run,
    "parked": parked.run,
}
"""In this order when no name is given: ``parked`` leaves its shipments live, so it is last."""


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    temporal = subprocess.run(
        [str(BIN / "temporal"), "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "python": sys.version.split()[0],
        "os": f"{host.system()} {host.release()}",
        "temporalio": version("temporalio"),
        "temporal_cli": temporal,
        "loadavg_at_start": os.getloadavg(),
    }


async def main(names: list[str]) -> dict[str, Any]:
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    report: dict[str, Any] = {"machine": machine(), "benchmarks": {}}
    began = time.monotonic()
    print("starting the platform (borderflow up) and the bare worker…", flush=True)
    platform = await start()
    try:
        print(f"platform ready (data in {platform.data_dir})\n", flush=True)
        for name in names or list(BENCHMARKS):
            t, cpu = time.monotonic(), platform.cpu_seconds()
            with Profiler(platform, name) as profiler:
                result = await BENCHMARKS[name](platform)
            took = time.monotonic() - t
            used = {k: round(v - cpu.get(k, 0.0), 1) for k, v in platform.cpu_seconds().items()}
            report["benchmarks"][name] = {
                **result.as_json(),
                "took_s": round(took, 1),
                "cpu_s_by_process": used,
            }
            print(table(f"{name} ({took:.0f} s)", result.rows), flush=True)
            print("  CPU s: " + ", ".join(f"{k} {v:.1f}" for k, v in used.items()))
            if profiler.names:
                print(profiler.summary())
            for note in result.notes:
                print(f"  note: {note}")
            print(flush=True)
        worker = platform.worker_pid()
        report["worker_rss_mb_at_end"] = round(rss_mb(worker), 1) if worker else None
    finally:
        stop(platform)
        if os.environ.get("BENCH_KEEP_DATA") != "1":
            shutil.rmtree(platform.data_dir, ignore_errors=True)
    report["wall_s"] = round(time.monotonic() - began, 1)
    return report


def cli() -> None:
    report = asyncio.run(main(sys.argv[1:]))
    text = json.dumps(report, indent=2)
    print(text)
    output = Path(os.environ.get("BENCH_OUTPUT", ".data/bench/results.json"))
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text + "\n")
    print(f"\nwritten to {output}; whole run {report['wall_s']:.0f} s")


if __name__ == "__main__":
    cli()
