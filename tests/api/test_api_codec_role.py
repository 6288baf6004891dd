"""The ``codec`` role decodes on the codec server and does nothing on the API: every route is 403.

The codec token sits where a browser UI can read it (the Temporal UI's codec login), so it must
not open the API: not even a read, since shipment reads show names and addresses in clear.
"""

import re

import httpx
from live import LiveApi

from api.auth import PERMISSIONS
from store.tokens import Role

SAMPLE_PATH_VALUES = {
    "shipment_id": "shipment-S00001",
    "message_id": "1",
}


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES[m.group(1)], path)


async def test_every_api_route_refuses_a_codec_token(api: LiveApi) -> None:
    codec = api.headers(Role.CODEC)
    support = api.headers(Role.SUPPORT)
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        for method, path in PERMISSIONS:
            reply = await http.request(method, concrete(path), headers=codec, json={})
            assert reply.status_code == 403, (method, path, reply.text)
            assert reply.headers["content-type"].startswith("application/problem+json")
            assert reply.json()["detail"] == f"the codec role may not {method} {path}"
        # the same read with a support token passes the gate (it is the role that is refused)
        read = await http.get("/v1/shipments", headers=support)
        assert read.status_code == 200, read.text
