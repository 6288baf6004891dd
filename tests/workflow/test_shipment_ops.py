"""Ops actions, carrier fallback, customs holds and compensation (time-skipping server)."""

import asyncio
from datetime import timedelta

import pytest
from stand_ins import StandInActivities, event, send, start, until
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from canonical.events import EventSource, ShipmentEvent, event_id_for
from canonical.milestones import Milestone, ProofOfDelivery
from canonical.parties import Address, Party
from canonical.shipment import Stage
from workflows.models import CUSTOMS_STATUS, SHIPMENT_STATUS, ShipmentStatus, TimelineKind
from workflows.ops import (
    AmendInput,
    CancelInput,
    ManualMilestoneInput,
    RebookInput,
    ResolutionKind,
    ResolveInput,
)
from workflows.shipment import ShipmentWorkflow

PROOF = ProofOfDelivery(signed_by="J. SMITH")


async def refused(update: object) -> ApplicationError:
    """The validator's refusal of an update (it never reached history)."""
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await update  # type: ignore[misc]
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_a_refusing_carrier_falls_back_to_the_next_of_the_lane(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities(refusing={"easypost"})
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S10001")
        status = await until(handle, lambda s: s.stage is Stage.CUSTOMS)
    assert status.carrier == "dhl" and status.references.tracking_number == "DHL2"
    assert [b.shipment.carrier for b in stand_ins.inputs["book_carrier"]] == ["easypost", "dhl"]
    titles = [e.title for e in status.log if e.kind is TimelineKind.BOOKING]
    assert titles == ["easypost refused the booking", "booked with dhl"]
    await handle.terminate()


async def test_a_carrier_not_configured_is_never_called_and_the_lane_books(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities(carriers=("dhl",))  # no worker polls easypost's queue
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S10006", carrier="ups")
        status = await until(handle, lambda s: s.stage is Stage.CUSTOMS)
        assert status.carrier == "dhl"
        assert [b.shipment.carrier for b in stand_ins.inputs["book_carrier"]] == ["dhl"]
        assert stand_ins.queues["book_carrier"] == "borderflow-carrier-dhl"
        titles = [e.title for e in status.log if e.kind is TimelineKind.BOOKING]
        assert titles == [
            "ups is not configured here: the lane's carriers are asked",
            "booked with dhl",
        ]
        cause = await refused(handle.execute_update(
            ShipmentWorkflow.rebook, RebookInput(carrier="easypost", reason="cheaper"),
        ))  # fmt: skip
        assert cause.type == "InvalidUpdate" and "easypost is not configured here" in cause.message
    await handle.terminate()


async def test_no_configured_carrier_is_an_exception_that_says_so(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities(carriers=())
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S10007")
        status = await until(
            handle,
            lambda s: s.stage is Stage.EXCEPTION and "shipment.exception" in stand_ins.notified(),
        )
        assert status.exception == (
            "every carrier of the lane refused: easypost: not configured here; "
            "dhl: not configured here"
        )
        assert stand_ins.calls["book_carrier"] == 0
    await handle.terminate()


async def test_when_every_carrier_refuses_ops_resolve_the_exception(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities(refusing={"easypost", "dhl"})
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S10002")
        # Ops are told after the stage is set: the query may see EXCEPTION a task earlier.
        status = await until(
            handle,
            lambda s: s.stage is Stage.EXCEPTION and "shipment.exception" in stand_ins.notified(),
        )
        assert "every carrier of the lane refused" in (status.exception or "")
        # A carrier that does not serve the lane is refused before it touches history.
        cause = await refused(handle.execute_update(
            ShipmentWorkflow.resolve,
            ResolveInput(kind=ResolutionKind.EXCEPTION, note="try ups", carrier="ups"),
        ))  # fmt: skip
        assert cause.type == "InvalidUpdate" and "ups does not serve this lane" in cause.message
        stand_ins.refusing.discard("dhl")  # ops sorted it out with DHL
        status = await handle.execute_update(
            ShipmentWorkflow.resolve,
            ResolveInput(kind=ResolutionKind.EXCEPTION, note="DHL agreed", carrier="dhl"),
        )
        assert status.stage is not Stage.EXCEPTION and status.carrier == "dhl"
        assert status.exception is None
        cause = await refused(handle.execute_update(
            ShipmentWorkflow.resolve,
            ResolveInput(kind=ResolutionKind.EXCEPTION, note="again"),
        ))  # fmt: skip
        assert cause.type == "NotAllowedNow"
    await handle.terminate()


async def test_cancel_compensates_in_reverse_and_ends_cancelled(env: WorkflowEnvironment) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S10003")
        await until(handle, lambda s: any(d.status.value == "SUBMITTED" for d in s.customs))
        status = await handle.execute_update(
            ShipmentWorkflow.cancel, CancelInput(reason="customer withdrew the order")
        )
        assert status.stage is Stage.CANCELLED
        result: ShipmentStatus = await handle.result()
    undo = ["cancel_customs_declaration", "cancel_carrier_booking", "cancel_transport_order",
            "reverse_odoo_order"]  # fmt: skip
    assert all(stand_ins.calls[name] == 1 for name in undo)
    assert result.rejection == "customer withdrew the order"
    assert [d.status.value for d in result.customs] == ["CANCELLED"]
    steps = [e.title for e in result.log if e.kind is TimelineKind.COMPENSATION]
    assert steps == ["compensation started", "declaration withdrawn",
                     "easypost booking cancelled", "TMS order cancelled",
                     "delivery cancelled"]  # fmt: skip
    assert stand_ins.calls["release_invoice"] == 0
    described = await handle.describe()  # what support filters on in the Temporal UI
    attributes = described.typed_search_attributes
    assert attributes.get(SHIPMENT_STATUS) == "cancelled"
    assert attributes.get(CUSTOMS_STATUS) == "CANCELLED"


async def test_cancel_amend_and_rebook_are_refused_when_the_state_does_not_allow_them(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S10004")
        await until(handle, lambda s: s.stage is Stage.CUSTOMS)
        past = await refused(handle.execute_update(
            ShipmentWorkflow.amend,
            AmendInput(promised_date=env_now(await until(handle, lambda s: True)), reason="x"),
        ))  # fmt: skip
        assert past.type == "InvalidUpdate" and "in the past" in past.message
        new_consignee = Party(name="Acme West", address=Address(
            lines=["2 Pier Rd"], city="San Francisco", country="US"))  # fmt: skip
        booked = await refused(handle.execute_update(
            ShipmentWorkflow.amend, AmendInput(consignee=new_consignee, reason="moved")
        ))  # fmt: skip
        assert booked.type == "NotAllowedNow" and "carrier is booked" in booked.message
        # Re-booking before pickup: the new carrier first, then the old booking cancelled.
        status = await handle.execute_update(
            ShipmentWorkflow.rebook, RebookInput(reason="cheaper with DHL")
        )
        assert status.carrier == "dhl" and stand_ins.calls["cancel_carrier_booking"] == 1
        await send(handle, event(Milestone.PICKED_UP, "p-1"))
        late = await refused(handle.execute_update(
            ShipmentWorkflow.rebook, RebookInput(carrier="easypost", reason="back")
        ))  # fmt: skip
        assert late.type == "NotAllowedNow" and "picked the goods up" in late.message
        await send(handle, event(Milestone.CUSTOMS_RELEASED, "r-1"))
        await send(handle, event(Milestone.DELIVERED, "d-1", proof_of_delivery=PROOF))
        result: ShipmentStatus = await handle.result()
        assert result.stage is Stage.INVOICED
        with pytest.raises(RPCError, match=r"not found|completed"):  # the workflow is closed
            await handle.execute_update(ShipmentWorkflow.cancel, CancelInput(reason="too late"))


def env_now(status: ShipmentStatus):  # type: ignore[no-untyped-def]
    """A moment surely in the workflow's past: when it was accepted."""
    return status.stages[0].at


async def test_a_customs_hold_waits_for_ops_then_the_release(env: WorkflowEnvironment) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S10005")
        await until(handle, lambda s: any(d.status.value == "SUBMITTED" for d in s.customs))
        nothing = await refused(handle.execute_update(
            ShipmentWorkflow.resolve,
            ResolveInput(kind=ResolutionKind.CUSTOMS_HOLD, note="docs sent"),
        ))  # fmt: skip
        assert nothing.type == "NotAllowedNow"
        await send(
            handle,
            event(
                Milestone.CUSTOMS_ACCEPTED, "b-1", partner="broker", reason="MRN 26DE4Z7Q2M9K1X3B5N"
            ),
        )
        await send(
            handle,
            event(Milestone.CUSTOMS_HELD, "b-2", partner="broker", reason="customs_documentation"),
        )
        held = await until(handle, lambda s: s.customs and s.customs[0].status.value == "HELD")
        assert held.customs[0].mrn == "26DE4Z7Q2M9K1X3B5N"
        assert "customs hold" in (held.exception or "")
        status = await handle.execute_update(
            ShipmentWorkflow.resolve,
            ResolveInput(kind=ResolutionKind.CUSTOMS_HOLD, note="commercial invoice sent"),
        )
        assert status.customs[0].status.value == "UNDER_REVIEW"
        assert status.customs[0].resolution_note == "commercial invoice sent"
        assert status.stage is Stage.CUSTOMS and status.exception is None
        await send(handle, event(
            Milestone.CUSTOMS_RELEASED, "b-3", partner="broker"))  # fmt: skip
        await until(handle, lambda s: s.stage is Stage.DELIVERY)
    assert "customs.held" in stand_ins.notified()
    await handle.terminate()


async def test_a_customs_rejection_compensates(env: WorkflowEnvironment) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S10006")
        await until(handle, lambda s: any(d.status.value == "SUBMITTED" for d in s.customs))
        await send(handle, event(
            Milestone.CUSTOMS_REJECTED, "b-9", partner="broker"))  # fmt: skip
        result: ShipmentStatus = await handle.result()
    assert result.stage is Stage.CANCELLED
    assert result.rejection == "customs rejected the export declaration"
    assert stand_ins.calls["cancel_carrier_booking"] == 1
    assert stand_ins.calls["cancel_customs_declaration"] == 0  # rejected: nothing to withdraw


@pytest.mark.parametrize(
    ("incoterm", "filed"), [("DDP", ["export", "import"]), ("EXW", []), ("FCA", ["export"])]
)
async def test_the_incoterm_decides_which_declarations_we_file(
    env: WorkflowEnvironment, incoterm: str, filed: list[str]
) -> None:
    stand_ins = StandInActivities(incoterm=incoterm)
    async with stand_ins.running(env.client):
        handle = await start(env.client, f"S1007{len(filed)}")
        for number, _ in enumerate(filed):
            await until(handle, lambda s, n=number: len(s.customs) > n and s.customs[n].version)
            await send(handle, event(
                Milestone.CUSTOMS_RELEASED, f"rel-{number}", partner="broker"))  # fmt: skip
        status = await until(handle, lambda s: s.stage is Stage.DELIVERY)
    assert [i.direction.value for i in stand_ins.inputs.get("file_customs", [])] == filed
    assert [d.status.value for d in status.customs] == ["RELEASED"] * len(filed)
    await handle.terminate()


async def test_ops_record_a_milestone_and_it_counts_like_a_partner_event(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S10008")
        await until(handle, lambda s: s.stage is Stage.CUSTOMS)
        manual = ShipmentEvent(
            event_id=event_id_for("ops", "k1"), dedupe_key="k1", milestone=Milestone.PICKED_UP,
            occurred_at=env_now(await until(handle, lambda s: True)) + timedelta(minutes=5),
            recorded_at=env_now(await until(handle, lambda s: True)),
            source=EventSource(partner="ops", partner_event_id="k1"), reason="driver called",
        )  # fmt: skip
        status = await handle.execute_update(
            ShipmentWorkflow.record_milestone, ManualMilestoneInput(event=manual)
        )
        assert status.transport_status is Milestone.PICKED_UP
        assert [c.met_at is not None for c in status.sla if c.clock == "pickup"] == [True]
        forged = manual.model_copy(update={"source": EventSource(partner="easypost")})
        cause = await refused(handle.execute_update(
            ShipmentWorkflow.record_milestone, ManualMilestoneInput(event=forged)))  # fmt: skip
        assert cause.type == "InvalidUpdate"
    await handle.terminate()


async def test_cancel_while_a_partner_call_is_in_flight_compensates(
    env: WorkflowEnvironment,
) -> None:
    stand_ins = StandInActivities()
    stand_ins.booking_gate = asyncio.Event()
    async with stand_ins.running(env.client):
        handle = await start(env.client, "S10009")
        await until(handle, lambda s: s.stage is Stage.BOOK and s.references.transport_order_id)
        await until(handle, lambda _: stand_ins.calls["book_carrier"] == 1)
        status = await handle.execute_update(
            ShipmentWorkflow.cancel, CancelInput(reason="wrong order")
        )
        stand_ins.booking_gate.set()
        result: ShipmentStatus = await handle.result()
    assert status.stage is Stage.CANCELLED and result.stage is Stage.CANCELLED
    assert stand_ins.calls["cancel_transport_order"] == 1
    assert stand_ins.calls["reverse_odoo_order"] == 1
