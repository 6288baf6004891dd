"""A minimal Odoo JSON-RPC client for the tests, written from docs/partners.md."""

from typing import Any

import httpx
from sim_support import SECRETS

PASSWORD = SECRETS["odoo_password"]
ORDER = {
    "partner_id": 7,
    "partner_shipping_id": 7,
    "incoterm": 4,
    "order_line": [[0, 0, {"product_id": 1, "product_uom_qty": 2, "price_unit": 899.0}]],
}


class Odoo:
    """Calls the simulator; ``call`` expects a result, ``error`` an Odoo error envelope."""

    def __init__(self, http: httpx.AsyncClient, url: str) -> None:
        self.http = http
        self.url = url
        self.next_id = 0

    async def rpc(self, service: str, method: str, *args: Any) -> dict[str, Any]:
        self.next_id += 1
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": self.next_id,
            "params": {"service": service, "method": method, "args": list(args)},
        }
        response = await self.http.post(f"{self.url}/jsonrpc", json=payload)
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        assert body["id"] == self.next_id
        return body

    async def execute(
        self, model: str, method: str, *args: Any, password: str = PASSWORD, uid: int = 2, **kw: Any
    ) -> dict[str, Any]:
        return await self.rpc(
            "object", "execute_kw", "borderflow", uid, password, model, method, list(args), kw
        )

    async def call(self, model: str, method: str, *args: Any, **kw: Any) -> Any:
        body = await self.execute(model, method, *args, **kw)
        assert "error" not in body, body.get("error")
        return body["result"]

    async def error(self, model: str, method: str, *args: Any, **kw: Any) -> dict[str, Any]:
        body = await self.execute(model, method, *args, **kw)
        assert "result" not in body
        error: dict[str, Any] = body["error"]
        assert error["code"] == 200
        assert error["message"] == "Odoo Server Error"
        assert set(error["data"]) == {"name", "message", "arguments", "context", "debug"}
        assert error["data"]["debug"].startswith("Traceback (most recent call last):")
        return error["data"]
