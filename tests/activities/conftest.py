"""The real shipment activities, wired to in-process simulators over real HTTP."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from activity_partners import SECRETS, Partners
from pydantic import SecretStr
from tests_support import migrated_engine

from activities.broker import BrokerClient
from activities.carriers.registry import CarrierSettings, build_carriers
from activities.notify import Notifier
from activities.odoo import OdooClient
from activities.shipment import ShipmentActivities
from activities.tms import TmsClient
from simulators.app import start_simulators
from simulators.settings import SimulatorSettings


@pytest.fixture
async def partners(tmp_path: Path) -> AsyncIterator[Partners]:
    settings = SimulatorSettings(
        sim_odoo_port=0, sim_tms_port=0, sim_carrier_port=0, sim_broker_port=0,
        sim_finance_port=0, sim_dhl_port=0,
        api_url="http://127.0.0.1:9",  # nobody listens: webhooks stay out of these tests
        sim_time_scale=3600, **{k: SecretStr(v) for k, v in SECRETS.items()},
    )  # fmt: skip
    sims = await start_simulators(settings)
    odoo = OdooClient(sims.odoo_url, "borderflow", "admin", SecretStr(SECRETS["odoo_password"]))
    clients = {
        "tms": TmsClient(sims.tms_url, SecretStr(SECRETS["tms_api_key"])),
        "carriers": build_carriers(
            CarrierSettings(
                easypost_url=sims.carrier_url,
                easypost_api_key=SecretStr(SECRETS["carrier_api_key"]),
                dhl_url=sims.dhl_url,
                dhl_api_key=SecretStr(SECRETS["dhl_api_key"]),
            )
        ),
        "broker": BrokerClient(sims.broker_url, SecretStr(SECRETS["broker_api_key"])),
        "notifier": Notifier(sims.finance_url),
    }
    store = migrated_engine(f"sqlite:///{tmp_path / 'store.db'}")
    activities = ShipmentActivities(odoo=odoo, store=store, **clients)  # type: ignore[arg-type]
    yield Partners(sims, odoo, activities, store)
    carriers = clients.pop("carriers")
    for client in [odoo, *clients.values(), *carriers.values()]:  # type: ignore[union-attr]
        await client.aclose()
    store.dispose()
    await sims.close()
