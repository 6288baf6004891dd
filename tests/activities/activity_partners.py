"""The real shipment activities wired to in-process simulators (see conftest.py)."""

from dataclasses import dataclass

import httpx
from sqlalchemy.engine import Engine

from activities.odoo import OdooClient
from activities.shipment import ShipmentActivities
from simulators.app import RunningSimulators

SECRETS = {
    "odoo_password": "odoo-pw",
    "tms_api_key": "tms-key",
    "carrier_api_key": "carrier-key",
    "broker_api_key": "broker-key",
    "easypost_webhook_secret": "easypost-secret",
    "broker_webhook_secret": "broker-secret",
    "dhl_api_key": "dhl-key",
}


@dataclass
class Partners:
    sims: RunningSimulators
    odoo: OdooClient
    activities: ShipmentActivities
    store: Engine

    async def calls(self, method: str) -> list[dict]:
        """What the Odoo simulator received for one ORM method."""
        async with httpx.AsyncClient() as http:
            calls = (await http.get(f"{self.sims.url('odoo')}/_sim/calls")).json()
        return [call for call in calls if call["method"] == method]
