"""Ops actions over HTTP: each a workflow update, each failure mapped to its status.

The API runs live against the real dev server; the workflow is the stand-in of
``stand_in.py``, whose validators refuse the way ``workflows/ops.py`` says the real one does.
"""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from aiohttp.test_utils import TestServer
from api_support import start_shipment
from live import LiveApi
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from tests_support import migrated_engine

from api.app import create_app
from api.settings import ApiSettings
from canonical.shipment import Stage
from store.tokens import Role, create_token
from workflows.client import connect


@pytest.fixture
async def http(api: LiveApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api.url, headers=api.headers(), timeout=30) as client:
        yield client


def assert_problem(reply: httpx.Response, status: int, *words: str) -> dict:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    body = reply.json()
    assert body["status"] == status
    text = f"{body['title']} {body.get('detail', '')}"
    for word in words:
        assert word in text, (word, body)
    return body


async def test_cancel_answers_the_new_status_and_records_who_asked(
    api: LiveApi, http: httpx.AsyncClient, temporal: Client
) -> None:
    handle = await start_shipment(temporal)
    token = api.token(Role.OPS)
    reply = await http.post(f"/v1/shipments/{handle.id}/cancel", json={"reason": "customer"},
                            headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert reply.status_code == 200, reply.text
    status = reply.json()
    assert status["stage"] == "cancelled" and status["shipment_id"] == handle.id
    assert status["status_url"] == f"/v1/shipments/{handle.id}"
    token_id = token.removeprefix("bf_").split(".")[0]
    (entry,) = status["log"]
    assert entry["title"] == "cancelled"
    assert entry["details"] == {"actor": f"{token_id}/ops", "why": "customer"}

    # The workflow has ended: a second action is a conflict, not "unknown".
    await handle.result()
    again = await http.post(f"/v1/shipments/{handle.id}/cancel", json={"reason": "again"})
    assert_problem(again, 409, "ended")


async def test_a_state_that_refuses_the_action_is_409(
    http: httpx.AsyncClient, temporal: Client
) -> None:
    handle = await start_shipment(temporal)
    await handle.signal("set_stage", Stage.DELIVERY)
    reply = await http.post(f"/v1/shipments/{handle.id}/cancel", json={"reason": "late"})
    assert assert_problem(reply, 409, "Not allowed now", "delivery")["code"] == "NotAllowedNow"
    resolve = await http.post(f"/v1/shipments/{handle.id}/resolve",
                              json={"kind": "exception", "note": "booked by phone"})  # fmt: skip
    assert_problem(resolve, 409, "no exception to resolve")
    amend = await http.post(f"/v1/shipments/{handle.id}/amend",
                            json={"service_level": "express", "reason": "upgrade"})  # fmt: skip
    assert_problem(amend, 409, "booked already")


async def test_an_update_the_workflow_finds_invalid_is_422(
    http: httpx.AsyncClient, temporal: Client
) -> None:
    handle = await start_shipment(temporal)
    nothing = await http.post(f"/v1/shipments/{handle.id}/amend", json={"reason": "no change"})
    assert assert_problem(nothing, 422, "nothing to amend")["code"] == "InvalidUpdate"
    unknown = await http.post(f"/v1/shipments/{handle.id}/rebook",
                              json={"carrier": "pigeon", "reason": "faster"})  # fmt: skip
    assert_problem(unknown, 422, "pigeon")


async def test_an_update_that_fails_otherwise_is_409_with_its_message(
    http: httpx.AsyncClient, temporal: Client
) -> None:
    handle = await start_shipment(temporal)
    refused = await http.post(f"/v1/shipments/{handle.id}/rebook",
                              json={"carrier": "dhl", "reason": "cheaper"})  # fmt: skip
    body = assert_problem(refused, 409, "dhl refused the booking")
    assert body["code"] == "BookingRefused"


async def test_accepted_actions_change_the_shipment(
    http: httpx.AsyncClient, temporal: Client
) -> None:
    handle = await start_shipment(temporal)
    amended = await http.post(f"/v1/shipments/{handle.id}/amend",
                              json={"promised_date": "2026-12-24T12:00:00+01:00",
                                    "reason": "customer asked"})  # fmt: skip
    assert amended.status_code == 200, amended.text
    assert amended.json()["promised_date"] == "2026-12-24T12:00:00+01:00"
    rebooked = await http.post(f"/v1/shipments/{handle.id}/rebook", json={"reason": "faster"})
    assert rebooked.status_code == 200 and rebooked.json()["carrier"] == "easypost"
    await handle.signal("set_stage", Stage.EXCEPTION)
    resolution = {"kind": "exception", "note": "ok", "carrier": "dhl"}
    resolved = await http.post(f"/v1/shipments/{handle.id}/resolve", json=resolution)
    assert resolved.status_code == 200 and resolved.json()["stage"] == "customs"
    assert [e["title"] for e in resolved.json()["log"]] == ["amended", "rebooked", "resolved"]


async def test_bad_bodies_unknown_shipments_and_roles(
    api: LiveApi, http: httpx.AsyncClient, temporal: Client
) -> None:
    handle = await start_shipment(temporal)
    path = f"/v1/shipments/{handle.id}/cancel"
    empty = assert_problem(await http.post(path, json={}), 422)
    assert [e["field"] for e in empty["errors"]] == ["reason"]
    impersonation = {"reason": "x", "actor": {"token_id": "someone", "role": "admin"}}
    assert_problem(await http.post(path, json=impersonation), 422, "actor")
    assert_problem(await http.post(path, content=b"{nope"), 400)
    assert_problem(await http.post(path, json={"reason": "x" * 501}), 422, "reason")
    missing = await http.post("/v1/shipments/shipment-NOPE1/cancel", json={"reason": "x"})
    assert_problem(missing, 404, "shipment-NOPE1")
    support = await http.post(path, json={"reason": "x"}, headers=api.headers(Role.SUPPORT))
    assert_problem(support, 403)
    admin = await http.post(path, json={"reason": "x"}, headers=api.headers(Role.ADMIN))
    assert admin.status_code == 200


async def test_a_milestone_is_an_update_recorded_once_per_idempotency_key(
    http: httpx.AsyncClient, temporal: Client
) -> None:
    handle = await start_shipment(temporal)
    path = f"/v1/shipments/{handle.id}/events"
    body = {"milestone": "EXCEPTION", "reason": "box damaged"}
    key = {"Idempotency-Key": f"damage-{uuid.uuid4().hex}"}
    first = await http.post(path, json=body, headers=key)
    again = await http.post(path, json=body, headers=key)
    assert first.status_code == again.status_code == 200, first.text
    (event,) = again.json()["events"]
    assert event["milestone"] == "EXCEPTION" and event["source"]["partner"] == "ops"
    assert event["dedupe_key"] == key["Idempotency-Key"]
    assert_problem(await http.post(path, json={"milestone": "TELEPORTED", "reason": "x"}), 422)
    long_key = {"Idempotency-Key": "k" * 256}
    assert_problem(await http.post(path, json=body, headers=long_key), 400)
    other = await http.post("/v1/shipments/shipment-NOPE2/events", json=body)
    assert_problem(other, 404)


async def test_no_worker_answering_is_503(http: httpx.AsyncClient, temporal: Client) -> None:
    handle = await start_shipment(temporal, task_queue=f"nobody-polls-{uuid.uuid4().hex[:6]}")
    reply = await http.post(f"/v1/shipments/{handle.id}/cancel", json={"reason": "x"})
    assert_problem(reply, 503, "read its status")
    await handle.terminate()


async def test_a_workflow_whose_task_keeps_failing_is_503_not_500(
    http: httpx.AsyncClient, temporal: Client
) -> None:
    handle = await start_shipment(temporal)
    reply = await http.post(f"/v1/shipments/{handle.id}/rebook",
                            json={"carrier": "broken", "reason": "x"})  # fmt: skip
    # the update waits while the task is retried, until the API stops waiting
    assert_problem(reply, 503, "read its status")
    await handle.terminate()


async def test_temporal_unreachable_is_503(temporal_cli: str, tmp_path: Path) -> None:
    env = await WorkflowEnvironment.start_local(dev_server_existing_path=temporal_cli)
    settings = ApiSettings(
        _env_file=None,  # type: ignore[call-arg]
        temporal_address=env.client.service_client.config.target_host,
        easypost_webhook_secret="s", broker_webhook_secret="s", update_timeout_s=3,
    )  # fmt: skip
    store = migrated_engine(f"sqlite:///{tmp_path / 'store.db'}")
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    async with TestServer(create_app(settings, client, store)) as server:
        await env.shutdown()  # the server is gone; the API's client stays
        headers = {"Authorization": f"Bearer {create_token(store, Role.OPS, 'ops')[1]}"}
        async with httpx.AsyncClient(base_url=str(server.make_url("")), timeout=30) as http:
            reply = await http.post(
                "/v1/shipments/shipment-X1/cancel", json={"reason": "x"}, headers=headers
            )
    assert_problem(reply, 503)
