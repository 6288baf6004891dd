"""The audit trail and the logs of one real lifecycle: API, interceptor, CLI, JSON lines."""

import asyncio
import json
import os
import sys
from pathlib import Path

import httpx
from observed_lifecycle import Lifecycle
from opentelemetry.trace import format_trace_id
from pydantic import SecretStr

from activities.odoo import OdooClient
from cli.demo import DEMO_PACKAGE, create_demo_order
from store.tokens import Role, create_token

BORDERFLOW = str(Path(sys.executable).parent / "borderflow")
PARTNERS = {"odoo", "tms", "easypost", "broker", "notify"}


async def audit(lifecycle: Lifecycle, **params: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=30) as http:
        return await http.get(
            f"{lifecycle.api_url}/v1/audit", params=params, headers=lifecycle.headers
        )


async def test_every_partner_call_and_the_start_are_in_the_audit_trail(
    lifecycle: Lifecycle,
) -> None:
    reply = await audit(lifecycle, shipment=lifecycle.shipment_id, limit="200")
    assert reply.status_code == 200
    entries = reply.json()["items"]
    assert reply.json()["next_after"] is None
    assert entries == sorted(entries, key=lambda entry: entry["id"])
    (start,) = [entry for entry in entries if entry["kind"] == "ops_action"]
    token_id = lifecycle.headers["Authorization"].split()[1][3:].split(".")[0]
    assert (start["operation"], start["token_id"], start["role"], start["outcome"]) == (
        "shipment.start",
        token_id,
        "admin",
        "ok",
    )
    assert start["before"] is None
    assert start["after"]["request"]["order_ref"] == lifecycle.order_ref
    assert start["after"]["response"]["shipment_id"] == lifecycle.shipment_id
    trace_id = start["trace_id"]
    assert trace_id and len(trace_id) == 32

    calls = [entry for entry in entries if entry["kind"] == "partner_call"]
    assert PARTNERS <= {call["partner"] for call in calls}
    for call in calls:
        assert call["outcome"] == "ok", call
        # the customs filing runs in the shipment's child workflow (its own workflow id)
        workflow_id = call["idempotency_key"].rsplit(":", 1)[0]
        assert call["idempotency_key"] == f"{workflow_id}:{call['operation']}"
        assert workflow_id.startswith(lifecycle.shipment_id)
        assert call["trace_id"] == trace_id  # the same trace as the API request
        assert call["attempt"] >= 1 and call["latency_ms"] >= 0
        assert call["shipment_id"] == lifecycle.shipment_id
    (booking,) = [call for call in calls if call["operation"] == "book_carrier"]
    assert booking["partner"] == "easypost"
    assert booking["request_summary"]["shipment_id"] == lifecycle.shipment_id
    # Personal data never reaches the trail: no consignee name, street or e-mail.
    stored = json.dumps(entries)
    assert "@" not in stored
    assert lifecycle.final is not None
    consignee = lifecycle.final["shipment"]["consignee"]
    for personal in (consignee["name"], *consignee["address"]["lines"]):
        assert personal not in stored


async def test_a_recorded_milestone_is_an_ops_action_and_the_audit_is_paged(
    lifecycle: Lifecycle,
) -> None:
    # An invoiced shipment takes no event (409, its workflow has ended): nothing recorded.
    async with httpx.AsyncClient(timeout=30) as http:
        refused = await http.post(
            f"{lifecycle.api_url}/v1/shipments/{lifecycle.shipment_id}/events",
            headers=lifecycle.headers, json={"milestone": "EXCEPTION", "reason": "x"},
        )  # fmt: skip
    assert refused.status_code == 409 and refused.json()["title"] == "Shipment closed"
    entries = (await audit(lifecycle, shipment=lifecycle.shipment_id, limit="200")).json()
    assert [e for e in entries["items"] if e["operation"] == "shipment.record_event"] == []
    first = (await audit(lifecycle, shipment=lifecycle.shipment_id, limit="2")).json()
    assert len(first["items"]) == 2 and first["next_after"] == first["items"][-1]["id"]
    rest = (await audit(lifecycle, shipment=lifecycle.shipment_id, after=str(first["next_after"]),
                        limit="200")).json()  # fmt: skip
    assert first["items"] + rest["items"] == entries["items"]
    assert (await audit(lifecycle, limit="0")).status_code == 400
    assert (await audit(lifecycle, after="x")).status_code == 400
    assert (await audit(lifecycle, shipment="shipment-NOPE")).json()["items"] == []


