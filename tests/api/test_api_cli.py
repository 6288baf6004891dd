"""``borderflow shipments …`` and ``borderflow inbox …`` against the live API, in a subprocess.

Success prints a table or a summary (or the API's JSON with ``--json``); any failure prints one
line on stderr and exits 1.
"""

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from api_support import start_shipment
from live import LiveApi
from temporalio.client import Client
from tests_support import free_port
from webhook_payloads import easypost_event, send

from store.tokens import Role
from store.tracking import link_tracking

BORDERFLOW = str(Path(sys.executable).parent / "borderflow")


async def borderflow(
    api: LiveApi, *args: str, role: Role = Role.ADMIN, token: str | None = None,
    url: str | None = None, home: Path,
) -> subprocess.CompletedProcess[str]:  # fmt: skip
    env = {key: value for key, value in os.environ.items() if not key.startswith("BORDERFLOW_")}
    env.update(BORDERFLOW_DATA_DIR=str(home), BORDERFLOW_API_URL=url or api.url,
               BORDERFLOW_API_TOKEN=api.token(role) if token is None else token)  # fmt: skip
    return await asyncio.to_thread(
        subprocess.run, [BORDERFLOW, *args], env=env, capture_output=True, text=True, timeout=60
    )


def one_line_error(done: subprocess.CompletedProcess[str], *words: str) -> str:
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    line = done.stderr.strip()
    assert line.startswith("borderflow: ")
    for word in words:
        assert word in line, (word, line)
    return line


