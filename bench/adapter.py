"""Benchmark 4: what our Odoo adapter adds to a call, against raw httpx to the same simulator.

A: ``OdooClient.search_read`` (transport choice, ``execute_kw`` argument shaping, error
mapping, read retries, record cleaning, httpx instrumentation). B: the same JSON-RPC body
posted with a bare ``httpx.AsyncClient``. Same simulator, same query, one caller each (the
per-call cost is the point), alternating windows.
"""

import itertools
from typing import Any

import httpx

from bench.platform import Platform
from bench.stats import BenchResult, alternate, closed_loop, env_float, env_int, percentiles_ms

DOMAIN = [["is_company", "=", True]]
FIELDS = ["name", "country_id"]


async def run(platform: Platform) -> BenchResult:
    seconds = env_float("BENCH_ADAPTER_WINDOW_S", 4.0)
    pairs = env_int("BENCH_ADAPTER_PAIRS", 3)
    concurrency = env_int("BENCH_ADAPTER_CONCURRENCY", 1)
    odoo = platform.odoo()
    password = platform.secrets["BORDERFLOW_ODOO_PASSWORD"]
    raw = httpx.AsyncClient(base_url=platform.sim_url("odoo"), timeout=20.0)
    ids = itertools.count(1)
    try:
        uid = await raw.post("/jsonrpc", json={
            "jsonrpc": "2.0", "method": "call", "id": 0,
            "params": {"service": "common", "method": "authenticate",
                       "args": ["borderflow", "admin", password, {}]},
        })  # fmt: skip
        user_id = uid.json()["result"]
        await odoo.search_read("res.partner", DOMAIN, FIELDS, limit=5)  # log in once

        async def adapter(_: int) -> bool:
            return bool(await odoo.search_read("res.partner", DOMAIN, FIELDS, limit=5))

        async def bare(_: int) -> bool:
            payload: dict[str, Any] = {
                "jsonrpc": "2.0", "method": "call", "id": next(ids),
                "params": {"service": "object", "method": "execute_kw", "args": [
                    "borderflow", user_id, password, "res.partner", "search_read", [DOMAIN],
                    {"fields": FIELDS, "limit": 5}]},
            }  # fmt: skip
            response = await raw.post("/jsonrpc", json=payload)
            return response.status_code == 200 and bool(response.json().get("result"))

        compared = await alternate(
            lambda: closed_loop(adapter, concurrency, seconds),
            lambda: closed_loop(bare, concurrency, seconds),
            pairs,
        )
    finally:
        await odoo.aclose()
        await raw.aclose()
    lat_a = percentiles_ms([s for w in compared.a for s in w.latencies_s])
    lat_b = percentiles_ms([s for w in compared.b for s in w.latencies_s])
    overhead_us = (1 / compared.a_rate - 1 / compared.b_rate) * 1e6 * concurrency
    metrics = {
        **compared.summary("adapter", "raw_httpx"),
        "adapter_latency": lat_a,
        "raw_httpx_latency": lat_b,
        "overhead_us_per_call": round(overhead_us, 1),
    }
    return BenchResult(
        "adapter",
        {"window_s": seconds, "pairs": pairs, "concurrency": concurrency,
         "call": "res.partner search_read limit 5 (JSON-RPC)"},
        metrics,
        [
            ("OdooClient calls/s", f"{compared.a_rate:.1f} (p50 {lat_a['p50_ms']} ms)"),
            ("raw httpx calls/s", f"{compared.b_rate:.1f} (p50 {lat_b['p50_ms']} ms)"),
            ("ratio adapter/raw", f"{compared.ratio:.3f}"),
            ("adapter overhead per call", f"{overhead_us:.0f} µs"),
        ],
    )  # fmt: skip
