"""Start and stop every simulated partner's simulator in the current event loop.

:func:`start_simulators` serves exactly the registry's simulated partners
(:func:`canonical.partners.simulated`, plugins included, in registry order): each
``Simulator.app`` (``"module:function"``) is imported and called with the settings, and bound
on ``settings.port(name)`` (``0`` picks a free port). It returns a :class:`RunningSimulators`
with the bound base URLs by partner name. :meth:`RunningSimulators.close` shuts everything
down gracefully: stories and pending webhook deliveries are cancelled, HTTP sessions closed,
sockets released. If importing or starting one app fails, the ones already started are closed
before the error propagates.
"""

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import cast

from aiohttp import web

from canonical.partners import simulated
from simulators.settings import SimulatorSettings

logger = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 5.0

AppFactory = Callable[[SimulatorSettings], web.Application]
"""What a ``Simulator.app`` names: the settings in, the partner's aiohttp app out."""


@dataclass
class RunningSimulators:
    """Base URLs (``http://host:port``, no trailing slash) of the running simulators."""

    urls: dict[str, str]
    """Partner name → base URL, one per simulated partner, in registry order."""
    _runners: list[web.AppRunner] = field(default_factory=list, repr=False)

    def url(self, name: str) -> str:
        """The base URL of partner ``name``'s simulator; ``KeyError`` naming the known ones."""
        try:
            return self.urls[name]
        except KeyError:
            raise KeyError(f"no simulator for partner {name!r}; known: {list(self.urls)}") from None

    async def close(self) -> None:
        """Stop every simulator (idempotent)."""
        runners, self._runners = self._runners, []
        await _cleanup(runners)

    async def __aenter__(self) -> "RunningSimulators":
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()


async def _cleanup(runners: list[web.AppRunner]) -> None:
    for runner in reversed(runners):
        try:
            await runner.cleanup()
        except Exception:
            logger.exception("error while stopping a simulator")


def _url(host: str, port: int) -> str:
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


async def _serve(app: web.Application, host: str, port: int, runners: list[web.AppRunner]) -> str:
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    runners.append(runner)
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    return _url(host, int(bound))


def load_factory(name: str, target: str) -> AppFactory:
    """The ``function`` of ``"module:function"`` (partner ``name``'s ``Simulator.app``)."""
    module_name, _, function_name = target.partition(":")
    if not module_name or not function_name:
        raise ValueError(f"simulator of partner {name!r}: {target!r} is not 'module:function'")
    factory = getattr(importlib.import_module(module_name), function_name, None)
    if not callable(factory):
        raise ValueError(f"simulator of partner {name!r}: {target!r} is not a function")
    return cast(AppFactory, factory)


async def start_simulators(settings: SimulatorSettings) -> RunningSimulators:
    """Serve every simulated partner of the registry on ``settings.sim_host``."""
    host = settings.sim_host
    runners: list[web.AppRunner] = []
    urls: dict[str, str] = {}
    try:
        for partner in simulated():
            if partner.simulator is None:  # simulated() has none such; for the type checker
                continue
            factory = load_factory(partner.name, partner.simulator.app)
            port = settings.port(partner.name)
            urls[partner.name] = await _serve(factory(settings), host, port, runners)
    except BaseException:
        await _cleanup(runners)
        raise
    return RunningSimulators(urls=urls, _runners=runners)


__all__ = ["AppFactory", "RunningSimulators", "load_factory", "start_simulators"]
