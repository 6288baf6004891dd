"""``borderflow_shipments_stuck{stage}``: the shipments the newest finished reconciliation run
found stale (its own staleness decision) and could not move on, refreshed with the gauges."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.engine import Engine
from temporalio.client import Client
from tests_support import migrated_engine

from activities.reconcile_models import (
    DEFAULT_STALE_AFTER_MIN,
    ReconciliationReport,
    ShipmentFinding,
    ShipmentSnapshot,
)
from activities.reconcile_rules import is_stale
from canonical.shipment import References, Stage
from observability.gauges import is_stuck, refresh_gauges, refresh_stuck, stuck_by_stage
from store.reconciliation import save_report

T0 = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
IN_PROGRESS = [stage.value for stage in Stage if not stage.is_final]


def stuck(stage: str) -> float | None:
    return REGISTRY.get_sample_value("borderflow_shipments_stuck", {"stage": stage})


def finished_at() -> float | None:
    return REGISTRY.get_sample_value("borderflow_reconciliation_finished_timestamp_seconds")


def report(run_id: str, started: datetime, findings: list[ShipmentFinding], *, done: bool = True
           ) -> ReconciliationReport:  # fmt: skip
    return ReconciliationReport(
        run_id=run_id, started_at=started,
        finished_at=started + timedelta(seconds=5) if done else None,
        shipments_checked=len(findings), findings=findings,
    )  # fmt: skip


def finding(shipment: str, stage: Stage | None, *, stale: bool, events: int = 0) -> ShipmentFinding:
    return ShipmentFinding(shipment_id=shipment, stage=stage, stale=stale, events_found=events)


@pytest.fixture
def store(tmp_path: Path) -> Engine:
    return migrated_engine(f"sqlite:///{tmp_path / 'store.db'}")


def test_stuck_is_reconciliations_staleness_and_nothing_found() -> None:
    now = T0 + timedelta(hours=3)
    quiet = ShipmentSnapshot(
        shipment_id="shipment-S1", order_ref="S1", stage=Stage.CUSTOMS,
        stage_since=T0, last_event_at=None, carrier="dhl", references=References(),
    )  # fmt: skip
    stale = is_stale(quiet, now, DEFAULT_STALE_AFTER_MIN)  # 3 h > customs' 2 h
    assert stale
    assert is_stuck(finding("shipment-S1", Stage.CUSTOMS, stale=stale))
    assert not is_stuck(finding("shipment-S1", Stage.CUSTOMS, stale=stale, events=1))  # moved on
    assert not is_stuck(finding("shipment-S2", Stage.DELIVERY, stale=False))
    assert not is_stuck(finding("shipment-S3", None, stale=True))  # status unreadable


def test_counts_by_stage_name_every_stage_in_progress() -> None:
    counts = stuck_by_stage([
        finding("shipment-A", Stage.CUSTOMS, stale=True),
        finding("shipment-B", Stage.CUSTOMS, stale=True),
        finding("shipment-C", Stage.DELIVERY, stale=True),
        finding("shipment-D", Stage.DELIVERY, stale=True, events=2),
        finding("shipment-E", Stage.BOOK, stale=False),
    ])  # fmt: skip
    assert sorted(counts) == sorted(IN_PROGRESS)
    assert counts[Stage.CUSTOMS.value] == 2 and counts[Stage.DELIVERY.value] == 1
    assert sum(counts.values()) == 3


def test_the_gauge_follows_the_newest_finished_report(store: Engine) -> None:
    save_report(store, report("run-1", T0, [
        finding("shipment-A", Stage.CUSTOMS, stale=True),
        finding("shipment-B", Stage.DELIVERY, stale=True, events=1),
    ]))  # fmt: skip
    # the next run has started (saved unfinished): the gauge stays on the finished one
    save_report(store, report("run-2", T0 + timedelta(minutes=5), [], done=False))
    refresh_stuck(store)
    assert stuck(Stage.CUSTOMS.value) == 1
    assert stuck(Stage.DELIVERY.value) == 0 and stuck(Stage.BOOK.value) == 0
    assert finished_at() == (T0 + timedelta(seconds=5)).timestamp()

    save_report(store, report("run-2", T0 + timedelta(minutes=5), []))  # it finished: all clear
    refresh_stuck(store)
    assert all(stuck(stage) == 0 for stage in IN_PROGRESS)
    assert finished_at() == (T0 + timedelta(minutes=5, seconds=5)).timestamp()


@dataclass
class Count:
    count: int


class Visibility:
    """The one call of the Temporal client the gauges make."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    async def count_workflows(self, query: str, **_: Any) -> Count:
        self.queries.append(query)
        return Count(count=4 if '"customs"' in query else 0)


async def test_each_round_refreshes_the_stuck_gauge_with_the_others(store: Engine) -> None:
    save_report(store, report("run-9", T0 + timedelta(hours=1), [
        finding("shipment-A", Stage.BOOK, stale=True),
        finding("shipment-B", Stage.BOOK, stale=True),
    ]))  # fmt: skip
    visibility = Visibility()
    await refresh_gauges(cast(Client, visibility), store)
    assert len(visibility.queries) == len(Stage)
    assert REGISTRY.get_sample_value("borderflow_shipments", {"status": "customs"}) == 4
    assert stuck(Stage.BOOK.value) == 2 and stuck(Stage.CUSTOMS.value) == 0
