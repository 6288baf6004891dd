"""How Borderflow's long-running processes live: until SIGINT or SIGTERM, then a clean stop."""

import asyncio
import signal

from aiohttp import web


async def until_terminated() -> None:
    """Return when the process receives SIGINT or SIGTERM (Ctrl-C, ``docker stop``, k8s)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def serve_until_terminated(app: web.Application, host: str, port: int, name: str) -> None:
    """Serve ``app`` on ``host:port``, print ``<name> ready on <url>``, stop on a signal."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        print(f"{name} ready on http://{host}:{port}", flush=True)
        await until_terminated()
    finally:
        await runner.cleanup()