async def test_list_show_and_timeline(api: LiveApi, temporal: Client, tmp_path: Path) -> None:
    carrier = f"cli{os.getpid()}x{free_port()}"
    handle = await start_shipment(temporal, carrier=carrier, lane="DE-US", breached=True)
    listed = await borderflow(api, "shipments", "list", "--carrier", carrier, home=tmp_path)
    for _ in range(100):  # visibility catches up
        if handle.id in listed.stdout:
            break
        await asyncio.sleep(0.2)
        listed = await borderflow(api, "shipments", "list", "--carrier", carrier, home=tmp_path)
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split() == ["SHIPMENT", "ORDER", "STAGE", "CARRIER", "LANE", "SLA", "STARTED"]
    assert row.split()[:6] == [handle.id, handle.id.removeprefix("shipment-"), "book", carrier,
                               "DE-US", "BREACHED"]  # fmt: skip
    as_json = await borderflow(api, "shipments", "list", "--carrier", carrier, "--breached",
                               "true", "--json", home=tmp_path)  # fmt: skip
    page = json.loads(as_json.stdout)
    assert [i["shipment_id"] for i in page["items"]] == [handle.id]
    assert page["next_cursor"] is None

    shown = await borderflow(api, "shipments", "show", handle.id, role=Role.SUPPORT, home=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith(f"{handle.id}  order ") and "stage book" in shown.stdout
    assert json.loads((await borderflow(api, "shipments", "show", handle.id, "--json",
                                        home=tmp_path)).stdout)["carrier"] == carrier  # fmt: skip
    timeline = await borderflow(api, "shipments", "timeline", handle.id, home=tmp_path)
    assert timeline.returncode == 0 and timeline.stdout.split()[:4] == ["AT", "KIND", "WHAT",
                                                                         "REASON"]  # fmt: skip
    assert " stage " in timeline.stdout and " book" in timeline.stdout
    short = await borderflow(api, "timeline", handle.id, home=tmp_path)  # the same, shorter
    assert (
        short.returncode == 0 and short.stdout.splitlines()[:3] == timeline.stdout.splitlines()[:3]
    )


async def test_actions_and_their_one_line_refusals(
    api: LiveApi, temporal: Client, tmp_path: Path
) -> None:
    handle = await start_shipment(temporal)
    promised = ("--promised-date", "2026-12-24T12:00:00+01:00")
    amended = await borderflow(api, "shipments", "amend", handle.id, *promised, "--reason", "asked",
                               home=tmp_path)  # fmt: skip
    assert amended.returncode == 0, amended.stderr
    assert amended.stdout.strip() == f"{handle.id}: amend accepted, stage book"
    rebooked = await borderflow(api, "shipments", "rebook", handle.id, "--carrier", "dhl",
                                "--reason", "cheaper", home=tmp_path)  # fmt: skip
    one_line_error(rebooked, "409 Action refused", "dhl refused the booking")
    unknown = await borderflow(api, "shipments", "rebook", handle.id, "--carrier", "pigeon",
                               "--reason", "x", home=tmp_path)  # fmt: skip
    one_line_error(unknown, "422 Invalid action", "pigeon")
    resolve = await borderflow(api, "shipments", "resolve", handle.id, "--kind", "exception",
                               "--note", "n", home=tmp_path)  # fmt: skip
    one_line_error(resolve, "409 Not allowed now")
    cancelled = await borderflow(api, "shipments", "cancel", handle.id, "--reason", "gone",
                                 "--json", home=tmp_path)  # fmt: skip
    assert json.loads(cancelled.stdout)["stage"] == "cancelled"
    await handle.result()
    again = await borderflow(api, "shipments", "cancel", handle.id, "--reason", "x", home=tmp_path)
    one_line_error(again, "409 Shipment closed", "has ended")
    support = await borderflow(api, "shipments", "cancel", handle.id, "--reason", "x",
                               role=Role.SUPPORT, home=tmp_path)  # fmt: skip
    one_line_error(support, "403 Forbidden")


async def test_inbox_list_and_replay(api: LiveApi, temporal: Client, tmp_path: Path) -> None:
    handle = await start_shipment(temporal)
    number = f"JD{uuid.uuid4().hex[:10]}"
    link_tracking(api.store, "dhl", number, handle.id)
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
        sent = await send(http, "easypost", easypost_event(number))  # another carrier's: dead
    inbox_id = sent.json()["inbox_id"]

    listed = await borderflow(api, "inbox", "list", "--state", "dead", "--limit", "200",
                              home=tmp_path)  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ID", "PARTNER", "STATE", "SHIPMENT", "ATTEMPTS", "RECEIVED",
                                "REASON"]  # fmt: skip
    (row,) = [line for line in lines if line.startswith(f"{inbox_id} ")]
    assert row.split()[:5] == [str(inbox_id), "easypost", "dead", "-", "1"]
    assert row.endswith(f"linked to dhl ({handle.id})")
    replayed = await borderflow(api, "inbox", "replay", str(inbox_id), "--json", home=tmp_path)
    answer = json.loads(replayed.stdout)  # the message after one more attempt, and its outcome
    assert {k: answer[k] for k in ("id", "state", "outcome", "attempts", "replays")} == {
        "id": inbox_id, "state": "dead", "outcome": "dead", "attempts": 2, "replays": 1,
    }  # fmt: skip
    one_line_error(await borderflow(api, "inbox", "replay", "999999", home=tmp_path), "404")
    forbidden = await borderflow(api, "inbox", "list", role=Role.OPS, home=tmp_path)
    one_line_error(forbidden, "403 Forbidden", "the ops role may not GET /v1/inbox")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("shipments", "show", "shipment-NOPE9"), ("404 Unknown shipment", "shipment-NOPE9")),
        (("shipments", "list", "--limit", "500"), ("422 Invalid request", "limit")),
        (("shipments", "list", "--lane", "de-usa"), ("422", "lane")),
    ],
)
async def test_api_errors_are_one_line(
    api: LiveApi, tmp_path: Path, args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    one_line_error(await borderflow(api, *args, home=tmp_path), *words)


async def test_no_api_or_no_token_is_one_line(api: LiveApi, tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    refused = await borderflow(api, "shipments", "list", url=nobody, home=tmp_path)
    one_line_error(refused, f"cannot reach the API at {nobody}")
    bad_token = await borderflow(api, "inbox", "list", token="bf_x.y", home=tmp_path)
    one_line_error(bad_token, "401 Unauthorized")
    no_token = await borderflow(api, "shipments", "list", token="", home=tmp_path)
    one_line_error(no_token, "no API token")
