"""``python -m simulators``: ready lines, serving, graceful SIGTERM, config errors."""

import asyncio
import json
import os
import signal
import sys

import httpx
from sim_support import SECRETS

from canonical.partners import simulated
from simulators.settings import default_ports


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERFLOW_")}
    env.update(extra)
    return env


async def test_serves_until_sigterm(http: httpx.AsyncClient) -> None:
    ports = {"BORDERFLOW_SIM_PORTS": json.dumps(dict.fromkeys(default_ports(), 0))}
    secrets = {f"BORDERFLOW_{k.upper()}": v for k, v in SECRETS.items()}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators",
        env=child_env(**ports, **secrets),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        lines: list[str] = []
        async with asyncio.timeout(20):
            while not lines or lines[-1] != "simulators ready":
                line = await process.stdout.readline()
                assert line, "process ended before it was ready"
                lines.append(line.decode().strip())
        urls = dict(line.split() for line in lines[:-1])
        assert list(urls) == [p.name for p in simulated()]
        version = await http.get(f"{urls['odoo']}/web/version")
        assert version.json()["version"] == "17.0"
        unauthorised = await http.get(f"{urls['tms']}/api/v1/transport-orders/TO-1")
        assert unauthorised.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(20):
            _, stderr = await process.communicate()
    assert process.returncode == 0
    for secret in SECRETS.values():
        assert secret.encode() not in stderr


async def test_missing_secrets_exit_2_naming_only_the_variables() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "simulators",
        env=child_env(BORDERFLOW_ODOO_PASSWORD="do-not-print-me"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(20):
        stdout, stderr = await process.communicate()
    assert process.returncode == 2
    assert b"BORDERFLOW_TMS_API_KEY" in stderr
    assert b"BORDERFLOW_ODOO_PASSWORD" not in stderr
    assert b"do-not-print-me" not in stderr + stdout
