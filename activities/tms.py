"""TMS adapter: transport orders over the TMS's REST API (our dialect, see docs/partners.md)."""

import httpx
from pydantic import SecretStr

from activities.errors import new_http_client
from activities.rest import RestPartner
from activities.wire import WireModel
from canonical.shipment import Shipment

PARTNER = "tms"


class TransportOrder(WireModel):
    id: str
    reference: str
    status: str


class TmsClient:
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

    async def create_transport_order(
        self, reference: str, shipment: Shipment, *, idempotency_key: str
    ) -> TransportOrder:
        body = {
            "reference": reference,
            "shipper": shipment.shipper.model_dump(mode="json"),
            "consignee": shipment.consignee.model_dump(mode="json"),
            "packages": [package.model_dump(mode="json") for package in shipment.packages],
            "carrier": shipment.carrier,
        }
        return await self._rest.call(
            "POST",
            "/api/v1/transport-orders",
            TransportOrder,
            json=body,
            idempotency_key=idempotency_key,
        )

    async def transport_order(self, order_id: str) -> TransportOrder:
        return await self._rest.call("GET", f"/api/v1/transport-orders/{order_id}", TransportOrder)

    async def cancel_transport_order(
        self, order_id: str, *, idempotency_key: str
    ) -> TransportOrder:
        """Cancel the order; cancelling a cancelled order succeeds (repeat-safe)."""
        return await self._rest.call(
            "POST", f"/api/v1/transport-orders/{order_id}/cancel", TransportOrder,
            idempotency_key=idempotency_key,
        )  # fmt: skip
