"""`BORDERFLOW_ENCRYPTION=1 make run`: Temporal stores only ciphertext; the codec server decodes.

The platform runs as `make run` starts it (real dev server, simulators, worker, API, codec
server). The history is fetched raw, with a client that has no codec, and searched byte by byte.
"""

import asyncio
import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from google.protobuf.message import Message
from odoo_rpc import execute_kw
from running_platform import BORDERFLOW, Platform, child_running
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client

SHIPMENT = "shipment-S00001"
ORDER_REF = b"S00001"
WEBHOOK_SECRET = "easypost-secret-from-the-environment"
ENVIRONMENT = {"BORDERFLOW_ENCRYPTION": "1", "BORDERFLOW_EASYPOST_WEBHOOK_SECRET": WEBHOOK_SECRET}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    running = Platform(
        tmp_path_factory.mktemp("encrypted") / ".data", demo_shipments=1,
        ports=Platform.free_ports(), extra_env=ENVIRONMENT,
    )  # fmt: skip
    try:
        running.wait_for("running:", timeout_s=150)
        yield running
    finally:
        running.stop()


LOCAL_ACTIVITY_KEYS = {
    "seq", "attempt", "activity_id", "activity_type", "complete_time", "backoff",
    "original_schedule_time", "activation_index",
}  # fmt: skip
"""What the SDK records in clear about a local activity (``core_local_activity`` marker)."""


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


def consignee(platform: Platform) -> dict:
    """The delivery partner as Odoo has it: personal data that only payloads may carry (the
    ``Customer`` search attribute is the ordering partner's id, never a name)."""
    password = platform.local_env()["BORDERFLOW_ODOO_PASSWORD"]
    (order,) = execute_kw(
        platform.odoo_url, password, "sale.order", "search_read",
        [[["name", "=", ORDER_REF.decode()]]], {"fields": ["partner_shipping_id"]},
    )  # fmt: skip
    (partner,) = execute_kw(
        platform.odoo_url, password, "res.partner", "read",
        [[order["partner_shipping_id"][0]]], {"fields": ["street", "name", "email", "phone"]},
    )  # fmt: skip
    return dict(partner)


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
    # Three kinds of payload stay plain by design, and carry no business data: search
    # attributes (the server indexes them; no PII goes there), the SDK's own patch markers,
    # which record a `workflow.patched` id (none before the first release), and the SDK's
    # bookkeeping of a local activity (sequence, attempt, activity type, times).
    local = "marker_recorded_event_attributes.details[data]"
    internal = (".search_attributes", "[patch-data]", local)
    data = [(path, p) for path, p in found if not any(part in path for part in internal)]
    patches = [p.data for path, p in found if "[patch-data]" in path]
    assert all(b'"id"' in patch and ORDER_REF not in patch for patch in patches)
    bookkeeping = [json.loads(p.data) for path, p in found if local in path]
    assert bookkeeping and all(set(b) <= LOCAL_ACTIVITY_KEYS for b in bookkeeping), bookkeeping
    results = [path for path, _ in data if "marker_recorded" in path]
    assert results, [path for path, _ in data]  # a local activity's result is encrypted too
    assert len(data) >= 20, [path for path, _ in data]
    clear = [path for path, p in data if p.metadata.get("encoding") != b"binary/encrypted"]
    assert clear == []
    assert {p.metadata["encryption-key-id"] for _, p in data} == {b"local1"}
    assert not [path for path, p in data if ORDER_REF in p.SerializeToString()]

    # The consignee's name, street, email and phone, which only payloads carry, are nowhere in
    # the raw history bytes (search attributes and user metadata included)...
    party = consignee(platform)
    street = str(party["street"]).encode()
    assert len(street) > 3 and street not in raw
    for field in ("name", "email", "phone"):
        if party[field]:
            assert str(party[field]).encode() not in raw, field
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


def test_the_local_ui_is_pointed_at_the_codec_server_and_decodes_once_signed_in(
    platform: Platform,
) -> None:
    ui_port, codec_port = platform.ports["temporal_ui"], platform.ports["codec"]
    token = platform.local_env()["BORDERFLOW_CODEC_UI_TOKEN"]
    # The dev server shows its UI codec endpoint to anyone who can reach the UI, and its argv
    # to every local user: neither holds a token.
    settings = httpx.get(f"http://127.0.0.1:{ui_port}/api/v1/settings", timeout=10).json()
    endpoint = settings["Codec"]["Endpoint"]
    assert endpoint == f"http://localhost:{codec_port}"
    temporal = child_running(platform.process.pid, "start-dev")
    argv = Path(f"/proc/{temporal}/cmdline").read_bytes()
    assert b"--ui-codec-endpoint" in argv and b"bf_" not in argv
    assert token.split(".", 1)[1].encode() not in argv
    # The UI's token is a codec token: the API refuses it everywhere, even a read.
    api = httpx.get(f"{platform.api_url}/v1/shipments", timeout=10,
                    headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert api.status_code == 403, api.text
    # What a browser does: sign in on the codec server's page (its own origin), then the UI
    # (its "include cross-origin credentials" setting) decodes with the cookie.
    origin = f"http://localhost:{ui_port}"
    [started, *_] = raw_history(platform)
    payload = started.workflow_execution_started_event_attributes.input.payloads[0]
    codec = f"http://127.0.0.1:{codec_port}"
    with httpx.Client(base_url=codec, timeout=10) as browser:
        before = browser.post("/decode", json=as_json([payload]), headers={"Origin": origin})
        assert before.status_code == 401
        # the form of the codec server's own /login page posts with its own origin
        login = browser.post("/login", data={"token": token}, headers={"Origin": codec})
        assert login.status_code == 200, login.text
        preflight = browser.options(
            "/decode",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                     "Access-Control-Request-Headers": "content-type,x-namespace"},
        )  # fmt: skip
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Credentials"] == "true"
        reply = browser.post("/decode", json=as_json([payload]),
                             headers={"Origin": origin, "X-Namespace": "default"})  # fmt: skip
        assert reply.status_code == 200 and reply.headers["Access-Control-Allow-Origin"] == origin
        assert ORDER_REF in decoded_data(reply.json())
        encode = browser.post("/encode", json=as_json([payload]), headers={"Origin": origin})
        assert encode.status_code == 403  # a codec token only decodes


def test_a_secret_set_in_the_environment_wins_over_local_env(platform: Platform) -> None:
    kept = platform.local_env()["BORDERFLOW_EASYPOST_WEBHOOK_SECRET"]
    assert kept and kept != WEBHOOK_SECRET  # local.env keeps its own, never the environment's
    for child in ("-m api", "-m simulators"):
        pid = child_running(platform.process.pid, child)
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        secret = f"BORDERFLOW_EASYPOST_WEBHOOK_SECRET={WEBHOOK_SECRET}".encode()
        assert secret in environ, child


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
