"""The shipment follows the vendor's own current status, not the vendors' times (issue 15 item 5).

``EventLog.follow`` (after a batch, ``EventBatch.current_event_id``): a current EXCEPTION opens
the exception however old its time; a current progress event closes the same partner's open
exception however old its time; progress never moves backwards; no current id, no change.
"""

from datetime import UTC, datetime, timedelta

from canonical.events import EventClassifier, EventSource, ShipmentEvent, event_id_for
from canonical.milestones import Milestone
from workflows.progress import EventLog, EventLogState

M = Milestone
T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)


def ev(kind: Milestone, key: str, hours: float, *, partner: str = "easypost",
       **extra: object) -> ShipmentEvent:  # fmt: skip
    at = T0 + timedelta(hours=hours)
    return ShipmentEvent(
        event_id=event_id_for(partner, key), dedupe_key=key, milestone=kind,
        occurred_at=at, recorded_at=at, source=EventSource(partner=partner, partner_event_id=key),
        **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def batch(log: EventLog, *events: ShipmentEvent, current: ShipmentEvent | None = None) -> None:
    """What the workflow does with one ``EventBatch``."""
    log.add_all(list(events))
    log.follow(current.event_id if current is not None else None)


def test_a_current_exception_stamped_before_the_furthest_scan_is_open() -> None:
    log = EventLog()
    moving = ev(M.IN_TRANSIT, "t", 10)
    stuck = ev(M.EXCEPTION, "x", 5)  # the vendor's current status, stamped earlier
    batch(log, ev(M.PICKED_UP, "p", 1), stuck, moving, current=stuck)
    assert log.progress.exception == stuck
    assert log.progress.status is M.EXCEPTION
    assert log.progress.furthest is M.IN_TRANSIT  # the rank stays where the scans put it


def test_without_a_current_id_the_times_decide_as_before() -> None:
    log = EventLog()
    batch(log, ev(M.PICKED_UP, "p", 1), ev(M.EXCEPTION, "x", 5), ev(M.IN_TRANSIT, "t", 10))
    assert log.progress.exception is None
    assert log.progress.status is M.IN_TRANSIT
    assert log.state().current is None


def test_a_current_in_transit_stamped_before_the_exception_clears_it() -> None:
    log = EventLog()
    batch(log, ev(M.PICKED_UP, "p", 1), ev(M.EXCEPTION, "x", 8))
    assert log.progress.status is M.EXCEPTION
    moving = ev(M.IN_TRANSIT, "t", 6)  # the vendor says it moves again, stamped earlier
    batch(log, moving, current=moving)
    assert log.progress.exception is None
    assert log.progress.status is M.IN_TRANSIT


def test_a_current_event_signalled_before_is_followed_by_its_id() -> None:
    log = EventLog()
    stuck = ev(M.EXCEPTION, "x", 5)
    batch(log, ev(M.IN_TRANSIT, "t", 10), stuck)  # times alone: not open
    assert log.progress.exception is None
    batch(log, ev(M.UNKNOWN, "u", 11), current=stuck)  # the batch leaves the known event out
    assert log.progress.exception == stuck


def test_another_partners_exception_is_not_cleared_by_a_stale_current_scan() -> None:
    log = EventLog()
    moving = ev(M.IN_TRANSIT, "t", 6)
    batch(log, ev(M.PICKED_UP, "p", 1), moving)
    ops = ev(M.EXCEPTION, "hold", 8, partner="ops")
    batch(log, ops)
    batch(log, ev(M.UNKNOWN, "u", 9), current=moving)
    assert log.progress.exception == ops


def test_delivered_is_never_undone_by_a_current_event() -> None:
    log = EventLog()
    delivered = ev(M.DELIVERED, "d", 10)
    moving = ev(M.IN_TRANSIT, "t", 12)
    batch(log, ev(M.PICKED_UP, "p", 1), delivered, moving, current=moving)
    assert (log.progress.furthest, log.progress.delivered_at) == (
        M.DELIVERED,
        delivered.occurred_at,
    )
    stuck = ev(M.EXCEPTION, "x", 5)
    batch(log, stuck, current=stuck)
    assert log.progress.exception is None
    assert log.progress.status is M.DELIVERED


def test_unheld_retracted_or_estimated_current_events_change_nothing() -> None:
    log = EventLog()
    batch(log, ev(M.PICKED_UP, "p", 1), ev(M.IN_TRANSIT, "t", 10))
    before = log.progress.model_copy(deep=True)
    log.follow(event_id_for("easypost", "never-received"))
    planned = ev(M.EXCEPTION, "plan", 5, classifier=EventClassifier.ESTIMATED)
    batch(log, planned, current=planned)
    stuck = ev(M.EXCEPTION, "x", 5)
    retraction = ev(M.EXCEPTION, "r", 11, retracts_event_id=stuck.event_id)
    batch(log, stuck, retraction, current=stuck)
    assert log.progress == before


def test_a_retractions_fold_follows_the_current_event_again_and_it_is_carried() -> None:
    log = EventLog()
    stuck = ev(M.EXCEPTION, "x", 5)
    wrong = ev(M.ARRIVED, "a", 11)
    batch(log, ev(M.IN_TRANSIT, "t", 10), wrong, stuck, current=stuck)
    carried = EventLog(EventLogState.model_validate_json(log.state().model_dump_json()))
    assert carried.state().current == stuck.event_id
    carried.add(ev(M.UNKNOWN, "r", 12, retracts_event_id=wrong.event_id))  # refolds by time
    assert carried.progress.furthest is M.IN_TRANSIT
    assert carried.progress.exception == stuck


def test_a_later_actual_event_ends_the_following() -> None:
    log = EventLog()
    stuck = ev(M.EXCEPTION, "x", 5)
    batch(log, ev(M.IN_TRANSIT, "t", 10), stuck, current=stuck)
    batch(log, ev(M.IN_TRANSIT, "t2", 12, partner="dhl"))  # a later word, by time
    assert log.progress.exception is None
    assert log.state().current is None
