"""The event log stays bounded however many events a shipment receives (issue 13).

50,000 milestones from three partners arrive in batches, with repeats of earlier events mixed
in, and the log is carried across continue-as-new (state → JSON → state) every 5,000: every new
event is recorded exactly once, every repeat is dropped, the carried JSON never exceeds a bound
computed from the caps, and the progress is the fold of the distinct events.
"""

import random
from datetime import UTC, datetime, timedelta

from canonical.events import EventClassifier, EventSource, ShipmentEvent, event_id_for
from canonical.milestones import Milestone, ProofOfDelivery
from workflows.progress import (
    KEEP_EVENTS,
    KEEP_IDS,
    KEEP_PARTNERS,
    KEEP_RETRACTED,
    EventLog,
    EventLogState,
    PartnerIds,
    Progress,
)

T0 = datetime(2026, 1, 5, 8, tzinfo=UTC)
PARTNERS = ("easypost", "dhl", "tms")
MILESTONES = 50_000
BATCH = 1_000
CARRY_EVERY = 5_000
PROOF = ProofOfDelivery(signed_by="J. SMITH")


def ev(
    kind: Milestone, key: str, minutes: float, *, partner: str = "easypost", **extra: object
) -> ShipmentEvent:
    at = T0 + timedelta(minutes=minutes)
    return ShipmentEvent(
        event_id=event_id_for(partner, key), dedupe_key=key, milestone=kind,
        occurred_at=at, recorded_at=at + timedelta(minutes=5),
        source=EventSource(partner=partner, partner_event_id=key, raw_status="in_transit"),
        **extra,  # type: ignore[arg-type]
    )  # fmt: skip


def stream(rng: random.Random) -> list[ShipmentEvent]:
    """The distinct events of a long shipment: scans a few minutes apart, slightly out of
    order, the goods moving on now and then, exceptions, and estimates days ahead."""
    steps = {10: Milestone.PICKED_UP, 2_000: Milestone.DEPARTED, 30_000: Milestone.ARRIVED,
             49_990: Milestone.OUT_FOR_DELIVERY}  # fmt: skip
    events = []
    for n in range(MILESTONES):
        partner = PARTNERS[n % len(PARTNERS)]
        at = n + rng.uniform(-20, 20)
        if n == MILESTONES - 1:
            event = ev(Milestone.DELIVERED, f"e{n}", at, partner=partner, proof_of_delivery=PROOF)
        elif n in steps:
            event = ev(steps[n], f"e{n}", at, partner=partner)
        elif n % 97 == 0:
            event = ev(Milestone.DELIVERED, f"e{n}", at + 5 * 24 * 60, partner=partner,
                       classifier=EventClassifier.ESTIMATED)  # fmt: skip
        elif n % 1_009 == 0:
            event = ev(Milestone.EXCEPTION, f"e{n}", at, partner=partner, reason="weather")
        else:
            event = ev(Milestone.IN_TRANSIT, f"e{n}", at, partner=partner)
        events.append(event)
    return events


def redelivered(event: ShipmentEvent, rng: random.Random) -> ShipmentEvent:
    """The same event again, as a later webhook would bring it (received later)."""
    later = event.recorded_at + timedelta(minutes=rng.randint(1, 10_000))
    return event.model_copy(update={"recorded_at": later})


def batches(rng: random.Random, events: list[ShipmentEvent]) -> list[list[ShipmentEvent]]:
    """Each batch: 1,000 new events, 100 repeats of any earlier batch's events (the oldest
    included) and 20 repeats of events earlier in the same batch."""
    out = []
    for start in range(0, len(events), BATCH):
        batch = list(events[start : start + BATCH])
        for _ in range(20):
            i = rng.randrange(len(batch))
            batch.insert(rng.randint(i + 1, len(batch)), redelivered(batch[i], rng))
        for _ in range(100 if start else 0):
            old = events[rng.randrange(start)]
            batch.insert(rng.randrange(len(batch) + 1), redelivered(old, rng))
        out.append(batch)
    return out


def carried(log: EventLog) -> tuple[EventLog, int]:
    """Continue-as-new: the state as JSON, and the log rebuilt from it."""
    data = log.state().model_dump_json()
    return EventLog(EventLogState.model_validate_json(data)), len(data)


