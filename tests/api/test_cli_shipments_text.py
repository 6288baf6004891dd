"""What ``borderflow shipments …`` prints, from the API's own JSON shapes (no server needed):
timeline titles, the one timestamp format, ``--package`` specs, case-insensitive codes, the
``show`` sections, and usage errors (exit 2)."""

import argparse
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from api.shipments import timeline
from canonical.shipment import References, Stage
from cli.main import parser
from cli.render import moment
from cli.shipment_parsers import package
from cli.shipment_status import status_text
from cli.shipments import timeline_text
from workflows.models import ShipmentStatus, SlaClock, StageReached, TimelineEntry, TimelineKind

CET = timezone(timedelta(hours=1))
AT = datetime(2026, 11, 23, 11, 0, 0, 123456, tzinfo=CET)


def test_timeline_names_booking_customs_ops_and_invoice_entries() -> None:
    log = [TimelineEntry(at=AT + timedelta(minutes=n), kind=kind, title=title, details=details)
           for n, (kind, title, details) in enumerate([
               (TimelineKind.BOOKING, "easypost booked", {}),
               (TimelineKind.CUSTOMS, "export declaration filed", {}),
               (TimelineKind.OPS, "amended", {"why": "customer asked"}),
               (TimelineKind.INVOICE, "invoice posted", {}),
           ])]  # fmt: skip
    status = ShipmentStatus(shipment_id="shipment-S1", order_ref="S1", stage=Stage.BOOK,
                            stages=[StageReached(stage=Stage.BOOK, at=AT)],
                            references=References(), events=[], log=log)  # fmt: skip
    entries = json.loads(json.dumps(timeline(status)))  # the API's timeline entries, as sent
    lines = timeline_text({"entries": entries}).splitlines()
    assert "None" not in "\n".join(lines)
    assert [line.split("  ")[0] for line in lines[1:]] == [
        "2026-11-23T11:00:00+01:00",
        *(f"2026-11-23T11:0{n}:00+01:00" for n in range(4)),
    ]
    assert "easypost booked" in lines[2] and "export declaration filed" in lines[3]
    assert "amended" in lines[4] and lines[4].endswith("customer asked")
    assert "invoice posted" in lines[5]


def test_one_timestamp_format() -> None:
    assert moment(AT.isoformat()) == "2026-11-23T11:00:00+01:00"
    assert moment(AT.isoformat(), utc=True) == "2026-11-23T10:00:00Z"
    assert moment(AT.astimezone(UTC).isoformat()) == "2026-11-23T10:00:00+00:00"
    assert moment(None) == "-" and moment("soon") == "soon"


def test_show_prints_every_section_with_the_clocks() -> None:
    status = ShipmentStatus(
        shipment_id="shipment-S1", order_ref="S1", stage=Stage.BOOK,
        stages=[StageReached(stage=Stage.BOOK, at=AT)], references=References(), events=[],
        sla=[SlaClock(clock="book", started_at=AT, deadline=AT + timedelta(hours=4))],
    ).model_dump(mode="json")  # fmt: skip
    text = status_text(status, utc=True)
    headings = [line for line in text.splitlines() if line and not line.startswith(" ")]
    assert headings == ["shipment-S1  order S1  stage book", "Stage", "SLA clocks",
                        "Customs declarations", "Packages", "Charges", "Documents",
                        "References"]  # fmt: skip
    assert "  book   ok     2026-11-23T14:00:00Z  -" in text


def test_package_specs() -> None:
    assert package("weight_kg=1.2,length_cm=30,width_cm=20,height_cm=10") == {
        "weight_kg": "1.2", "length_cm": "30", "width_cm": "20", "height_cm": "10"}  # fmt: skip
    for bad in (
        "weight_kg=1.2",
        "weight_kg=1,length_cm=1,width_cm=1,height_cm=1,weight_kg=2",
        "kg=1,length_cm=1,width_cm=1,height_cm=1",
        "weight_kg=,length_cm=1",
    ):
        with pytest.raises(argparse.ArgumentTypeError):
            package(bad)


def test_codes_are_case_insensitive() -> None:
    args = parser().parse_args(["shipments", "list", "--lane", "de-us", "--status", "BOOK",
                                "--carrier", "DHL", "--order-ref", "S00042"])  # fmt: skip
    assert (args.lane, args.status, args.carrier, args.order_ref) == ("DE-US", "book", "dhl",
                                                                       "S00042")  # fmt: skip
    record = parser().parse_args(["shipments", "events", "record", "shipment-S1",
                                  "--milestone", "picked_up", "--json", "--utc"])  # fmt: skip
    assert record.milestone == "PICKED_UP" and record.json and record.utc
    amend = parser().parse_args(["shipments", "amend", "x", "--service-level", "EXPRESS",
                                 "--reason", "r"])  # fmt: skip
    assert amend.service_level == "express"


@pytest.mark.parametrize(
    "argv",
    [
        ["shipments", "list", "--status", "lost"],
        ["shipments", "start", "--order-ref", "S1", "--package", "weight_kg=1"],
        ["shipments", "start", "--order-ref", "S1"],
        ["shipments", "amend", "x", "--consignee", "[1]", "--reason", "r"],
        ["shipments", "events", "record", "x", "--milestone", "TELEPORTED"],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(argv)
    assert exited.value.code == 2
