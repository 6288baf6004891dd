"""``borderflow audit <shipment>``: a shipment's audit trail, read from the API.

Pages through ``GET /v1/audit?shipment=…`` to the end. One line per entry, oldest first:
partner calls with their partner, operation, attempt, outcome, latency and idempotency key;
ops actions with their action and who did it (token id and role).

A shipment without entries is looked up (``GET /v1/shipments/{id}``): one the API does not know
raises :class:`UnknownShipment`, so ``borderflow audit shipment-NOPE`` fails (exit 1) as
``status`` and ``shipments show`` do; a known shipment with no entries yet is an empty trail.
"""

from typing import Any

import httpx

PAGE = 200


class AuditUnavailable(Exception):
    """The API did not give the audit trail; the message says why in one line."""


class UnknownShipment(AuditUnavailable):
    """No such shipment (the API answered 404 for it); the message is the API's detail."""


def _problem(response: httpx.Response) -> str:
    """The problem+json detail (or title) of a refusal; ``HTTP <code>`` when it has none."""
    try:
        body = response.json() if response.content else {}
    except ValueError:  # not JSON (a proxy's page)
        body = {}
    detail = body.get("detail") or body.get("title") if isinstance(body, dict) else None
    return str(detail or f"HTTP {response.status_code}")


def fetch_audit(
    api_url: str, headers: dict[str, str], shipment_id: str, *, timeout_s: float = 15.0
) -> list[dict[str, Any]]:
    """Every audit entry of ``shipment_id``, oldest first."""
    entries: list[dict[str, Any]] = []
    after: int | None = 0
    with httpx.Client(base_url=api_url, headers=headers, timeout=timeout_s) as http:
        while after is not None:
            params = {"shipment": shipment_id, "after": str(after), "limit": str(PAGE)}
            try:
                response = http.get("/v1/audit", params=params)
            except httpx.HTTPError as err:
                raise AuditUnavailable(f"cannot reach the API at {api_url}: {err}") from None
            if response.status_code != 200:
                raise AuditUnavailable(_problem(response))
            body = response.json()
            entries.extend(body["items"])
            after = body["next_after"]
        if not entries:
            _check_known(http, api_url, shipment_id)
    return entries


def _check_known(http: httpx.Client, api_url: str, shipment_id: str) -> None:
    """Raise :class:`UnknownShipment` when the API does not know ``shipment_id``; any other
    answer (even Temporal unavailable) leaves the empty trail as it is."""
    try:
        response = http.get(f"/v1/shipments/{shipment_id}")
    except httpx.HTTPError as err:
        raise AuditUnavailable(f"cannot reach the API at {api_url}: {err}") from None
    if response.status_code == 404:
        raise UnknownShipment(_problem(response))


def format_entry(entry: dict[str, Any]) -> str:
    """One line: time, kind, then what the kind says."""
    if entry["kind"] == "partner_call":
        what = (
            f"{entry['partner']:<8} {entry['operation']:<24} attempt {entry['attempt']}  "
            f"{entry['outcome']:<18} {entry['latency_ms']:>6} ms  key {entry['idempotency_key']}"
        )
    else:
        who = f"token {entry['token_id']} ({entry['role']})" if entry["token_id"] else "system"
        what = f"{entry['operation']:<33} {entry['outcome']:<18} by {who}"
    trace = f"  trace {entry['trace_id']}" if entry.get("trace_id") else ""
    return f"{entry['at']}  {entry['kind']:<12} {what}{trace}"


__all__ = ["PAGE", "AuditUnavailable", "UnknownShipment", "fetch_audit", "format_entry"]
