"""Finance notifications simulator: Slack-compatible messages, deduplicated by key."""

import httpx

from simulators.app import RunningSimulators

MESSAGE = {
    "text": "Invoice INV/2026/00001 posted for S00001",
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "*INV/2026/00001*"}}],
    "borderflow": {
        "event": "invoice.posted",
        "shipment_id": "shp-1",
        "order_ref": "S00001",
        "invoice_id": 1,
        "invoice_name": "INV/2026/00001",
        "amount_total": 1798.0,
        "currency": "EUR",
    },
}


async def test_dedupe_by_idempotency_key(http: httpx.AsyncClient, sims: RunningSimulators) -> None:
    url = f"{sims.url('notify')}/hooks/finance"
    for _ in range(3):
        response = await http.post(url, json=MESSAGE, headers={"Idempotency-Key": "inv-1"})
        assert response.status_code == 200
        assert response.text == "ok"
    await http.post(url, json=MESSAGE, headers={"Idempotency-Key": "inv-2"})
    await http.post(url, json=MESSAGE)
    messages = (await http.get(f"{sims.url('notify')}/_sim/messages")).json()
    assert [m["idempotency_key"] for m in messages] == ["inv-1", "inv-2", None]
    assert messages[0]["message"] == MESSAGE


async def test_invalid_payloads(http: httpx.AsyncClient, sims: RunningSimulators) -> None:
    url = f"{sims.url('notify')}/hooks/finance"
    no_text = await http.post(url, json={"blocks": []})
    assert (no_text.status_code, no_text.text) == (400, "no_text")
    garbage = await http.post(url, content=b"nope")
    assert (garbage.status_code, garbage.text) == (400, "invalid_payload")
    bad_blocks = await http.post(url, json={"text": "x", "blocks": "nope"})
    assert (bad_blocks.status_code, bad_blocks.text) == (400, "invalid_blocks")
    assert (await http.get(f"{sims.url('notify')}/_sim/messages")).json() == []


ALERT = {  # Alertmanager's webhook notification, as documented for <webhook_config>
    "version": "4", "groupKey": '{}:{alertname="BorderflowSlaStorm"}', "truncatedAlerts": 0,
    "status": "firing", "receiver": "ops-webhook",
    "groupLabels": {"alertname": "BorderflowSlaStorm"},
    "commonLabels": {"alertname": "BorderflowSlaStorm", "severity": "page"},
    "commonAnnotations": {"summary": "SLA breaches are climbing"},
    "externalURL": "http://alertmanager:9093",
    "alerts": [{
        "status": "firing", "labels": {"alertname": "BorderflowSlaStorm", "severity": "page"},
        "annotations": {"summary": "SLA breaches are climbing"},
        "startsAt": "2026-12-04T20:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph", "fingerprint": "6a3f0c9e1b2d4f57",
    }],
}  # fmt: skip


async def test_alertmanager_notifications_are_taken_and_malformed_ones_named(
    http: httpx.AsyncClient, sims: RunningSimulators
) -> None:
    url = f"{sims.url('notify')}/hooks/alerts"
    taken = await http.post(url, json=ALERT)
    assert taken.status_code == 200, taken.text
    messages = (await http.get(f"{sims.url('notify')}/_sim/messages")).json()
    (stored,) = [m for m in messages if m["channel"] == "alerts"]
    assert stored["message"]["commonLabels"]["severity"] == "page"
    broken = await http.post(url, json={k: v for k, v in ALERT.items() if k != "groupKey"})
    assert broken.status_code == 400 and "groupKey" in broken.text
    assert (await http.post(url, content=b"{")).status_code == 400
