"""Start and stop all six partner simulators in the current event loop.

:func:`start_simulators` binds every app (port ``0`` picks a free port) and returns a
:class:`RunningSimulators` with the bound base URLs. :meth:`RunningSimulators.close` shuts
everything down gracefully: stories and pending webhook deliveries are cancelled, HTTP
sessions closed, sockets released. If starting one app fails, the ones already started are
closed before the error propagates.
"""

import logging
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import web

from simulators.broker import create_broker_app
from simulators.carrier_dhl import create_dhl_app
from simulators.carrier_easypost import create_carrier_app
from simulators.finance import create_finance_app
from simulators.odoo import create_odoo_app
from simulators.settings import SimulatorSettings
from simulators.tms import create_tms_app

logger = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 5.0


@dataclass
class RunningSimulators:
    """Base URLs (``http://host:port``, no trailing slash) of the running simulators."""

    odoo_url: str
    tms_url: str
    carrier_url: str
    broker_url: str
    finance_url: str
    dhl_url: str
    _runners: list[web.AppRunner] = field(default_factory=list, repr=False)

    def urls(self) -> dict[str, str]:
        """``{"odoo", "tms", "carrier", "broker", "finance", "dhl"}`` → base URL.

        ``carrier`` is the EasyPost-style carrier, ``dhl`` the DHL-style one.
        """
        return {
            "odoo": self.odoo_url,
            "tms": self.tms_url,
            "carrier": self.carrier_url,
            "broker": self.broker_url,
            "finance": self.finance_url,
            "dhl": self.dhl_url,
        }

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


async def start_simulators(settings: SimulatorSettings) -> RunningSimulators:
    """Serve Odoo, TMS, both carriers, broker and finance on ``settings.sim_host``."""
    host = settings.sim_host
    runners: list[web.AppRunner] = []
    try:
        odoo = await _serve(create_odoo_app(settings), host, settings.sim_odoo_port, runners)
        tms = await _serve(create_tms_app(settings), host, settings.sim_tms_port, runners)
        carrier = await _serve(
            create_carrier_app(settings), host, settings.sim_carrier_port, runners
        )
        broker = await _serve(create_broker_app(settings), host, settings.sim_broker_port, runners)
        finance = await _serve(
            create_finance_app(settings.faults_for("finance")),
            host,
            settings.sim_finance_port,
            runners,
        )
        dhl = await _serve(create_dhl_app(settings), host, settings.sim_dhl_port, runners)
    except BaseException:
        await _cleanup(runners)
        raise
    return RunningSimulators(
        odoo_url=odoo,
        tms_url=tms,
        carrier_url=carrier,
        broker_url=broker,
        finance_url=finance,
        dhl_url=dhl,
        _runners=runners,
    )
