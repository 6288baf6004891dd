"""``python -m simulators``: serve every simulated partner's simulator until SIGINT/SIGTERM.

Prints one ``<partner> <url>`` line per simulated partner of the registry (its name, e.g.
``easypost``, ``notify``), then ``simulators ready`` (flushed), and logs to stderr. Exits 0
after a graceful shutdown, 1 when a port cannot be bound, and 2 with the names of the
missing/invalid settings (never their values) when the configuration is incomplete.
"""

import asyncio
import logging
import signal
import sys

from pydantic import ValidationError

from observability.logs import LogSettings
from simulators.app import start_simulators
from simulators.settings import SimulatorSettings

logger = logging.getLogger("simulators")


async def serve(settings: SimulatorSettings) -> None:
    """Run until a termination signal arrives, then shut down gracefully."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    running = await start_simulators(settings)
    try:
        for name, url in running.urls.items():
            print(f"{name:<8} {url}", flush=True)
        print("simulators ready", flush=True)
        await stop.wait()
        logger.info("shutting down")
    finally:
        await running.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def main() -> int:
    """Entry point; returns the process exit status."""
    LogSettings().apply()  # BORDERFLOW_LOG_FORMAT=json: every line JSON, as the platform's
    try:
        settings = SimulatorSettings()
    except ValidationError as exc:
        names = ", ".join(
            "BORDERFLOW_" + str(err["loc"][0]).upper() for err in exc.errors() if err["loc"]
        )
        logger.error("missing or invalid settings: %s", names)
        return 2
    try:
        asyncio.run(serve(settings))
    except OSError as exc:
        logger.error("cannot start the simulators: %s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
