"""``borderflow shipments …`` against the live API (real HTTP, the CLI in a subprocess): start,
events record, amend --consignee, list --order-ref, case-insensitive codes, show's sections,
the timeline's titles, one timestamp format (``--utc``), ``--json`` and the exit codes."""

import asyncio
import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

from api_support import PACKAGE, new_order_ref, start_shipment
from live import LiveApi
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker
from test_api_cli import borderflow, one_line_error

from canonical.shipment import References, Shipment, Stage
from store.tokens import Role
from workflows.models import CustomsState, ShipmentStatus, SlaClock, StageReached

ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"
PACKAGE_SPEC = ",".join(f"{key}={value}" for key, value in PACKAGE.items())
ACME = {"name": "Acme West", "address": {"lines": ["2 Pier Rd"], "city": "San Francisco",
                                         "country": "US"}}  # fmt: skip
SHIPMENT = {"order_ref": "S1", "carrier": "easypost", "incoterm": "DAP", "currency": "EUR",
            "shipper": {"name": "Demo GmbH", "address": {"lines": ["Kai 1"], "city": "Hamburg",
                                                         "country": "DE"}},
            "consignee": ACME, "packages": [PACKAGE],
            "commodities": [{"description": "Laptop", "hs6": "847130", "origin_country": "CN",
                             "quantity": "2", "unit_value": {"amount": "899.00",
                                                             "currency": "EUR"}}]}  # fmt: skip


async def listed(api: LiveApi, home: Path, shipment_id: str, *args: str) -> str:
    """``shipments list …`` once visibility shows ``shipment_id``."""
    for _ in range(100):
        done = await borderflow(api, "shipments", "list", *args, home=home)
        assert done.returncode == 0, done.stderr
        if shipment_id in done.stdout:
            return done.stdout
        await asyncio.sleep(0.2)
    raise AssertionError(f"{shipment_id} never listed by {args}")


async def test_start_prints_the_id_with_an_idempotency_key(api: LiveApi, tmp_path: Path) -> None:
    ref, token = new_order_ref(), api.token(Role.OPS)  # keys are scoped by token
    start = ("shipments", "start", "--order-ref", ref, "--package", PACKAGE_SPEC)
    first = await borderflow(api, *start, "--service-level", "EXPRESS", "--carrier", "EasyPost",
                             "--idempotency-key", f"k-{ref}", token=token,
                             home=tmp_path)  # fmt: skip
    assert first.returncode == 0 and first.stdout == f"shipment-{ref}\n", first.stderr
    again = await borderflow(api, *start, "--json", home=tmp_path)  # a fresh key: 200, same id
    assert again.returncode == 0 and json.loads(again.stdout)["shipment_id"] == f"shipment-{ref}"
    reused = await borderflow(api, *start, "--package", PACKAGE_SPEC, "--idempotency-key",
                              f"k-{ref}", token=token, home=tmp_path)  # fmt: skip
    one_line_error(reused, "422 Idempotency-Key reused")
    bad = await borderflow(api, *start, "--carrier", "no such carrier", home=tmp_path)
    one_line_error(bad, "422 Invalid request", "carrier")
    usage = await borderflow(api, *start[:4], "--package", "weight_kg=1", home=tmp_path)
    assert usage.returncode == 2 and "height_cm" in usage.stderr


async def test_events_record_and_the_timeline_titles(
    api: LiveApi, temporal: Client, tmp_path: Path
) -> None:
    handle = await start_shipment(temporal)
    recorded = await borderflow(api, "shipments", "events", "record", handle.id, "--milestone",
                                "picked_up", "--at", "2026-01-02T03:04:05+01:00", "--note",
                                "driver called", home=tmp_path)  # fmt: skip
    assert recorded.returncode == 0, recorded.stderr
    assert recorded.stdout == f"{handle.id}: PICKED_UP recorded, stage book\n"
    amended = await borderflow(api, "shipments", "amend", handle.id, "--consignee",
                               json.dumps(ACME), "--consignee-name", "Acme East", "--reason",
                               "moved", "--json", home=tmp_path)  # fmt: skip
    assert amended.returncode == 0 and json.loads(amended.stdout)["stage"] == "book"
    lines = (await borderflow(api, "timeline", handle.id, home=tmp_path)).stdout.splitlines()
    assert "None" not in "\n".join(lines)
    (event,) = [line for line in lines if "PICKED_UP" in line]
    assert event.split()[:4] == ["2026-01-02T03:04:05+01:00", "event", "PICKED_UP", "(ops)"]
    assert event.endswith("driver called")
    (ops,) = [line for line in lines if " ops " in line]
    assert ops.split()[1:3] == ["ops", "amended"] and ops.endswith("moved")
    utc = await borderflow(api, "shipments", "timeline", handle.id, "--utc", home=tmp_path)
    assert "2026-01-02T02:04:05Z  event" in utc.stdout
    assert all(re.fullmatch(ISO + "Z", line.split()[0]) for line in utc.stdout.splitlines()[1:])
    as_json = await borderflow(api, "shipments", "timeline", handle.id, "--json", home=tmp_path)
    assert json.loads(as_json.stdout)["shipment_id"] == handle.id


