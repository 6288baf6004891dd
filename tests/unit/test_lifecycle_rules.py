"""The pure rules behind the workflow: milestone ordering, customs folding, SLA ladder, policy."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canonical.customs import CustomsDirection, DeclarationStatus
from canonical.events import EventClassifier, EventSource, ShipmentEvent, event_id_for
from canonical.milestones import Milestone, ProofOfDelivery
from canonical.shipment import ServiceLevel
from workflows.customs import Step, fold
from workflows.models import CustomsState, SlaLevel
from workflows.policy import load_policy_file
from workflows.progress import RANK, EventLog
from workflows.sla import SlaBook

T0 = datetime(2026, 11, 20, 8, tzinfo=UTC)


def ev(kind: Milestone, key: str, hours: float, **extra: object) -> ShipmentEvent:
    at = T0 + timedelta(hours=hours)
    return ShipmentEvent(
        event_id=event_id_for("carrier", key), dedupe_key=key, milestone=kind,
        occurred_at=at, recorded_at=at, source=EventSource(partner="carrier"),
        **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def test_a_late_older_scan_never_moves_the_goods_backwards() -> None:
    log = EventLog()
    log.add(ev(Milestone.OUT_FOR_DELIVERY, "a", 30))
    log.add(ev(Milestone.PICKED_UP, "b", 2))  # arrives late
    assert log.progress.status is Milestone.OUT_FOR_DELIVERY
    assert len(log.events) == 2  # kept on the timeline


def test_an_exception_reopens_until_later_progress_closes_it() -> None:
    log = EventLog()
    log.add(ev(Milestone.IN_TRANSIT, "a", 5))
    log.add(ev(Milestone.EXCEPTION, "b", 6, reason="address unknown"))
    assert log.progress.status is Milestone.EXCEPTION
    log.add(ev(Milestone.ARRIVED, "c", 4))  # older than the exception: still open
    assert log.progress.status is Milestone.EXCEPTION
    log.add(ev(Milestone.OUT_FOR_DELIVERY, "d", 8))
    assert log.progress.status is Milestone.OUT_FOR_DELIVERY
    log.add(ev(Milestone.DELIVERED, "e", 9, proof_of_delivery=ProofOfDelivery(signed_by="X")))
    log.add(ev(Milestone.EXCEPTION, "f", 10))  # nothing re-opens a delivered shipment
    assert log.progress.status is Milestone.DELIVERED and log.progress.delivered_with_proof


def test_estimates_move_only_the_eta_and_retractions_fold_again() -> None:
    log = EventLog()
    log.add(ev(Milestone.DELIVERED, "est", 48, classifier=EventClassifier.ESTIMATED))
    assert log.progress.eta == T0 + timedelta(hours=48) and log.progress.status is None
    log.add(ev(Milestone.DELIVERED, "d", 40, proof_of_delivery=ProofOfDelivery(signed_by="X")))
    assert log.progress.delivered_with_proof
    log.add(ev(Milestone.IN_TRANSIT, "r", 41, retracts_event_id=event_id_for("carrier", "d")))
    assert not log.progress.delivered_with_proof and log.progress.status is None
    assert not log.add(ev(Milestone.IN_TRANSIT, "r", 41))  # a duplicate id is refused


@given(st.permutations(list(RANK)))
def test_progress_is_the_furthest_milestone_whatever_the_arrival_order(
    order: list[Milestone],
) -> None:
    log = EventLog()
    for number, kind in enumerate(order):
        log.add(ev(kind, f"k{number}", RANK[kind]))
    assert log.progress.furthest is Milestone.POD_RECEIVED


def filed() -> CustomsState:
    return CustomsState(direction=CustomsDirection.EXPORT, country="DE", workflow_id="w",
                        status=DeclarationStatus.SUBMITTED)  # fmt: skip


def step(kind: Milestone, key: str, **extra: object) -> Step:
    event = ev(kind, key, 1, **extra)
    return Step(at=event.recorded_at, event=event)


def test_customs_holds_resolutions_and_late_events_fold_along_the_transitions() -> None:
    steps = [
        step(Milestone.CUSTOMS_ACCEPTED, "a", reason="MRN 26DE4Z7Q2M9K1X3B5N"),
        step(Milestone.CUSTOMS_HELD, "h", reason="customs_documentation"),
        step(Milestone.CUSTOMS_ACCEPTED, "late"),  # HELD → ACCEPTED is not a move: ignored
    ]
    state = fold(filed(), steps)
    assert (state.status, state.mrn, state.hold_reason) == (
        DeclarationStatus.HELD,
        "26DE4Z7Q2M9K1X3B5N",
        "customs_documentation",
    )
    steps.append(Step(at=T0, resolution_note="invoice sent"))
    assert fold(filed(), steps).status is DeclarationStatus.UNDER_REVIEW
    steps.append(step(Milestone.CUSTOMS_RELEASED, "r"))
    assert fold(filed(), steps).status is DeclarationStatus.RELEASED
    # A release whose ACCEPTED webhook was lost still releases; a retraction undoes it.
    lost = [step(Milestone.CUSTOMS_RELEASED, "r2")]
    assert fold(filed(), lost).status is DeclarationStatus.RELEASED
    lost.append(step(Milestone.CUSTOMS_HELD, "x", retracts_event_id=event_id_for("carrier", "r2")))
    assert fold(filed(), lost).status is DeclarationStatus.SUBMITTED


def test_sla_ladder_rungs_come_in_order_and_a_moved_deadline_rearms_them() -> None:
    policy = load_policy_file().for_shipment(ServiceLevel.STANDARD, "DE-US", "easypost")
    book = SlaBook()
    book.start("pickup", T0, T0 + timedelta(hours=24))
    moments = []
    while (rung := book.next_rung(policy.escalation)) is not None:
        moments.append((rung.level, rung.at - T0))
        book.climb(rung)
    assert moments == [
        (SlaLevel.WARN, timedelta(hours=18)), (SlaLevel.BREACH, timedelta(hours=24)),
        (SlaLevel.ESCALATED, timedelta(hours=28)), (SlaLevel.CRITICAL, timedelta(hours=48)),
    ]  # fmt: skip
    book = SlaBook()
    book.start("delivery", T0, T0 + timedelta(days=7))
    assert book.move("delivery", T0 + timedelta(days=9))
    rung = book.next_rung(policy.escalation)
    assert rung is not None and rung.level is SlaLevel.WARN
    book.meet("delivery", T0)
    assert book.next_rung(policy.escalation) is None


def test_the_policy_is_data_and_a_bad_file_says_what_is_wrong(tmp_path: Path) -> None:
    policy = load_policy_file().for_shipment(ServiceLevel.EXPRESS, "DE-US", "dhl")
    assert policy.carriers == ["dhl", "easypost"] and policy.sla.book == timedelta(hours=1)
    broken = tmp_path / "policy.toml"
    broken.write_text('[service_levels.standard]\nbook = "soon"\n')
    with pytest.raises(ValueError, match="book"):
        load_policy_file(broken)
