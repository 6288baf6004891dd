"""Reconciliation reports: one row per run, what it counted and what it found.

Guarantees:
- ``run_id`` is unique: saving a report again (the run's start, then its end; or an activity
  retry) replaces the row, never adds one;
- the findings (stale shipments, events found, drifts with their reasons, problems) are kept
  as JSON next to the counts, and come back as the same pydantic models;
- :func:`latest_reports` lists the newest runs first.
"""

from datetime import UTC, datetime

from pydantic import TypeAdapter
from sqlalchemy import Column, Text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, SQLModel, col, select

from activities.reconcile_models import ReconciliationReport, ShipmentFinding

FINDINGS = TypeAdapter(list[ShipmentFinding])


class ReconciliationRun(SQLModel, table=True):
    __tablename__ = "reconciliation_run"

    id: int | None = Field(default=None, primary_key=True)
    run_id: str = Field(max_length=255, unique=True)
    started_at: datetime = Field(index=True)
    finished_at: datetime | None = None
    shipments_checked: int = 0
    stale: int = 0
    events_found: int = 0
    drifted: int = 0
    repaired: int = 0
    problems: int = 0
    truncated: bool = False
    findings: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    """JSON array of :class:`~activities.reconcile_models.ShipmentFinding`."""


COUNTS = ("shipments_checked", "stale", "events_found", "drifted", "repaired", "problems")


def _utc(moment: datetime | None) -> datetime | None:
    """Stored in UTC; SQLite hands datetimes back naive."""
    if moment is None:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fill(row: ReconciliationRun, report: ReconciliationReport) -> None:
    row.started_at = _utc(report.started_at) or report.started_at
    row.finished_at = _utc(report.finished_at)
    for name in COUNTS:
        setattr(row, name, getattr(report, name))
    row.truncated = report.truncated
    row.findings = FINDINGS.dump_json(report.findings).decode()


def save_report(engine: Engine, report: ReconciliationReport) -> None:
    """Insert the report, or replace the one saved under the same ``run_id``."""
    for _attempt in range(2):
        with Session(engine) as session:
            row = session.exec(
                select(ReconciliationRun).where(ReconciliationRun.run_id == report.run_id)
            ).first()
            if row is None:
                row = ReconciliationRun(run_id=report.run_id, started_at=report.started_at)
            _fill(row, report)
            session.add(row)
            try:
                session.commit()
                return
            except IntegrityError:  # another saver inserted it first: update theirs
                session.rollback()
    raise RuntimeError(f"could not save reconciliation report {report.run_id}")


def as_report(row: ReconciliationRun) -> ReconciliationReport:
    return ReconciliationReport(
        run_id=row.run_id,
        started_at=_utc(row.started_at) or row.started_at,
        finished_at=_utc(row.finished_at),
        truncated=row.truncated,
        findings=FINDINGS.validate_json(row.findings),
        **{name: getattr(row, name) for name in COUNTS},
    )


def latest_reports(engine: Engine, limit: int = 10) -> list[ReconciliationReport]:
    """The ``limit`` newest reports, newest first."""
    with Session(engine) as session:
        rows = session.exec(
            select(ReconciliationRun)
            .order_by(col(ReconciliationRun.started_at).desc(), col(ReconciliationRun.id).desc())
            .limit(limit)
        ).all()
        return [as_report(row) for row in rows]
