"""The API process: serve until SIGINT/SIGTERM."""

import asyncio
import logging
import signal

from aiohttp import web

from api.app import create_app
from api.settings import ApiSettings
from store.db import make_engine
from workflows.client import connect


async def serve(settings: ApiSettings) -> None:
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    app = create_app(settings, client, make_engine(settings.database_url))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.api_host, settings.api_port).start()
    print(f"api ready on http://{settings.api_host}:{settings.api_port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    asyncio.run(serve(ApiSettings()))
