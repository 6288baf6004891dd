"""ShipmentWorkflow in the time-skipping test server, with stand-in activities.

Stage order, milestone waits and deduplication, rejection, and that each side effect is asked
for exactly once. SLA, ops actions and customs have modules of their own.
"""

from collections import Counter
from datetime import timedelta

from stand_ins import StandInActivities, event, send, stage_of, start
from temporalio.testing import WorkflowEnvironment

from canonical.events import EventClassifier, event_id_for
from canonical.milestones import Milestone, ProofOfDelivery
from canonical.shipment import Stage
from workflows.models import TASK_QUEUE, ShipmentStatus


async def test_happy_path_waits_for_release_then_proof_and_dedupes_milestones(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S00001")
        # Delivery news may come before customs news: it must be kept, not lost.
        delivered = event(
            Milestone.DELIVERED, "evt_3", proof_of_delivery=ProofOfDelivery(signed_by="J. SMITH")
        )
        await send(handle, event(Milestone.PICKED_UP, "evt_1"))
        await send(handle, event(Milestone.PICKED_UP, "evt_1"))
        await send(handle, delivered)
        await env.sleep(timedelta(days=3))  # nothing moves without customs release
        assert await stage_of(handle) == Stage.CUSTOMS

        released = event(Milestone.CUSTOMS_RELEASED, "bev_1", partner="broker")
        await send(handle, released)
        await send(handle, released)
        result: ShipmentStatus = await handle.result()

    assert result.stage == Stage.INVOICED
    assert [s.stage for s in result.stages] == [
        Stage.ACCEPT,
        Stage.BOOK,
        Stage.CUSTOMS,
        Stage.DELIVERY,
        Stage.INVOICE,
        Stage.INVOICED,
    ]
    assert [e.dedupe_key for e in result.events] == ["evt_1", "evt_3", "bev_1"]
    refs = result.references
    assert (refs.sale_order_id, refs.picking_id, refs.transport_order_id) == (7, 11, "TO-000001")
    assert (refs.tracking_number, refs.declaration_id) == ("EZ1", "DEC-000001")
    assert (refs.invoice_id, refs.invoice_name) == (3, "INV/2026/00003")
    assert [(d.direction.value, d.status.value) for d in result.customs] == [
        ("export", "RELEASED")
    ]  # DAP: we clear export only
    escalations = {"notify", "open_escalation"}
    assert {n for n, c in stand_ins.calls.items() if n not in escalations and c != 1} == set()
    # Three days waiting for customs (48 h allowed): the customs clock climbed its ladder.
    assert stand_ins.notified() == ["sla.customs.warn", "sla.customs.breach",
                                    "sla.customs.escalated"]  # fmt: skip
    assert stand_ins.calls["open_escalation"] == 1
    assert result.sla_breached
    assert [(c.clock, c.level.value) for c in result.sla if c.clock == "customs"] == [
        ("customs", "escalated")
    ]
    stand_ins.queues.pop("notify"), stand_ins.queues.pop("open_escalation")
    assert stand_ins.queues == {
        "accept_order": "borderflow-odoo", "load_shipment_policy": TASK_QUEUE,
        "create_transport_order": "borderflow-tms", "book_carrier": "borderflow-carrier-easypost",
        "write_tracking_ref": "borderflow-odoo",
        "file_customs": "borderflow-broker", "final_charges": "borderflow-carrier-easypost",
        "release_invoice": "borderflow-odoo", "notify_finance": "borderflow-notify",
    }  # fmt: skip
    # The carrier's final freight charge is invoiced, not flagged provisional.
    (release,) = stand_ins.inputs["release_invoice"]
    assert [(c.kind.value, str(c.amount.amount), c.provisional) for c in release.charges] == [
        ("freight", "42.50", False)
    ]
    assert not result.invoice_provisional


async def test_a_regional_shipment_calls_its_partners_on_its_region_s_queues(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client, region="eu-west"):  # nothing polls global queues
        handle = await start(env.client, "S00012", region="eu-west")
        await send(handle, event(Milestone.CUSTOMS_RELEASED, "bev_12"))
        await send(handle, event(
            Milestone.POD_RECEIVED, "evt_12", proof_of_delivery=ProofOfDelivery(signed_by="A. B.")
        ))  # fmt: skip
        result: ShipmentStatus = await handle.result()
    assert result.stage == Stage.INVOICED
    assert stand_ins.calls["file_customs"] == 1 and stand_ins.calls["release_invoice"] == 1
    history = await handle.fetch_history()
    queues = {e.activity_task_scheduled_event_attributes.task_queue.name for e in history.events
              if e.HasField("activity_task_scheduled_event_attributes")}  # fmt: skip
    assert queues and all(q.endswith("-eu-west") or q == TASK_QUEUE for q in queues), queues


async def test_delivery_without_proof_does_not_release_the_invoice(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S00002")
        await send(handle, event(Milestone.CUSTOMS_RELEASED, "bev_9"))
        await send(handle, event(Milestone.DELIVERED, "evt_9"))
        await env.sleep(timedelta(days=10))
        assert await stage_of(handle) == Stage.DELIVERY
        assert stand_ins.calls["release_invoice"] == 0
        await send(
            handle,
            event(
                Milestone.POD_RECEIVED,
                "evt_10",
                proof_of_delivery=ProofOfDelivery(signed_by="R. ROE"),
            ),
        )
        result: ShipmentStatus = await handle.result()
    assert result.stage == Stage.INVOICED
    assert stand_ins.calls["release_invoice"] == 1


async def test_an_order_that_cannot_ship_is_rejected_with_the_reason(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S-REJECT")
        result: ShipmentStatus = await handle.result()
    assert result.stage == Stage.REJECTED
    assert "S-REJECT not found" in (result.rejection or "")
    assert stand_ins.calls == Counter({"accept_order": 1})


async def test_estimates_and_retracted_events_do_not_move_the_shipment(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S00003")
        proof = ProofOfDelivery(signed_by="J. SMITH")
        await send(
            handle,
            event(Milestone.CUSTOMS_RELEASED, "est-1", classifier=EventClassifier.ESTIMATED),
        )
        await env.sleep(timedelta(days=2))
        assert await stage_of(handle) == Stage.CUSTOMS  # an estimate releases nothing
        await send(handle, event(Milestone.CUSTOMS_RELEASED, "act-1"))
        # A planned delivery, then an actual one that the carrier withdraws.
        await send(handle, event(Milestone.DELIVERED, "d-plan", classifier=EventClassifier.PLANNED,
                  proof_of_delivery=proof),
        )  # fmt: skip
        await env.sleep(timedelta(days=2))
        assert await stage_of(handle) == Stage.DELIVERY
        await send(handle, event(Milestone.DELIVERED, "d-wrong"))
        await send(handle, event(Milestone.EXCEPTION, "retract-1",
                  retracts_event_id=event_id_for("easypost", "d-wrong")),
        )  # fmt: skip
        await env.sleep(timedelta(days=1))
        assert await stage_of(handle) == Stage.DELIVERY
        await send(handle, event(Milestone.DELIVERED, "d-1", proof_of_delivery=proof))
        result: ShipmentStatus = await handle.result()
    assert result.stage == Stage.INVOICED
    assert len(result.events) == 6  # every event stays on the timeline
    assert result.eta is not None  # the planned delivery moved the ETA


async def test_cumulative_webhooks_record_each_event_once_and_in_one_signal_each(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S00004")
        released = event(Milestone.CUSTOMS_RELEASED, "b1", partner="broker")
        picked = event(Milestone.PICKED_UP, "e1")
        delivered = event(Milestone.DELIVERED, "e2", proof_of_delivery=ProofOfDelivery(
            signed_by="J. SMITH"))  # fmt: skip
        await send(handle, picked)
        await send(handle, released)
        await send(handle, picked, delivered, delivered)  # the carrier repeats what it sent
        result: ShipmentStatus = await handle.result()
    assert result.stage == Stage.INVOICED
    assert [e.event_id for e in result.events] == [
        event_id_for("easypost", "e1"),
        event_id_for("broker", "b1"),
        event_id_for("easypost", "e2"),
    ]
    history = await handle.fetch_history()
    signals = [
        e for e in history.events if e.HasField("workflow_execution_signaled_event_attributes")
    ]
    assert len(signals) == 3  # one per webhook, never one per event
