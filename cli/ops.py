"""``borderflow shipments …`` and ``borderflow inbox …``: the ops API from a terminal.

Every command talks to the API only (``BORDERFLOW_API_URL``, token ``BORDERFLOW_API_TOKEN``,
both also read from the local platform's ``local.env``). Output is a readable table or summary;
``--json`` prints the API's JSON as is, for scripts. Any failure (an HTTP error, the API not
reachable) prints one line, the problem's title and detail, and exits non-zero.
"""

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from canonical.shipment import ServiceLevel, Stage
from cli.settings import cli_settings
from store.inbox import InboxState
from workflows.ops import ResolutionKind

TIMEOUT_S = 60.0


class ApiError(Exception):
    """A failed call, as the one line the user sees."""


class Api:
    def __init__(self) -> None:
        settings = cli_settings()
        token = settings.api_token.get_secret_value() if settings.api_token else ""
        if not token:
            raise ApiError(
                "no API token: start the platform with `make run` first "
                "(or set BORDERFLOW_API_TOKEN; see `borderflow token create`)"
            )
        self._url = settings.api_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}

    def call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:  # fmt: skip
        try:
            response = httpx.request(method, f"{self._url}{path}", params=params, json=body,
                                     headers=self._headers, timeout=TIMEOUT_S)  # fmt: skip
        except httpx.HTTPError as err:
            reason = str(err) or type(err).__name__
            raise ApiError(f"cannot reach the API at {self._url}: {reason}") from None
        if response.status_code >= 400:
            raise ApiError(problem_line(response))
        return response.json()


def problem_line(response: httpx.Response) -> str:
    """``<status> <title>: <detail>`` from a problem+json answer, on one line."""
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    title = problem.get("title") or response.reason_phrase or "error"
    detail = problem.get("detail")
    line = f"{response.status_code} {title}" + (f": {detail}" if detail else "")
    return " ".join(line.split())


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[("-" if value is None else str(value)) for value in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    lines = [headers, *cells]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
                     for line in lines)  # fmt: skip


def page_text(
    headers: Sequence[str], rows: Sequence[Sequence[object]], *, empty: str, more: str | None
) -> str:
    """One page as a table (``empty`` when it has no rows), and how to ask for the next one."""
    text = table(headers, rows) if rows else empty
    return f"{text}\nmore: {more}" if more else text


def _moment(iso: str) -> str:
    """``2026-11-23T10:00:00.123+00:00`` → ``2026-11-23 10:00:00`` (the API answers in UTC)."""
    return iso[:19].replace("T", " ")


def _given(**values: object) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


# -- shipments ------------------------------------------------------------------------------


def shipments_list(api: Api, args: argparse.Namespace) -> tuple[Any, str]:
    breached = None if args.breached is None else str(args.breached == "true").lower()
    params = _given(status=args.status, carrier=args.carrier, lane=args.lane,
                    breached=breached, limit=args.limit, cursor=args.cursor)  # fmt: skip
    page = api.call("GET", "/v1/shipments", params=params)
    rows = [(i["shipment_id"], i["order_ref"], i["stage"], i["carrier"], i["lane"],
             "BREACHED" if i["sla_breached"] else "ok", _moment(i["started_at"]))
            for i in page["items"]]  # fmt: skip
    more = page["next_cursor"] and f"--cursor {page['next_cursor']}"
    headers = ["SHIPMENT", "ORDER", "STAGE", "CARRIER", "LANE", "SLA", "STARTED"]
    return page, page_text(headers, rows, empty="no shipments match", more=more)


def status_text(status: dict[str, Any]) -> str:
    lines = [f"{status['shipment_id']}  order {status['order_ref']}  stage {status['stage']}"]
    facts = _given(carrier=status.get("carrier"), promised=status.get("promised_date"),
                   eta=status.get("eta"), exception=status.get("exception"),
                   rejected=status.get("rejection"))  # fmt: skip
    if status.get("sla_breached"):
        facts["sla"] = "BREACHED"
    lines += [f"  {key:<20} {value}" for key, value in facts.items()]
    lines += [f"  {r['at']}  {r['stage']}" for r in status.get("stages", [])]
    refs = {k: v for k, v in status.get("references", {}).items() if v is not None}
    lines += [f"  {key:<20} {value}" for key, value in refs.items()]
    for event in status.get("events", []):
        lines.append(f"  {event['occurred_at']}  {event['milestone']:<18} "
                     f"{event['source']['partner']}")  # fmt: skip
    for entry in status.get("log", []):
        lines.append(f"  {entry['at']}  {entry['kind']}: {entry['title']}")
    if status.get("ui_url"):
        lines.append(f"  {status['ui_url']}")
    return "\n".join(lines)


def shipments_show(api: Api, args: argparse.Namespace) -> tuple[Any, str]:
    status = api.call("GET", f"/v1/shipments/{args.shipment_id}")
    return status, status_text(status)


def shipments_timeline(api: Api, args: argparse.Namespace) -> tuple[Any, str]:
    timeline = api.call("GET", f"/v1/shipments/{args.shipment_id}/timeline")
    rows = []
    for entry in timeline["entries"]:
        what = entry.get("stage") or f"{entry.get('milestone')} ({entry.get('partner')})"
        if entry.get("retracted"):
            what += " [retracted]"
        rows.append((entry["at"], entry["kind"], what, entry.get("reason")))
    return timeline, table(["AT", "KIND", "WHAT", "REASON"], rows)


