"""SLA deadlines on durable timers: every clock, the ladder, moving deadlines (time-skipping)."""

from datetime import timedelta
from pathlib import Path

from stand_ins import StandInActivities, event, send, start, status_of, until
from temporalio.testing import WorkflowEnvironment

from canonical.events import EventClassifier
from canonical.milestones import Milestone, ProofOfDelivery
from canonical.shipment import Stage
from workflows.models import SLA_BREACHED, ShipmentStatus, SlaLevel, TimelineKind
from workflows.ops import AmendInput
from workflows.policy import DEFAULT_POLICY_FILE
from workflows.shipment import ShipmentWorkflow

PROOF = ProofOfDelivery(signed_by="J. SMITH")


def levels(status: ShipmentStatus) -> dict[str, str]:
    return {clock.clock: clock.level.value for clock in status.sla}


async def test_book_clock_breaches_while_every_carrier_refuses(env: WorkflowEnvironment) -> None:
    stand_ins = StandInActivities(refusing={"easypost", "dhl"})
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S20001")
        await until(handle, lambda s: s.stage is Stage.EXCEPTION)
        await env.sleep(timedelta(hours=1, minutes=31))  # 75 % of 2 h: warn
        assert levels(await status_of(handle))["book"] == "warn"
        await env.sleep(timedelta(minutes=30))  # past 2 h: breach
        status = await status_of(handle)
        assert levels(status)["book"] == "breach" and status.sla_breached
        await env.sleep(timedelta(hours=4))  # + grace: the account team and an Odoo activity
        assert levels(await status_of(handle))["book"] == "escalated"
        assert stand_ins.calls["open_escalation"] == 1
        await env.sleep(timedelta(hours=20))  # + critical
        status = await status_of(handle)
    assert levels(status)["book"] == "critical"
    assert [n for n in stand_ins.notified() if n.startswith("sla.book")] == [
        "sla.book.warn", "sla.book.breach", "sla.book.escalated", "sla.book.critical",
        "sla.book.critical",
    ]  # fmt: skip
    assert [e.title for e in status.log if e.kind is TimelineKind.SLA] == [
        "SLA book: warn",
        "SLA book: breach",
        "SLA book: escalated",
        "SLA book: critical",
    ]
    described = await handle.describe()  # what support filters on in the UI
    assert described.typed_search_attributes.get(SLA_BREACHED) is True
    await handle.terminate()


async def test_pickup_clock_is_met_by_the_pickup_scan(env: WorkflowEnvironment) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S20002")
        await until(handle, lambda s: s.stage is Stage.CUSTOMS)
        await env.sleep(timedelta(hours=19))  # 75 % of 24 h
        assert levels(await status_of(handle))["pickup"] == "warn"
        await send(handle, event(Milestone.PICKED_UP, "p-1"))
        await env.sleep(timedelta(hours=10))  # the pickup deadline passes, met
        status = await status_of(handle)
    pickup = next(c for c in status.sla if c.clock == "pickup")
    assert pickup.met_at is not None and pickup.level is SlaLevel.WARN
    assert "sla.pickup.breach" not in stand_ins.notified()
    await handle.terminate()


async def test_delivery_clock_follows_the_promised_date_and_the_eta(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S20003")
        status = await until(handle, lambda s: s.stage is Stage.CUSTOMS)
        delivery = next(c for c in status.sla if c.clock == "delivery")
        accepted = delivery.started_at
        assert delivery.deadline == accepted + timedelta(days=7)  # standard: 7 days
        await send(handle, event(Milestone.PICKED_UP, "p-1"))
        await send(handle, event(
            Milestone.CUSTOMS_RELEASED, "r-1", partner="broker"))  # fmt: skip
        # Ops promise two more days: the deadline (and its timers) move.
        promised = accepted + timedelta(days=9)
        status = await handle.execute_update(
            ShipmentWorkflow.amend, AmendInput(promised_date=promised, reason="customer asked")
        )
        assert status.promised_date == promised
        assert next(c for c in status.sla if c.clock == "delivery").deadline == promised
        # The carrier estimates delivery after the promise: ops are warned at once.
        await send(handle, event(
            Milestone.DELIVERED, "eta-1", classifier=EventClassifier.ESTIMATED,
            at=promised + timedelta(days=1)))  # fmt: skip
        status = await until(handle, lambda s: levels(s)["delivery"] == "warn")
        assert status.eta == promised + timedelta(days=1)
        await env.sleep(timedelta(days=8, hours=23))  # just before day 9: not yet breached
        assert levels(await status_of(handle))["delivery"] == "warn"
        await env.sleep(timedelta(hours=2))
        status = await status_of(handle)
        assert levels(status)["delivery"] == "breach"
        assert "sla.delivery.warn" in stand_ins.notified()
    await handle.terminate()


async def test_invoice_waits_for_final_charges_then_goes_provisional(
    env: WorkflowEnvironment, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        DEFAULT_POLICY_FILE.read_text().replace('charges_window = "24h"', 'charges_window = "36h"')
    )
    stand_ins = StandInActivities(settled=False, policy_file=policy)
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S20004")
        await until(handle, lambda s: s.stage is Stage.CUSTOMS)
        await send(handle, event(Milestone.PICKED_UP, "p-1"))
        await send(handle, event(
            Milestone.CUSTOMS_RELEASED, "r-1", partner="broker"))  # fmt: skip
        await send(handle, event(Milestone.DELIVERED, "d-1", proof_of_delivery=PROOF))
        result: ShipmentStatus = await handle.result()
    assert result.stage is Stage.INVOICED and result.invoice_provisional
    (release,) = stand_ins.inputs["release_invoice"]
    assert [c.provisional for c in release.charges] == [True]  # the quote, flagged
    assert stand_ins.calls["final_charges"] == 5  # asked at POD and 4 times in the window
    invoice = next(c for c in result.sla if c.clock == "invoice")
    assert invoice.level is SlaLevel.ESCALATED  # 36 h window > 24 h invoice SLA + 4 h grace
    assert "sla.invoice.breach" in stand_ins.notified()
