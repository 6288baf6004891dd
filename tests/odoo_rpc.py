"""A bare JSON-RPC caller, independent of the adapter under test, to look inside Odoo."""

from typing import Any

import httpx


def execute_kw(
    odoo_url: str, password: str, model: str, method: str, args: list, kwargs: dict | None = None
) -> Any:
    def call(service: str, method: str, args: list) -> Any:
        body = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"service": service, "method": method, "args": args},
        }
        reply = httpx.post(f"{odoo_url}/jsonrpc", json=body, timeout=10).json()
        assert "error" not in reply, reply
        return reply["result"]

    uid = call("common", "authenticate", ["borderflow", "admin", password, {}])
    return call(
        "object", "execute_kw", ["borderflow", uid, password, model, method, args, kwargs or {}]
    )
