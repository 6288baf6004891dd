"""``borderflow reconcile report|run``: reconciliation reports, and a run on demand (via the API).

``report`` prints the latest reports (``--json``: as the API returns them). ``run`` triggers the
schedule and, unless ``--no-wait``, waits for the new run's finished report and prints it.
"""

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import httpx

REPORTS = "/v1/reconciliation"
POLL_S = 1.0


def format_report(report: dict[str, Any]) -> list[str]:
    """A report as a few readable lines."""
    finished = report.get("finished_at")
    lines = [
        f"{report['run_id']}  started {report['started_at']}  "
        + (f"finished {finished}" if finished else "running"),
        f"  checked {report['shipments_checked']}  stale {report['stale']}  events found "
        f"{report['events_found']}  drifted {report['drifted']} (repaired {report['repaired']})"
        f"  problems {report['problems']}" + ("  (truncated)" if report.get("truncated") else ""),
    ]
    for finding in report.get("findings", []):
        notes = [finding.get("stage") or "?"]
        if finding.get("stale"):
            notes.append("stale")
        if finding.get("events_found"):
            notes.append(
                f"+{finding['events_found']} event(s): " + ", ".join(finding["milestones"])
            )
        lines.append(f"  {finding['shipment_id']}  " + "  ".join(notes))
        for drift in finding.get("drifts", []):
            state = "repaired" if drift["repaired"] else "report only"
            lines.append(f"    drift {drift['code']} ({state}): {drift['detail']}")
        lines.extend(f"    problem: {problem}" for problem in finding.get("problems", []))
    return lines


class ApiError(Exception):
    """The API refused or could not be reached; the message is one line."""


def _get(api_url: str, headers: dict[str, str], limit: int) -> list[dict[str, Any]]:
    response = _call("GET", f"{api_url}{REPORTS}", headers, params={"limit": str(limit)})
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _call(method: str, url: str, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
    try:
        response = httpx.request(method, url, headers=headers, timeout=15, **kwargs)
    except httpx.HTTPError as err:
        raise ApiError(f"cannot reach the API at {url}: {err}") from None
    if response.status_code >= 400:
        body = response.json() if response.content else {}
        raise ApiError(body.get("detail") or body.get("title") or f"HTTP {response.status_code}")
    return response


def report(
    args: argparse.Namespace, api_url: str, headers: dict[str, str], say: Callable[[str], None]
) -> int:
    items = _get(api_url, headers, args.limit)
    if args.json:
        say(json.dumps(items, indent=2))
        return 0
    if not items:
        say("no reconciliation report yet")
    for item in items:
        for line in format_report(item):
            say(line)
    return 0


def run(
    args: argparse.Namespace, api_url: str, headers: dict[str, str], say: Callable[[str], None]
) -> int:
    known = {item["run_id"] for item in _get(api_url, headers, 20)}
    _call("POST", f"{api_url}{REPORTS}/run", headers)
    if args.no_wait:
        say("reconciliation triggered")
        return 0
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        fresh = [i for i in _get(api_url, headers, 5) if i["run_id"] not in known]
        done = [i for i in fresh if i.get("finished_at")]
        if done:
            say(json.dumps(done[0], indent=2) if args.json else "\n".join(format_report(done[0])))
            return 0
        time.sleep(POLL_S)
    raise ApiError(f"no finished reconciliation report after {args.timeout:g} s")


def add_parser(commands: Any) -> None:
    """The ``reconcile`` subcommand and its own subcommands."""
    reconcile = commands.add_parser("reconcile", help="reconciliation reports and runs")
    sub = reconcile.add_subparsers(dest="reconcile_command", required=True)
    shown = sub.add_parser("report", help="show the latest reconciliation reports")
    shown.add_argument("--json", action="store_true", help="print the raw JSON")
    shown.add_argument("--limit", type=int, default=1, help="how many reports (default 1)")
    now = sub.add_parser("run", help="run a reconciliation now and show its report")
    now.add_argument("--no-wait", action="store_true", help="only trigger it")
    now.add_argument("--timeout", type=float, default=120.0, help="seconds to wait (default 120)")
    now.add_argument("--json", action="store_true", help="print the raw JSON")
