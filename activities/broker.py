"""Customs broker adapter: declarations over the broker's REST API (our dialect)."""

import httpx
from pydantic import SecretStr

from activities.errors import new_http_client
from activities.rest import RestPartner
from activities.wire import WireModel
from canonical.customs import CustomsDirection
from canonical.shipment import Shipment

PARTNER = "broker"


class Declaration(WireModel):
    id: str
    reference: str
    lrn: str
    mrn: str | None = None
    status: str
    hold_reason: str | None = None


class BrokerClient:
    def __init__(
        self,
        url: str,
        api_key: SecretStr,
        *,
        timeout_s: float = 15.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key.get_secret_value()}"}
        self._rest = RestPartner(
            PARTNER,
            http or new_http_client(url, timeout_s=timeout_s, headers=headers, partner=PARTNER),
        )

    async def aclose(self) -> None:
        await self._rest.aclose()

    async def file_export_declaration(
        self, reference: str, shipment: Shipment, tracking_number: str, *, idempotency_key: str
    ) -> Declaration:
        return await self.file_declaration(
            reference, shipment, tracking_number, CustomsDirection.EXPORT,
            idempotency_key=idempotency_key,
        )  # fmt: skip

    async def file_declaration(
        self,
        reference: str,
        shipment: Shipment,
        tracking_number: str,
        direction: CustomsDirection,
        *,
        idempotency_key: str,
    ) -> Declaration:
        """File an export (at origin) or import (at destination) declaration, once per key."""
        body = {
            "reference": reference,
            "direction": direction.value,
            "exporter": shipment.shipper.model_dump(mode="json"),
            "importer": shipment.consignee.model_dump(mode="json"),
            "origin_country": shipment.shipper.address.country,
            "destination_country": shipment.consignee.address.country,
            "incoterm": shipment.incoterm.value,
            "tracking_number": tracking_number,
            "goods": [
                {
                    "description": line.description,
                    "hs_code": line.tariff_code,
                    "origin_country": line.origin_country,
                    "quantity": str(line.quantity),
                    "value": line.value.model_dump(mode="json"),
                }
                for line in shipment.commodities
            ],
        }
        return await self._rest.call(
            "POST", "/api/v1/declarations", Declaration, json=body, idempotency_key=idempotency_key
        )

    async def declaration(self, declaration_id: str) -> Declaration:
        """The declaration's current status (the fallback when status webhooks stop)."""
        return await self._rest.call("GET", f"/api/v1/declarations/{declaration_id}", Declaration)

    async def cancel_declaration(self, declaration_id: str, *, idempotency_key: str) -> Declaration:
        """Withdraw the filing; a released declaration cannot be withdrawn (business error)."""
        return await self._rest.call(
            "POST", f"/api/v1/declarations/{declaration_id}/cancel", Declaration,
            idempotency_key=idempotency_key,
        )  # fmt: skip
