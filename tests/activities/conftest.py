"""The real shipment activities, wired to in-process simulators over real HTTP."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from activity_partners import SECRETS, Partners
from pydantic import SecretStr
from tests_support import migrated_engine

from activities.broker import BrokerClient
from activities.carriers.registry import build_carriers
from activities.carriers.settings import CarrierSettings
from activities.notify import Notifier
from activities.odoo import OdooClient
from activities.shipment import ShipmentActivities
from activities.tms import TmsClient
from simulators.app import start_simulators
from simulators.settings import SimulatorSettings, default_ports


@pytest.fixture
async def partners(tmp_path: Path) -> AsyncIterator[Partners]:
    settings = SimulatorSettings(
        sim_ports=dict.fromkeys(default_ports(), 0),
        api_url="http://127.0.0.1:9",  # nobody listens: webhooks stay out of these tests
        sim_time_scale=3600, **{k: SecretStr(v) for k, v in SECRETS.items()},
    )  # fmt: skip
    sims = await start_simulators(settings)
    odoo = OdooClient(sims.url("odoo"), "borderflow", "admin", SecretStr(SECRETS["odoo_password"]))
    clients = {
        "tms": TmsClient(sims.url("tms"), SecretStr(SECRETS["tms_api_key"])),
        "carriers": build_carriers(
            CarrierSettings(
                carrier_url=sims.url("easypost"),
                carrier_api_key=SecretStr(SECRETS["carrier_api_key"]),
                dhl_url=sims.url("dhl"),
                dhl_api_key=SecretStr(SECRETS["dhl_api_key"]),
            )
        ),
        "broker": BrokerClient(sims.url("broker"), SecretStr(SECRETS["broker_api_key"])),
        "notifier": Notifier(sims.url("notify")),
    }
    store = migrated_engine(f"sqlite:///{tmp_path / 'store.db'}")
    activities = ShipmentActivities(odoo=odoo, store=store, **clients)  # type: ignore[arg-type]
    yield Partners(sims, odoo, activities, store)
    carriers = clients.pop("carriers")
    for client in [odoo, *clients.values(), *carriers.values()]:  # type: ignore[union-attr]
        await client.aclose()
    store.dispose()
    await sims.close()
