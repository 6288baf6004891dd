"""``borderflow audit <shipment>``: a shipment's audit trail, read from the API.

Pages through ``GET /v1/audit?shipment=…`` to the end. One line per entry, oldest first:
partner calls with their partner, operation, attempt, outcome, latency and idempotency key;
ops actions with their action and who did it (token id and role).
"""

from typing import Any

import httpx

PAGE = 200


class AuditUnavailable(Exception):
    """The API did not give the audit trail; the message says why in one line."""


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
            body = response.json() if response.content else {}
            if response.status_code != 200:
                detail = body.get("detail") or body.get("title") or f"HTTP {response.status_code}"
                raise AuditUnavailable(str(detail))
            entries.extend(body["items"])
            after = body["next_after"]
    return entries


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