async def test_a_milestone_recorded_by_ops_is_an_ops_action_with_a_masked_reason(
    lifecycle: Lifecycle,
) -> None:
    async with httpx.AsyncClient(timeout=60) as http:
        held = await http.post(f"{lifecycle.sims.url('broker')}/_sim/faults",
                               json={"customs": {"hold_next": 1}})  # fmt: skip
        held.raise_for_status()  # the next shipment waits in customs: it keeps running
        odoo = OdooClient(lifecycle.sims.url("odoo"), "borderflow", "admin", SecretStr("odoo-pw"))
        try:
            order_ref = await create_demo_order(odoo, 1)
        finally:
            await odoo.aclose()
        keyed = {**lifecycle.headers, "Idempotency-Key": f"start-{order_ref}"}
        body = {"order_ref": order_ref, "packages": [DEMO_PACKAGE]}
        started = await http.post(f"{lifecycle.api_url}/v1/shipments", headers=keyed, json=body)
        assert started.status_code == 201, started.text
        again = await http.post(f"{lifecycle.api_url}/v1/shipments", headers=keyed, json=body)
        assert again.headers["Idempotent-Replayed"] == "true"  # a replay is not a new action
        shipment_id = started.json()["shipment_id"]
        recorded = await http.post(
            f"{lifecycle.api_url}/v1/shipments/{shipment_id}/events",
            headers={**lifecycle.headers, "Idempotency-Key": "ops-note-1"},
            json={"milestone": "EXCEPTION", "reason": "jane@example.com says: damaged"},
        )  # fmt: skip
        assert recorded.status_code == 200, recorded.text  # the shipment as it now stands
    entries = (await audit(lifecycle, shipment=shipment_id, limit="200")).json()["items"]
    actions = [entry for entry in entries if entry["kind"] == "ops_action"]
    assert [action["operation"] for action in actions] == [
        "shipment.start",
        "shipment.record_event",
    ]
    event = actions[1]
    assert event["after"]["request"] == {"milestone": "EXCEPTION", "reason": "*** says: damaged"}
    answer = recorded.json()
    assert event["after"]["response"] == {  # the answer's identity, not the whole shipment
        "shipment_id": shipment_id,
        "order_ref": order_ref,
        "stage": answer["stage"],
    }
    assert answer["events"][-1]["milestone"] == "EXCEPTION"
    assert event["role"] == "admin" and event["shipment_id"] == shipment_id


async def test_an_inbox_replay_is_an_ops_action(lifecycle: Lifecycle) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        inbox = await http.get(f"{lifecycle.api_url}/v1/inbox?limit=1", headers=lifecycle.headers)
        (message,) = inbox.json()["items"]
        replayed = await http.post(f"{lifecycle.api_url}/v1/inbox/{message['id']}/replay",
                                   headers=lifecycle.headers)  # fmt: skip
        assert replayed.status_code == 200
    entries = (await audit(lifecycle, limit="200")).json()["items"]
    while len(entries) % 200 == 0 and entries:  # page to the end
        more = (await audit(lifecycle, limit="200", after=str(entries[-1]["id"]))).json()["items"]
        if not more:
            break
        entries += more
    replays = [entry for entry in entries if entry["operation"] == "inbox.replay"]
    answer = replayed.json()  # the replay is audited under the shipment it was delivered to
    assert replays[-1]["after"]["response"] == {
        "id": message["id"], "state": answer["state"], "shipment_id": answer["shipment_id"],
    }  # fmt: skip
    assert replays[-1]["role"] == "admin"
    assert replays[-1]["shipment_id"] == answer["shipment_id"] == message["shipment_id"]


