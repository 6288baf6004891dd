"""Fault drill: partner outages and rate limits delay shipments but duplicate nothing.

The whole platform runs as `make run` starts it, with an SLA policy of its own (express
shipments must be booked within 2 s; standard ones keep the shipped policy's deadlines).

- Odoo fails 30% of calls (HTTP 503) while the carrier is down for a short window (503): the
  shipment waits, then is invoiced with one carrier booking, one tracking-ref write and one
  posted invoice.
- Odoo and the carrier answer 429 with `Retry-After` for a burst of calls: the same.
- An express shipment whose carrier is down for longer than its booking deadline: the SLA
  watch breaches the booking clock meanwhile (ops told once, `SlaBreached`), and once the
  carrier is back the shipment is booked and invoiced, all side effects once.
"""

from collections.abc import Iterator

import httpx
import pytest
from fault_drills import (
    assert_side_effects_once,
    clear_faults,
    create_order,
    follow,
    injected,
    notifications,
    set_faults,
    sim_list,
    start_shipment,
    wait_until,
)
from running_platform import Platform

OUTAGE_S = 12
"""The carrier outage: long enough for several booking attempts to fail (backoff 1, 2, 4 s…)."""
POLICY = """
[service_levels.express]
book = "2s"
pickup = "1d"
customs = "1d"
delivery_days = 3
invoice = "1d"

[service_levels.standard]
book = "2h"
pickup = "1d"
customs = "2d"
delivery_days = 7
invoice = "1d"

[escalation]
warn_at = 0.75
grace = "4h"
critical = "1d"

[invoice]
charges_window = "1d"

[lanes]
default = ["easypost"]
"""


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    base = tmp_path_factory.mktemp("outage")
    policy = base / "sla_policy.toml"
    policy.write_text(POLICY)
    running = Platform(base / ".data", demo_shipments=0, ports=Platform.free_ports(),
                       extra_env={"BORDERFLOW_SLA_POLICY": str(policy)})  # fmt: skip
    try:
        running.wait_for("running:", timeout_s=90)
        yield running
    finally:
        running.stop()


def booking_requests(platform: Platform, shipment_id: str) -> list[dict]:
    return [
        r
        for r in sim_list(platform, "easypost", "requests")
        if r["method"] == "POST"
        and r["path"] == "/v2/shipments"
        and isinstance(r["body"], dict)
        and r["body"]["shipment"]["reference"] == shipment_id
    ]


def test_flaky_odoo_and_a_carrier_outage_delay_the_shipment_but_duplicate_nothing(
    platform: Platform,
) -> None:
    order_ref = create_order(platform)
    set_faults(platform, "odoo", {"error_rate": 0.3, "error_status": 503, "seed": 11})
    set_faults(platform, "easypost", {"down_for_s": OUTAGE_S})
    shipment_id = start_shipment(platform, order_ref)

    final = follow(platform, shipment_id, timeout_s=OUTAGE_S + 120)
    odoo_faults, carrier_faults = injected(platform, "odoo"), injected(platform, "easypost")
    clear_faults(platform, "odoo", "easypost")
    print(f"\ninjected: odoo {odoo_faults}, carrier {carrier_faults}")

    assert_side_effects_once(platform, final)
    assert odoo_faults["error"] > 0  # Odoo really failed calls
    # The booking really waited for the carrier: refused while it was down, then bought once,
    # every attempt under the same idempotency key.
    attempts = booking_requests(platform, shipment_id)
    assert [r["status"] for r in attempts][-1] == 201
    assert {r["status"] for r in attempts[:-1]} == {503} and len(attempts) >= 2
    assert {r["idempotency_key"] for r in attempts} == {attempts[0]["idempotency_key"]}


def test_rate_limits_with_retry_after_pause_the_shipment_and_duplicate_nothing(
    platform: Platform,
) -> None:
    order_ref = create_order(platform)
    set_faults(platform, "odoo", {"rate_limit_next": 3, "retry_after_s": 2})
    set_faults(platform, "easypost", {"rate_limit_next": 3, "retry_after_s": 2})
    shipment_id = start_shipment(platform, order_ref)

    final = follow(platform, shipment_id, timeout_s=120)
    odoo_faults, carrier_faults = injected(platform, "odoo"), injected(platform, "easypost")
    clear_faults(platform, "odoo", "easypost")

    assert_side_effects_once(platform, final)
    assert odoo_faults["rate_limited"] == 3 and carrier_faults["rate_limited"] == 3
    limited = [r for r in sim_list(platform, "easypost", "requests") if r["status"] == 429]
    assert len(limited) == 3 and {r["fault"] for r in limited} == {"rate_limited"}


def test_an_outage_longer_than_the_booking_deadline_breaches_the_sla_once(
    platform: Platform,
) -> None:
    order_ref = create_order(platform)
    set_faults(platform, "easypost", {"down_for_s": OUTAGE_S})
    shipment_id = start_shipment(platform, order_ref, service_level="express")

    def breach_told() -> list[dict]:
        return [m for m in notifications(platform, "ops")
                if m["message"].get("borderflow", {}).get("shipment_id") == shipment_id
                and m["message"]["borderflow"]["event"] == "sla.book.breach"]  # fmt: skip

    # While the carrier is still down, the booking clock breaches: ops hear of it.
    wait_until("the booking SLA breach notified", breach_told, OUTAGE_S + 30)
    during = httpx.get(f"{platform.api_url}/v1/shipments/{shipment_id}",
                       headers=platform.headers, timeout=30).json()  # fmt: skip
    assert during["stage"] == "book" and during["sla_breached"] is True
    assert during["references"]["tracking_number"] is None

    final = follow(platform, shipment_id, timeout_s=OUTAGE_S + 120)
    clear_faults(platform, "easypost")
    assert_side_effects_once(platform, final)
    assert final["sla_breached"] is True
    titles = [e["title"] for e in final["log"] if e["kind"] == "sla"]
    assert titles.count("SLA book: breach") == 1, titles
    assert len(breach_told()) == 1
    (book,) = [c for c in final["sla"] if c["clock"] == "book"]
    assert book["met_at"] is not None