def bound(largest_event: int) -> int:
    """The most JSON a carried state can take, from the caps (``largest_event``: the longest
    event's JSON)."""
    entry = len('["2026-01-05T08:00:00.000000+00:00","00000000-0000-0000-0000-000000000000"],')
    window = len(
        '{"partner":"","actual":false,"ids":[],"watermark":"2026-01-05T08:00:00.000000Z"},'
    )
    progress = len(Progress(furthest_at=T0, eta=T0, delivered_at=T0, proof_event_id="x" * 36,
                            furthest=Milestone.OUT_FOR_DELIVERY).model_dump_json())  # fmt: skip
    return (
        KEEP_EVENTS * (largest_event + 1) + KEEP_IDS * entry
        + 2 * (KEEP_PARTNERS + 1) * (window + 64) + KEEP_RETRACTED * len('["",null],') + 36
        + 2 * (progress + largest_event) + 200
    )  # fmt: skip


def test_fifty_thousand_milestones_with_repeats_stay_exact_and_bounded() -> None:
    rng = random.Random(13)
    events = stream(rng)
    largest = max(len(e.model_dump_json()) for e in events)
    log, recorded, sizes = EventLog(), [], []
    for number, batch in enumerate(batches(rng, events), start=1):
        new = log.add_all(batch)
        assert [e.event_id for e in new] == [
            e.event_id for e in events[(number - 1) * BATCH : number * BATCH]
        ]  # every new event once, in order; every repeat dropped
        recorded += new
        if number * BATCH % CARRY_EVERY == 0:
            log, size = carried(log)
            sizes.append(size)
            assert size <= bound(largest)
    assert len(recorded) == MILESTONES
    assert log.trimmed + len(log.events) == MILESTONES
    assert [e.event_id for e in log.events] == [e.event_id for e in events[-KEEP_EVENTS:]]
    fold = Progress()
    for event in events:
        fold.apply(event)
    assert log.progress == fold
    assert log.progress.delivered_with_proof
    assert not log.add_all([redelivered(e, rng) for e in rng.sample(events, 1_000)])


def test_the_carried_state_stops_growing() -> None:
    rng = random.Random(5)
    events = stream(rng)
    log, sizes = EventLog(), {}
    for n, event in enumerate(events, start=1):
        log.add(event)
        if n in (5_000, MILESTONES):
            log, sizes[n] = carried(log)
    assert sizes[MILESTONES] < sizes[5_000] * 1.1  # was ten times larger: every id carried


def test_a_repeat_older_than_the_window_is_dropped_and_so_is_the_stale_scan() -> None:
    log = EventLog()
    scans = [ev(Milestone.IN_TRANSIT, f"s{n}", n) for n in range(KEEP_IDS + 10)]
    assert len(log.add_all(scans)) == len(scans)
    assert not log.add(scans[0])  # evicted from the window, below the watermark
    # The lossy corner: a new scan older than the whole window is taken for a repeat.
    assert not log.add(ev(Milestone.IN_TRANSIT, "late", 0.5))
    assert log.add(ev(Milestone.IN_TRANSIT, "late but in the window", KEEP_IDS))


def test_a_stale_event_that_moves_the_goods_is_never_dropped() -> None:
    log = EventLog()
    log.add_all([ev(Milestone.IN_TRANSIT, f"s{n}", 100 + n) for n in range(KEEP_IDS + 10)])
    delivered = ev(Milestone.DELIVERED, "d", 0, proof_of_delivery=PROOF)
    assert log.add(delivered)  # older than the window, but it delivers the goods
    assert log.progress.delivered_with_proof
    assert not log.add(delivered)
    log.trim(0)
    assert not log.add(delivered)  # no longer held: would not advance, so a repeat


def test_estimates_neither_crowd_out_nor_push_the_mark_of_real_scans() -> None:
    log = EventLog()
    ahead = [ev(Milestone.DELIVERED, f"est{n}", 10_000 + n, classifier=EventClassifier.ESTIMATED)
             for n in range(KEEP_IDS)]  # fmt: skip
    log.add_all(ahead)
    scans = [ev(Milestone.IN_TRANSIT, f"s{n}", n) for n in range(0, 400, 2)]
    log.add_all(scans)
    assert log.add(ev(Milestone.IN_TRANSIT, "out of order", 101))  # not below any mark
    assert not log.add_all(scans) and not log.add_all(ahead)