async def test_amend_consignee_is_sent_as_a_party(
    api: LiveApi, temporal: Client, tmp_path: Path
) -> None:
    handle = await start_shipment(temporal)
    partial = await borderflow(api, "shipments", "amend", handle.id, "--consignee-name", "Acme",
                               "--consignee-city", "Boston", "--reason", "x",
                               home=tmp_path)  # fmt: skip
    one_line_error(partial, "422 Invalid request", "consignee.address.lines")
    flags = await borderflow(api, "shipments", "amend", handle.id, "--consignee-name", "Acme",
                             "--consignee-line", "1 Main St", "--consignee-city", "Boston",
                             "--consignee-country", "us", "--reason", "x",
                             home=tmp_path)  # fmt: skip
    assert flags.stdout == f"{handle.id}: amend accepted, stage book\n", flags.stderr
    not_json = await borderflow(api, "shipments", "amend", handle.id, "--consignee", "{",
                                "--reason", "x", home=tmp_path)  # fmt: skip
    assert not_json.returncode == 2 and "JSON" in not_json.stderr


async def test_list_by_order_ref_with_codes_in_any_case(
    api: LiveApi, temporal: Client, tmp_path: Path
) -> None:
    carrier = f"cli{uuid.uuid4().hex[:8]}"
    handle = await start_shipment(temporal, carrier=carrier, lane="DE-US")
    other = await start_shipment(temporal, carrier=carrier, lane="DE-US")
    ref = handle.id.removeprefix("shipment-")
    text = await listed(api, tmp_path, handle.id, "--order-ref", ref, "--lane", "de-us",
                        "--status", "BOOK", "--carrier", carrier.upper())  # fmt: skip
    rows = text.splitlines()[1:]
    assert [row.split()[0] for row in rows] == [handle.id] and other.id not in text
    assert re.fullmatch(ISO + r"[+-]\d\d:\d\d", rows[0].split()[-1])
    utc = await listed(api, tmp_path, handle.id, "--order-ref", ref, "--utc")
    assert re.fullmatch(ISO + "Z", utc.splitlines()[1].split()[-1])


@workflow.defn(name="ShipmentWorkflow")
class ShipmentWithClocks:
    """A shipment whose status holds SLA clocks, customs and packages, for ``show``."""

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: False)

    @workflow.query
    def status(self) -> ShipmentStatus:
        at = workflow.now().replace(microsecond=0)
        return ShipmentStatus(
            shipment_id=workflow.info().workflow_id, order_ref="S1", stage=Stage.CUSTOMS,
            stages=[StageReached(stage=Stage.CUSTOMS, at=at)], events=[], carrier="easypost",
            references=References(label_url="https://labels.example/1.pdf", mrn="26DE1"),
            shipment=Shipment.model_validate_json(json.dumps(SHIPMENT)),
            sla=[SlaClock(clock="customs", started_at=at, deadline=at + timedelta(hours=8),
                          level="warn")],
            customs=[CustomsState(direction="export", country="DE", status="HELD",
                                  mrn="26DE1", hold_reason="invoice missing")],
        )  # fmt: skip


async def test_show_in_sections(api: LiveApi, temporal: Client, tmp_path: Path) -> None:
    queue = f"cli-show-{uuid.uuid4().hex[:8]}"
    shipment_id = f"shipment-{new_order_ref()}"
    async with Worker(temporal, task_queue=queue, workflows=[ShipmentWithClocks],
                      workflow_runner=UnsandboxedWorkflowRunner()):  # fmt: skip
        handle = await temporal.start_workflow("ShipmentWorkflow", id=shipment_id,
                                               task_queue=queue)  # fmt: skip
        try:
            shown = await borderflow(api, "shipments", "show", shipment_id, "--utc",
                                     home=tmp_path)  # fmt: skip
            as_json = await borderflow(api, "shipments", "show", shipment_id, "--json",
                                       home=tmp_path)  # fmt: skip
        finally:
            await handle.terminate()
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    for heading in ("Stage", "SLA clocks", "Customs declarations", "Packages", "Charges",
                    "Documents", "References"):  # fmt: skip
        assert f"\n{heading}\n" in text, heading
    assert re.search(rf"\n  customs +warn +{ISO}Z +-\n", text), text
    assert re.search(r"\n  export +DE +HELD +26DE1 +invoice missing", text), text
    assert re.search(r"\n  1 +1.5 +30x20x10\n", text), text
    assert "lane         DE-US" in text and "https://labels.example/1.pdf" in text
    assert json.loads(as_json.stdout)["sla"][0]["clock"] == "customs"


async def test_not_found_is_exit_1_everywhere(api: LiveApi, tmp_path: Path) -> None:
    nope = "shipment-NOPE18"
    for args in (("shipments", "show", nope), ("shipments", "timeline", nope),
                 ("timeline", nope), ("shipments", "amend", nope, "--service-level",
                                      "express", "--reason", "x"),
                 ("shipments", "events", "record", nope, "--milestone", "DELIVERED")):  # fmt: skip
        one_line_error(await borderflow(api, *args, home=tmp_path), "404 Unknown shipment", nope)
    usage = await borderflow(api, "shipments", "show", home=tmp_path)
    assert usage.returncode == 2 and usage.stdout == ""
