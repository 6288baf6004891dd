import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from activities.reconcile_models import Drift, DriftCode, ReconciliationReport, ShipmentFinding
from canonical.milestones import Milestone
from canonical.shipment import Stage
from store.reconciliation import ReconciliationRun, latest_reports, save_report

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def finished(run_id: str, started: datetime) -> ReconciliationReport:
    finding = ShipmentFinding(
        shipment_id="shipment-S00001",
        stage=Stage.DELIVERY,
        stale=True,
        events_found=2,
        milestones=[Milestone.OUT_FOR_DELIVERY, Milestone.DELIVERED],
        drifts=[
            Drift(
                code=DriftCode.TRACKING_REF_MISSING, detail="no ref", repairable=True, repaired=True
            )
        ],
    )
    return ReconciliationReport(
        run_id=run_id,
        started_at=started,
        finished_at=started + timedelta(seconds=4),
        shipments_checked=3,
        stale=1,
        events_found=2,
        drifted=1,
        repaired=1,
        findings=[finding],
    )


def rows(engine: Engine, run_id: str) -> int:
    with Session(engine) as session:
        query = select(func.count()).where(col(ReconciliationRun.run_id) == run_id)
        return int(session.exec(query).one())


def test_a_run_saved_when_started_and_again_when_finished_is_one_report(engine: Engine) -> None:
    run_id = f"borderflow-reconciliation-{uuid.uuid4().hex}"
    save_report(engine, ReconciliationReport(run_id=run_id, started_at=T0))
    (running,) = [r for r in latest_reports(engine, 100) if r.run_id == run_id]
    assert running.finished_at is None and running.findings == []
    save_report(engine, finished(run_id, T0))
    save_report(engine, finished(run_id, T0))  # an activity retry
    assert rows(engine, run_id) == 1
    (report,) = [r for r in latest_reports(engine, 100) if r.run_id == run_id]
    assert report == finished(run_id, T0)  # counts, findings and aware times round-trip


def test_the_latest_reports_come_newest_first(engine: Engine) -> None:
    base = datetime.now(UTC) + timedelta(days=365)  # newer than any other test's runs
    ids = [f"run-{uuid.uuid4().hex}" for _ in range(3)]
    for offset, run_id in enumerate(ids):
        save_report(engine, finished(run_id, base + timedelta(minutes=5 * offset)))
    assert [r.run_id for r in latest_reports(engine, 2)] == [ids[2], ids[1]]


def test_concurrent_saves_of_one_run_leave_one_row(engine: Engine) -> None:
    run_id = f"run-{uuid.uuid4().hex}"
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda _: save_report(engine, finished(run_id, T0)), range(12)))
    assert rows(engine, run_id) == 1
