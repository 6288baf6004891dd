"""State files by group commit: answered writes are on disk, snapshots are shared.

A "crash" is simulated by copying the state directory the moment an answer arrives (what a
``kill -9`` would leave) and starting fresh simulators on the copy; the first ones are never
given the chance to flush at cleanup before the copy is taken.
"""

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import httpx
from sim_odoo_client import ORDER, Odoo
from sim_support import CONSIGNEE, SECRETS, SHIPPER, make_settings, running, serving
from test_sim_carrier import AUTH as EASYPOST_AUTH
from test_sim_carrier import BUY

from simulators.odoo import SERVICE_KEY, create_odoo_app
from simulators.rest_app import FILE_KEY
from simulators.tms import STATE_KEY, create_tms_app

TMS_AUTH = {"Authorization": f"Bearer {SECRETS['tms_api_key']}"}
ORDER_BODY = {"reference": "S00001", "shipper": SHIPPER, "consignee": CONSIGNEE,
              "packages": [{"weight_kg": 2}], "carrier": "dhl"}  # fmt: skip
INTERVAL = 1.0  # long: a "flush later" design would leave the copied files behind
WRITES = 100
MAX_SNAPSHOTS = 10  # 1 at once + one per interval; far below one per write
PINNED = 1e9  # by default cheap snapshots rest less than the interval; here the full interval


async def test_answered_writes_survive_a_crash(tmp_path: Path, http: httpx.AsyncClient) -> None:
    live, crashed = tmp_path / "live", tmp_path / "crashed"
    options: dict[str, Any] = {"sim_time_scale": 60.0, "sim_state_flush_interval": INTERVAL}
    key = {"Idempotency-Key": "to-crash"}
    async with running(
        "http://127.0.0.1:9", state_file=live / "odoo.json", sim_state_dir=live, **options
    ) as sims:
        tms = f"{sims.url('tms')}/api/v1/transport-orders"
        assert (await http.post(tms, json=ORDER_BODY, headers=TMS_AUTH)).status_code == 201
        second = await http.post(tms, json=ORDER_BODY, headers={**TMS_AUTH, **key})  # in window
        bought = await http.post(
            f"{sims.url('easypost')}/v2/shipments", json=BUY, auth=EASYPOST_AUTH
        )
        odoo = Odoo(http, sims.url("odoo"))
        first_order = await odoo.call("sale.order", "create", ORDER)
        order_id = await odoo.call("sale.order", "create", ORDER)  # within the interval
        shutil.copytree(live, crashed)  # the files as a crash right now would leave them
    async with running(
        "http://127.0.0.1:9", state_file=crashed / "odoo.json", sim_state_dir=crashed, **options
    ) as sims:
        tms = f"{sims.url('tms')}/api/v1/transport-orders"
        replay = await http.post(tms, json=ORDER_BODY, headers={**TMS_AUTH, **key})
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.content == second.content
        got = await http.get(
            f"{sims.url('easypost')}/v2/shipments/{bought.json()['id']}", auth=EASYPOST_AUTH
        )
        assert got.json()["tracking_code"] == bought.json()["tracking_code"]
        rows = await Odoo(http, sims.url("odoo")).call(
            "sale.order", "read", [first_order, order_id], ["name"]
        )
        assert [r["name"] for r in rows] == ["S00001", "S00002"]


async def test_shutdown_writes_changes_made_outside_requests(tmp_path: Path) -> None:
    settings = make_settings(
        "http://127.0.0.1:9", sim_state_dir=tmp_path, sim_state_flush_interval=10.0
    )
    app = create_tms_app(settings)
    async with serving(app) as url:
        async with httpx.AsyncClient() as http:
            created = await http.post(
                f"{url}/api/v1/transport-orders", json=ORDER_BODY, headers=TMS_AUTH
            )
            assert created.status_code == 201  # written at once; the flusher now rests 10 s
        app[STATE_KEY].orders["TO-000001"]["status"] = "CANCELLED"
        app[FILE_KEY].save()
    saved = json.loads((tmp_path / "tms.json").read_text())  # cleanup flushed it
    assert saved["orders"]["TO-000001"]["status"] == "CANCELLED"


def preload_tms(directory: Path, count: int) -> None:
    orders = {
        f"TO-{n:06d}": {"id": f"TO-{n:06d}", **ORDER_BODY, "status": "CREATED",
                        "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
        for n in range(1, count + 1)
    }  # fmt: skip
    directory.mkdir(parents=True, exist_ok=True)
    body = {"format": 1, "orders": orders, "idempotency": [], "webhooks": []}
    (directory / "tms.json").write_text(json.dumps(body))


async def concurrent_tms_writes(directory: Path) -> int:
    """``WRITES`` concurrent creates; returns the snapshots the TMS wrote for them."""
    settings = make_settings(
        "http://127.0.0.1:9", sim_state_dir=directory, sim_state_flush_interval=INTERVAL
    )
    app = create_tms_app(settings)
    app[FILE_KEY].rest_factor = PINNED  # rest the whole interval after each snapshot
    before = len(app[STATE_KEY].orders)
    async with serving(app) as url, httpx.AsyncClient(timeout=30.0) as http:
        url = f"{url}/api/v1/transport-orders"
        answers = await asyncio.gather(
            *(http.post(url, json=ORDER_BODY, headers=TMS_AUTH) for _ in range(WRITES))
        )
        assert [a.status_code for a in answers] == [201] * WRITES
        flushes = app[FILE_KEY].flushes
        saved = json.loads((directory / "tms.json").read_text())  # before cleanup's flush
        assert len(saved["orders"]) == before + WRITES
    return flushes


async def test_concurrent_writes_share_snapshots(tmp_path: Path) -> None:
    assert 1 <= await concurrent_tms_writes(tmp_path) <= MAX_SNAPSHOTS


async def test_snapshots_per_write_do_not_grow_with_the_state(tmp_path: Path) -> None:
    preload_tms(tmp_path, 5000)
    assert 1 <= await concurrent_tms_writes(tmp_path) <= MAX_SNAPSHOTS


async def test_odoo_concurrent_writes_share_snapshots(tmp_path: Path) -> None:
    state_file = tmp_path / "odoo.json"
    settings = make_settings(
        "http://127.0.0.1:9", state_file=state_file, sim_state_flush_interval=INTERVAL
    )
    app = create_odoo_app(settings)
    store = app[SERVICE_KEY].state_file
    assert store is not None and store.flushes == 1  # the seed, written at start
    store.rest_factor = PINNED
    async with serving(app) as url, httpx.AsyncClient(timeout=30.0) as http:
        ids = await asyncio.gather(
            *(Odoo(http, url).call("sale.order", "create", ORDER) for _ in range(WRITES))
        )
        assert 2 <= store.flushes <= 1 + MAX_SNAPSHOTS
        saved = json.loads(state_file.read_text())
        assert {int(i) for i in saved["records"]["sale.order"]} >= set(ids)
