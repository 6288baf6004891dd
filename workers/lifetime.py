"""How Borderflow's long-running processes live: until SIGINT or SIGTERM, then a clean stop."""

import asyncio
import logging
import os
import signal
import sys
from typing import NoReturn

from aiohttp import web

from observability.tracing import shutdown_tracing
from workers.serving import HttpServing, start_serving


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


async def serve_until_terminated(
    app: web.Application, host: str, port: int, name: str, limits: HttpServing | None = None
) -> None:
    """Serve ``app`` on ``host:port`` with the connection ``limits`` of ``workers/serving.py``
    (default: from the environment), print ``<name> ready on <url>``, stop on a signal."""
    runner = await start_serving(app, host, port, limits)
    try:
        print(f"{name} ready on http://{host}:{port}", flush=True)
        await until_terminated()
    finally:
        await runner.cleanup()


def exit_process(code: int) -> NoReturn:
    """End a process that used a Temporal client: flush everything, then skip teardown.

    The SDK's Rust runtime keeps threads that can still hold a Python thread state while
    CPython finalizes; the process then aborts ("PyGILState_Release: thread state … must be
    current when releasing", exit -6) after its work is done (temporalio/sdk-python#300).
    Spans, log handlers and stdout/stderr are flushed first, so nothing is lost, and the exit
    code is the one the command chose.
    """
    shutdown_tracing()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
