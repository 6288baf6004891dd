"""The periodic gauges: shipments per ``ShipmentStatus``, stuck shipments per stage, the inbox's
dead and late letters.

Counts come from Temporal visibility (one ``count_workflows`` per stage, which every
visibility store supports) and from our store. A failed round leaves the previous values and
is retried at the next one; the loop never ends on an error.

Stuck shipments are read from the newest *finished* reconciliation report, never recomputed:
visibility holds no time of a shipment's last sign of life, and reconciliation already reads
every running shipment's status and decides staleness with the workers' own thresholds
(``activities.reconcile_rules.is_stale``, ``BORDERFLOW_RECONCILE_STALE_AFTER_MIN``). A
shipment is stuck when that run found it stale (quiet for at least its stage's threshold) and
its polls brought no new event: nothing moved it on. Every stage that is not final reads 0
unless stuck shipments were found in it. The counts are as old as that run
(``borderflow_reconciliation_finished_timestamp_seconds``); while no run has finished, the
stuck gauges have no sample.

Every API pod publishes the same global counts: aggregate them with ``max``, never ``sum``
(see :mod:`observability.metrics`).
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Iterable

from sqlalchemy.engine import Engine
from temporalio.client import Client

from activities.reconcile_models import ReconciliationReport, ShipmentFinding
from canonical.shipment import Stage
from observability.metrics import set_dead_letters, set_late_letters, set_shipments, set_stuck
from store.inbox import InboxState, count_messages
from store.reconciliation import latest_reports
from workflows.models import SHIPMENT_STATUS

__all__ = [
    "count_dead_letters",
    "count_shipments",
    "is_stuck",
    "latest_finished_report",
    "refresh_gauges",
    "refresh_stuck",
    "run_gauges",
    "stuck_by_stage",
]

log = logging.getLogger("borderflow.metrics")
REPORTS_LOOKED_AT = 3
"""The newest reports read to find a finished one (a run in progress is saved unfinished)."""


def count_dead_letters(store: Engine) -> int:
    return count_messages(store, InboxState.DEAD)


async def count_shipments(client: Client) -> dict[str, int]:
    """Shipments per stage: running ones for a stage in progress, all that visibility still
    holds (retention) for a final stage (invoiced, rejected, cancelled)."""
    counts = {}
    for stage in Stage:
        query = f'{SHIPMENT_STATUS.name} = "{stage.value}"'
        if not stage.is_final:
            query += ' AND ExecutionStatus = "Running"'
        counts[stage.value] = (await client.count_workflows(query)).count
    return counts


def is_stuck(finding: ShipmentFinding) -> bool:
    """Stale at the run (reconciliation's own decision) and not moved on by its polls."""
    return finding.stage is not None and finding.stale and finding.events_found == 0


def stuck_by_stage(findings: Iterable[ShipmentFinding]) -> dict[str, int]:
    """Stuck shipments per stage: every stage that is not final, 0 where none is stuck."""
    stuck = Counter(f.stage.value for f in findings if f.stage is not None and is_stuck(f))
    return {stage.value: stuck[stage.value] for stage in Stage if not stage.is_final}


def latest_finished_report(store: Engine) -> ReconciliationReport | None:
    reports = latest_reports(store, limit=REPORTS_LOOKED_AT)
    return next((report for report in reports if report.finished_at is not None), None)


def refresh_stuck(store: Engine) -> None:
    """Set the stuck gauges from the newest finished report (unchanged while there is none)."""
    report = latest_finished_report(store)
    if report is not None and report.finished_at is not None:
        set_stuck(stuck_by_stage(report.findings), report.finished_at)


async def refresh_gauges(client: Client, store: Engine) -> None:
    """One round: every gauge set from fresh counts."""
    set_shipments(await count_shipments(client))
    await asyncio.to_thread(refresh_stuck, store)
    set_dead_letters(await asyncio.to_thread(count_dead_letters, store))
    set_late_letters(await asyncio.to_thread(count_messages, store, InboxState.LATE))


async def run_gauges(client: Client, store: Engine, *, every_s: float = 15.0) -> None:
    """Refresh the gauges every ``every_s`` seconds, until cancelled."""
    while True:
        try:
            await refresh_gauges(client, store)
        except Exception as err:  # the loop must outlive Temporal or store outages
            log.warning("metrics gauges not refreshed: %s", str(err) or type(err).__name__)
        await asyncio.sleep(every_s)