def test_partners_have_windows_of_their_own() -> None:
    log = EventLog()
    broker = ev(Milestone.CUSTOMS_RELEASED, "rel", 0, partner="broker")
    log.add(broker)
    log.add_all([ev(Milestone.IN_TRANSIT, f"s{n}", n) for n in range(2 * KEEP_IDS)])
    log.trim(0)
    assert not log.add(broker)  # the flooding carrier evicted only its own ids
    assert log.add(ev(Milestone.CUSTOMS_ACCEPTED, "acc", -1, partner="broker"))  # no mark
    windows = log.state().partners
    assert sum(len(w.ids) for w in windows) == KEEP_IDS


def test_partners_beyond_the_cap_share_one_window() -> None:
    log = EventLog()
    for p in range(KEEP_PARTNERS + 5):
        assert log.add(ev(Milestone.IN_TRANSIT, "s", p, partner=f"p{p}"))
        assert not log.add(ev(Milestone.IN_TRANSIT, "s", p, partner=f"p{p}"))
    owners = [w.partner for w in log.state().partners]
    assert len(owners) == KEEP_PARTNERS + 1 and owners[-1] is None


def test_a_retraction_folds_the_held_events_on_top_of_the_trimmed_ones() -> None:
    log = EventLog()
    log.add(ev(Milestone.OUT_FOR_DELIVERY, "o", 0))
    log.add_all([ev(Milestone.IN_TRANSIT, f"s{n}", 10 + n) for n in range(KEEP_EVENTS)])
    assert log.trimmed == 1 and log.milestone_of(event_id_for("easypost", "o")) is None
    delivered = ev(Milestone.DELIVERED, "d", 900, proof_of_delivery=PROOF)
    log.add(delivered)
    log.add(ev(Milestone.IN_TRANSIT, "r", 901, retracts_event_id=delivered.event_id))
    assert not log.progress.delivered_with_proof
    assert log.progress.furthest is Milestone.OUT_FOR_DELIVERY  # the trimmed event still counts
    assert log.milestone_of(delivered.event_id) is Milestone.DELIVERED
    log.trim(0)
    assert log.milestone_of(delivered.event_id) is Milestone.DELIVERED  # retracted, not held
    assert not log.add(delivered)  # retracted: a repeat never comes back
    rebuilt, _ = carried(log)
    assert not rebuilt.add(delivered) and rebuilt.progress == log.progress


def test_a_retraction_of_an_event_no_longer_held_changes_nothing_but_is_recorded() -> None:
    log = EventLog()
    log.add(ev(Milestone.IN_TRANSIT, "x", 0))
    log.trim(0)
    estimated = EventClassifier.ESTIMATED
    log.add_all([ev(Milestone.DELIVERED, "eta 1", 50, classifier=estimated),
                 ev(Milestone.DELIVERED, "eta 2", 40, classifier=estimated)])  # fmt: skip
    before = log.progress.model_copy(deep=True)
    assert before.eta == T0 + timedelta(minutes=40)  # the latest estimate, by arrival
    retraction = ev(Milestone.IN_TRANSIT, "r", 1, retracts_event_id=event_id_for("easypost", "x"))
    assert log.add(retraction) and log.events[-1] == retraction
    assert log.progress == before  # not folded again (a fold would take the ETA of 50)


def test_a_retraction_that_comes_first_keeps_its_event_out() -> None:
    log = EventLog()
    target = ev(Milestone.DELIVERED, "d", 5, proof_of_delivery=PROOF)
    log.add(ev(Milestone.IN_TRANSIT, "r", 6, retracts_event_id=target.event_id))
    log.add_all([ev(Milestone.IN_TRANSIT, f"s{n}", n) for n in range(KEEP_EVENTS)])
    assert log.add(target)  # recorded on the timeline, never counted
    assert not log.progress.delivered_with_proof


def test_a_state_from_the_earlier_version_is_honoured_for_one_run() -> None:
    old = [ev(Milestone.IN_TRANSIT, f"s{n}", n) for n in range(20)]
    events = ",".join(e.model_dump_json() for e in old[-5:])
    seen = ",".join(f'"{e.event_id}"' for e in old)
    state = EventLogState.model_validate_json(
        f'{{"events":[{events}],"seen":[{seen}],"trimmed":15}}'
    )
    log = EventLog(state)
    assert not log.add_all(old)
    assert log.state().seen == [] and len(log.state().partners) == 1


def test_a_window_rebuilds_from_its_state() -> None:
    data = PartnerIds(partner="x", ids=[(T0, "b"), (T0 - timedelta(hours=1), "a")])
    log = EventLog(EventLogState(partners=[data]))
    assert [i for _, i in log.state().partners[0].ids] == ["a", "b"]