def _action(name: str, body: Callable[[argparse.Namespace], dict[str, Any]]) -> Any:
    def run(api: Api, args: argparse.Namespace) -> tuple[Any, str]:
        status = api.call("POST", f"/v1/shipments/{args.shipment_id}/{name}", body=body(args))
        return status, f"{status['shipment_id']}: {name} accepted, stage {status['stage']}"

    return run


ACTIONS = {
    "cancel": _action("cancel", lambda a: {"reason": a.reason}),
    "amend": _action("amend", lambda a: _given(promised_date=a.promised_date,
                                               service_level=a.service_level, reason=a.reason)),
    "resolve": _action("resolve", lambda a: _given(kind=a.kind, note=a.note, carrier=a.carrier)),
    "rebook": _action("rebook", lambda a: _given(carrier=a.carrier, reason=a.reason)),
}  # fmt: skip
SHIPMENT_COMMANDS = {"list": shipments_list, "show": shipments_show,
                     "timeline": shipments_timeline, **ACTIONS}  # fmt: skip


# -- inbox ----------------------------------------------------------------------------------


def inbox_list(api: Api, args: argparse.Namespace) -> tuple[Any, str]:
    params = _given(state=args.state, after=args.after, limit=args.limit)
    page = api.call("GET", "/v1/inbox", params=params)
    rows = [(m["id"], m["partner"], m["state"], m["shipment_id"], m["attempts"],
             _moment(m["received_at"]), m["reason"])
            for m in page["items"]]  # fmt: skip
    more = page["next_after"] and f"--after {page['next_after']}"
    headers = ["ID", "PARTNER", "STATE", "SHIPMENT", "ATTEMPTS", "RECEIVED", "REASON"]
    return page, page_text(headers, rows, empty="no inbox messages match", more=more)


def inbox_replay(api: Api, args: argparse.Namespace) -> tuple[Any, str]:
    result = api.call("POST", f"/v1/inbox/{args.message_id}/replay")
    return result, f"inbox message {result['id']}: {result['state']}"


INBOX_COMMANDS = {"list": inbox_list, "replay": inbox_replay}


def _run(commands: dict[str, Any], name: str, args: argparse.Namespace) -> int:
    try:
        result, text = commands[name](Api(), args)
    except ApiError as err:
        print(f"borderflow: {err}", file=sys.stderr, flush=True)
        return 1
    print(json.dumps(result, indent=2) if args.json else text)
    return 0


def cmd_shipments(args: argparse.Namespace) -> int:
    return _run(SHIPMENT_COMMANDS, args.shipments_command, args)


def cmd_inbox(args: argparse.Namespace) -> int:
    return _run(INBOX_COMMANDS, args.inbox_command, args)


def cmd_timeline(args: argparse.Namespace) -> int:
    """``borderflow timeline <id>``: short for ``borderflow shipments timeline <id>``."""
    return _run(SHIPMENT_COMMANDS, "timeline", args)


def add_ops_parsers(commands: Any) -> None:
    """The ``shipments`` and ``inbox`` command groups."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the API's JSON")
    shipments = commands.add_parser("shipments", help="list, show and act on shipments")
    sub = shipments.add_subparsers(dest="shipments_command", required=True)
    listing = sub.add_parser("list", parents=[common], help="list shipments")
    listing.add_argument("--status", choices=[s.value for s in Stage])
    listing.add_argument("--carrier")
    listing.add_argument("--lane", help="origin-destination countries, e.g. DE-US")
    listing.add_argument("--breached", choices=["true", "false"])
    listing.add_argument("--limit", type=int, help="page size (default 50, at most 200)")
    listing.add_argument("--cursor", help="the cursor printed after the previous page")
    for name, text in (("show", "a shipment's status"), ("timeline", "stages and events")):
        sub.add_parser(name, parents=[common], help=text).add_argument("shipment_id")
    cancel = sub.add_parser("cancel", parents=[common], help="cancel a shipment")
    cancel.add_argument("shipment_id")
    cancel.add_argument("--reason", required=True)
    amend = sub.add_parser("amend", parents=[common], help="change a shipment")
    amend.add_argument("shipment_id")
    amend.add_argument("--promised-date", help="ISO 8601 with offset")
    amend.add_argument("--service-level", choices=[s.value for s in ServiceLevel])
    amend.add_argument("--reason", required=True)
    resolve = sub.add_parser("resolve", parents=[common], help="resolve an exception or hold")
    resolve.add_argument("shipment_id")
    resolve.add_argument("--kind", required=True, choices=[k.value for k in ResolutionKind])
    resolve.add_argument("--note", required=True)
    resolve.add_argument("--carrier")
    rebook = sub.add_parser("rebook", parents=[common], help="book another carrier")
    rebook.add_argument("shipment_id")
    rebook.add_argument("--carrier")
    rebook.add_argument("--reason", required=True)

    commands.add_parser(
        "timeline", parents=[common], help="a shipment's stages and events in time order"
    ).add_argument("shipment_id")

    inbox = commands.add_parser("inbox", help="the webhook inbox (admin)")
    inbox_sub = inbox.add_subparsers(dest="inbox_command", required=True)
    messages = inbox_sub.add_parser("list", parents=[common], help="stored partner payloads")
    messages.add_argument("--state", choices=[s.value for s in InboxState])
    messages.add_argument("--after", type=int, help="the id printed after the previous page")
    messages.add_argument("--limit", type=int, help="page size (default 50, at most 200)")
    inbox_sub.add_parser("replay", parents=[common], help="deliver a payload again").add_argument(
        "message_id", type=int
    )
