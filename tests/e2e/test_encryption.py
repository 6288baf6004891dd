"""`BORDERFLOW_ENCRYPTION=1 make run`: Temporal stores only ciphertext; the codec server decodes.

The platform runs as `make run` starts it (real dev server, simulators, worker, API, codec
server). The history is fetched raw, with a client that has no codec, and searched byte by byte.
"""

import asyncio
import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from odoo_rpc import execute_kw
from running_platform import BORDERFLOW, Platform
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

SHIPMENT = "shipment-S00001"
ORDER_REF = b"S00001"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    running = Platform(
        tmp_path_factory.mktemp("encrypted") / ".data", demo_shipments=1,
        ports=Platform.free_ports(), extra_env={"BORDERFLOW_ENCRYPTION": "1"},
    )  # fmt: skip
    try:
        running.wait_for("running:", timeout_s=150)
        yield running
    finally:
        running.stop()


def payloads_in(message: Message, path: str = "") -> Iterator[tuple[str, Payload]]:
    """Every Payload inside ``message``, with the field path that leads to it."""
    if isinstance(message, Payload):
        yield path, message
        return
    for field, value in message.ListFields():
        where = f"{path}.{field.name}"
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            for key, item in value.items():
                if isinstance(item, Message):
                    yield from payloads_in(item, f"{where}[{key}]")
        elif isinstance(value, Message):
            yield from payloads_in(value, where)
        else:  # a repeated message field
            for index, item in enumerate(value):
                yield from payloads_in(item, f"{where}[{index}]")


def raw_history(platform: Platform) -> list[HistoryEvent]:
    async def fetch() -> list[HistoryEvent]:
        plain = await Client.connect(f"127.0.0.1:{platform.ports['temporal']}")  # no codec
        history = await plain.get_workflow_handle(SHIPMENT).fetch_history()
        return list(history.events)

    return asyncio.run(fetch())


def consignee_street(platform: Platform) -> bytes:
    """The delivery address's street: personal data that only payloads carry (the consignee's
    *name* is also a search attribute, ``Customer``, which the server indexes in clear)."""
    password = platform.local_env()["BORDERFLOW_ODOO_PASSWORD"]
    (order,) = execute_kw(
        platform.odoo_url, password, "sale.order", "search_read",
        [[["name", "=", ORDER_REF.decode()]]], {"fields": ["partner_shipping_id"]},
    )  # fmt: skip
    (partner,) = execute_kw(
        platform.odoo_url, password, "res.partner", "read",
        [[order["partner_shipping_id"][0]]], {"fields": ["street"]},
    )  # fmt: skip
    return str(partner["street"]).encode()


def as_json(payloads: list[Payload]) -> dict:
    return json_format.MessageToDict(Payloads(payloads=payloads))


def decoded_data(body: dict) -> bytes:
    return b"\n".join(base64.b64decode(p.get("data", "")) for p in body["payloads"])


