"""Broker customs faults: held declarations (released by hand) and rejected ones."""

import asyncio

import httpx
from sim_support import TIME_SCALE, Receiver, assert_problem, injected, set_faults, wait_until
from test_sim_broker import AUTH, DECLARATION, WEBHOOK_PATH, verify_broker

from simulators.app import RunningSimulators


def statuses(receiver: Receiver) -> list[tuple[str, str, str | None]]:
    return [
        (d["declaration"]["id"], d["declaration"]["status"], d["declaration"]["hold_reason"])
        for d in (delivery.json() for delivery in receiver.accepted(WEBHOOK_PATH))
    ]


async def test_hold_then_release(
    http: httpx.AsyncClient, sims: RunningSimulators, receiver: Receiver
) -> None:
    await set_faults(
        http, sims.url("broker"), customs={"hold_next": 1, "hold_reason": "inspection"}
    )
    url = f"{sims.url('broker')}/api/v1/declarations"
    held = (await http.post(url, json=DECLARATION, headers=AUTH)).json()["id"]
    normal = (await http.post(url, json=DECLARATION, headers=AUTH)).json()["id"]
    await wait_until(lambda: len(receiver.accepted(WEBHOOK_PATH)) == 4)
    await asyncio.sleep(TIME_SCALE * 3)
    events = statuses(receiver)
    assert [e for e in events if e[0] == held] == [
        (held, "ACCEPTED", None),
        (held, "HELD", "inspection"),
    ]
    assert [e for e in events if e[0] == normal] == [
        (normal, "ACCEPTED", None),
        (normal, "RELEASED", None),
    ]
    fetched = (await http.get(f"{url}/{held}", headers=AUTH)).json()
    assert (fetched["status"], fetched["hold_reason"]) == ("HELD", "inspection")
    assert fetched["mrn"]

    release = f"{sims.url('broker')}/_sim/declarations/{held}/release"
    released = await http.post(release)
    assert released.status_code == 200
    assert (released.json()["status"], released.json()["hold_reason"]) == ("RELEASED", None)
    await wait_until(lambda: len(receiver.accepted(WEBHOOK_PATH)) == 5)
    assert statuses(receiver)[-1] == (held, "RELEASED", None)
    verify_broker(receiver.accepted(WEBHOOK_PATH)[-1])
    assert_problem(await http.post(release), 409)  # no longer held
    assert_problem(
        await http.post(f"{sims.url('broker')}/_sim/declarations/DEC-999999/release"), 404
    )
    assert (await injected(http, sims.url("broker")))["customs_hold"] == 1


async def test_reject(http: httpx.AsyncClient, sims: RunningSimulators, receiver: Receiver) -> None:
    await set_faults(http, sims.url("broker"), customs={"reject_next": 1})
    url = f"{sims.url('broker')}/api/v1/declarations"
    rejected = (await http.post(url, json=DECLARATION, headers=AUTH)).json()["id"]
    await wait_until(lambda: len(receiver.accepted(WEBHOOK_PATH)) == 1)
    await asyncio.sleep(TIME_SCALE * 3)
    [event] = [delivery.json() for delivery in receiver.accepted(WEBHOOK_PATH)]
    assert event["declaration"]["status"] == "REJECTED"
    assert event["declaration"]["mrn"] is None
    assert_problem(await http.post(f"{url}/{rejected}/cancel", headers=AUTH), 409)
    assert (await injected(http, sims.url("broker")))["customs_reject"] == 1