async def test_support_and_admin_read_the_audit_ops_and_finance_do_not(
    lifecycle: Lifecycle,
) -> None:
    async with httpx.AsyncClient(timeout=30) as http:
        for role, status in ((Role.SUPPORT, 200), (Role.OPS, 403), (Role.FINANCE, 403)):
            _, token = create_token(lifecycle.store, role, f"audit test {role}")
            reply = await http.get(f"{lifecycle.api_url}/v1/audit",
                                   headers={"Authorization": f"Bearer {token}"})  # fmt: skip
            assert reply.status_code == status, role
        assert (await http.get(f"{lifecycle.api_url}/v1/audit")).status_code == 401


async def borderflow(lifecycle: Lifecycle, *args: str, api_url: str = "") -> tuple[int, str, str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("BORDERFLOW_")},
           "BORDERFLOW_DATA_DIR": str(lifecycle.data_dir),
           "BORDERFLOW_API_URL": api_url or lifecycle.api_url,
           "BORDERFLOW_API_TOKEN": lifecycle.headers["Authorization"].split()[1]}  # fmt: skip
    process = await asyncio.create_subprocess_exec(
        BORDERFLOW, *args, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_borderflow_audit_prints_the_trail_or_one_line_why_not(lifecycle: Lifecycle) -> None:
    code, out, _ = await borderflow(lifecycle, "audit", lifecycle.shipment_id)
    assert code == 0
    lines = out.splitlines()
    (start,) = [line for line in lines if "ops_action" in line and "shipment.start" in line]
    assert "(admin)" in start
    assert any("create_transport_order" in line and " tms " in line for line in lines)
    calls = [line for line in lines if "partner_call" in line]
    actions = [line for line in lines if "ops_action" in line]  # the start, inbox replays
    assert len(calls) == len(lines) - len(actions)
    assert all(f"key {lifecycle.shipment_id}" in line for line in calls)
    code, out, _ = await borderflow(lifecycle, "audit", lifecycle.shipment_id, "--json")
    api = (await audit(lifecycle, shipment=lifecycle.shipment_id, limit="200")).json()["items"]
    assert code == 0 and json.loads(out) == api
    code, out, err = await borderflow(lifecycle, "audit", "shipment-NOPE")  # as `show` does
    assert (code, out, err.strip()) == (1, "", "borderflow: no shipment shipment-NOPE")
    code, out, err = await borderflow(lifecycle, "audit", "x", api_url="http://127.0.0.1:9")
    assert code == 1 and out == "" and len(err.strip().splitlines()) == 1
    assert err.startswith("borderflow: cannot reach the API")


def test_logs_inside_an_activity_carry_the_workflow_and_the_trace(lifecycle: Lifecycle) -> None:
    lines = [json.loads(line) for line in lifecycle.log_after.splitlines()]
    assert len(lines) > 50  # every record of the lifecycle: partners, API, simulators
    assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    booked_lines = [line for line in lines if line["logger"] == "activities.carriers.easypost"
                    and "booked as" in line["message"]]  # fmt: skip
    assert len(booked_lines) == 1, sorted({line["logger"] for line in lines})
    (booked,) = booked_lines
    assert booked["workflow_id"] == booked["shipment_id"] == lifecycle.shipment_id
    assert booked["activity"] == "book_carrier"
    (request,) = [
        span
        for span in lifecycle.finished_spans()
        if span.name == "POST /v1/shipments"
        and span.attributes
        and span.attributes["http.response.status_code"] == 201
    ]
    assert booked["trace_id"] == format_trace_id(request.context.trace_id)
    assert len(booked["span_id"]) == 16
