"""`borderflow reconcile`: how a report reads, and a one-line failure when the API is away."""

import subprocess
import sys
from pathlib import Path

from tests_support import free_port

from activities.reconcile_models import Drift, DriftCode, ReconciliationReport, ShipmentFinding
from canonical.milestones import Milestone
from canonical.shipment import Stage
from cli.reconcile import format_report

BORDERFLOW = str(Path(sys.executable).parent / "borderflow")


def test_a_report_reads_as_counts_then_one_line_per_shipment_and_finding() -> None:
    report = ReconciliationReport.model_validate(
        {
            "run_id": "borderflow-reconciliation-2026-11-22T08:00:00Z",
            "started_at": "2026-11-22T08:00:00Z",
            "finished_at": "2026-11-22T08:00:03Z",
            "shipments_checked": 4,
            "stale": 1,
            "events_found": 2,
            "drifted": 1,
            "repaired": 1,
            "problems": 1,
        }
    ).model_copy(
        update={
            "findings": [
                ShipmentFinding(
                    shipment_id="shipment-S00001",
                    stage=Stage.DELIVERY,
                    stale=True,
                    events_found=2,
                    milestones=[Milestone.OUT_FOR_DELIVERY, Milestone.DELIVERED],
                    drifts=[
                        Drift(
                            code=DriftCode.TRACKING_REF_MISSING,
                            detail="no ref",
                            repairable=True,
                            repaired=True,
                        ),
                        Drift(code=DriftCode.INVOICE_POSTED_EARLY, detail="INV/1"),
                    ],
                ),
                ShipmentFinding(shipment_id="shipment-S00002", problems=["status query: timeout"]),
            ]
        }
    )
    lines = format_report(report.model_dump(mode="json"))
    assert lines == [
        "borderflow-reconciliation-2026-11-22T08:00:00Z  started 2026-11-22T08:00:00Z  "
        "finished 2026-11-22T08:00:03Z",
        "  checked 4  stale 1  events found 2  drifted 1 (repaired 1)  problems 1",
        "  shipment-S00001  delivery  stale  +2 event(s): OUT_FOR_DELIVERY, DELIVERED",
        "    drift tracking_ref_missing (repaired): no ref",
        "    drift invoice_posted_early (report only): INV/1",
        "  shipment-S00002  ?",
        "    problem: status query: timeout",
    ]
    running = format_report({**report.model_dump(mode="json"), "finished_at": None})
    assert running[0].endswith("running")


def test_without_a_reachable_api_the_commands_fail_in_one_line(tmp_path: Path) -> None:
    env = {
        "BORDERFLOW_API_URL": f"http://127.0.0.1:{free_port()}",
        "BORDERFLOW_API_TOKEN": "x",
        "BORDERFLOW_DATA_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    for args in (["report"], ["run"]):
        done = subprocess.run(
            [BORDERFLOW, "reconcile", *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1 and "cannot reach the API" in done.stderr