def test_history_holds_no_readable_payload(platform: Platform) -> None:
    assert "demo: every shipment invoiced" in platform.output, platform.output
    keys = platform.local_env()["BORDERFLOW_ENCRYPTION_KEYS"]
    assert keys.startswith("local1:")
    events = raw_history(platform)
    raw = b"".join(event.SerializeToString() for event in events)
    found = [(path, p) for event in events for path, p in payloads_in(event)]
    # Two kinds of payload stay plain by design, and carry no business data: search attributes
    # (the server indexes them; no PII goes there) and the SDK's own patch markers, which
    # record a `workflow.patched` id such as "canonical-v2".
    internal = (".search_attributes", "[patch-data]")
    data = [(path, p) for path, p in found if not any(part in path for part in internal)]
    patches = [p.data for path, p in found if "[patch-data]" in path]
    assert patches and all(b'"id"' in patch and ORDER_REF not in patch for patch in patches)
    assert len(data) >= 20, [path for path, _ in data]
    clear = [path for path, p in data if p.metadata.get("encoding") != b"binary/encrypted"]
    assert clear == []
    assert {p.metadata["encryption-key-id"] for _, p in data} == {b"local1"}
    assert not [path for path, p in data if ORDER_REF in p.SerializeToString()]

    # The consignee's street, which only payloads carry, is nowhere in the raw history bytes...
    street = consignee_street(platform)
    assert len(street) > 3 and street not in raw
    assert base64.b64decode(keys.split(":", 1)[1]) not in raw
    # ...while the codec server, given a token, gives it back in clear.
    token = platform.local_env()["BORDERFLOW_API_TOKEN"]
    codec = f"http://127.0.0.1:{platform.ports['codec']}"
    reply = httpx.post(
        f"{codec}/decode", json=as_json([p for _, p in data]),
        headers={"Authorization": f"Bearer {token}", "X-Namespace": "default"}, timeout=30,
    )  # fmt: skip
    assert reply.status_code == 200, reply.text
    readable = decoded_data(reply.json())
    assert street in readable and b'"order_ref":"S00001"' in readable
    refused = httpx.post(f"{codec}/decode", json=as_json([data[0][1]]), timeout=30)
    assert refused.status_code == 401


def test_the_local_ui_is_pointed_at_the_codec_server_and_can_decode(platform: Platform) -> None:
    ui_port = platform.ports["temporal_ui"]
    settings = httpx.get(f"http://127.0.0.1:{ui_port}/api/v1/settings", timeout=10).json()
    endpoint = settings["Codec"]["Endpoint"]
    assert endpoint.startswith(f"http://127.0.0.1:{platform.ports['codec']}/t/bf_")
    # What the UI's browser code does: a preflight, then POST {endpoint}/decode with no
    # Authorization header; the token rides in the endpoint's path.
    origin = f"http://localhost:{ui_port}"
    preflight = httpx.options(
        f"{endpoint}/decode", timeout=10,
        headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type,x-namespace"},
    )  # fmt: skip
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == origin
    [started, *_] = raw_history(platform)
    payload = started.workflow_execution_started_event_attributes.input.payloads[0]
    reply = httpx.post(
        f"{endpoint}/decode", json=as_json([payload]), timeout=10,
        headers={"Origin": origin, "X-Namespace": "default"},
    )  # fmt: skip
    assert reply.status_code == 200 and reply.headers["Access-Control-Allow-Origin"] == origin
    assert ORDER_REF in decoded_data(reply.json())


def test_the_temporal_cli_decodes_through_the_codec_server(platform: Platform) -> None:
    temporal = str(Path(BORDERFLOW).parent / "temporal")
    show = [temporal, "workflow", "show", "--workflow-id", SHIPMENT, "--output", "json",
            "--address", f"127.0.0.1:{platform.ports['temporal']}"]  # fmt: skip
    token = platform.local_env()["BORDERFLOW_API_TOKEN"]
    codec = ["--codec-endpoint", f"http://127.0.0.1:{platform.ports['codec']}",
             "--codec-auth", f"Bearer {token}"]  # fmt: skip
    raw = subprocess.run(show, capture_output=True, text=True, timeout=60, check=True).stdout
    decoded = subprocess.run(
        show + codec, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    encrypted_marker = base64.b64encode(b"binary/encrypted").decode()
    plain_marker = base64.b64encode(b"json/plain").decode()
    # Raw: every payload encrypted (search attributes aside); decoded: none is.
    assert raw.count(encrypted_marker) >= 20
    assert decoded.count(encrypted_marker) == 0 and decoded.count(plain_marker) >= 20


def test_the_worker_serves_its_probes(platform: Platform) -> None:
    base = f"http://127.0.0.1:{platform.ports['worker_metrics']}"
    assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200
    ready = httpx.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 200
    assert "borderflow-shipments" in ready.json()["task_queues"]
