"""``borderflow shipments …`` and ``borderflow inbox …``: the ops API from a terminal.

Every command talks to the API only (``BORDERFLOW_API_URL``, token ``BORDERFLOW_API_TOKEN``,
both also read from the local platform's ``local.env``; ``cli.api_client``). Output is a
readable table or summary, every timestamp in one format (ISO 8601 with the API's offset, or
UTC with ``--utc``; ``cli.render``); ``--json`` on every subcommand prints the API's JSON as is,
for scripts. Exit codes: 0 on success; 1 for any failure (an HTTP error, 404 included, or the
API not reachable), after one line on stderr, the problem's title and detail; 2 for a usage
error (argparse). The shipments commands are in ``cli.shipments``, their options in
``cli.shipment_parsers``; :func:`add_ops_parsers` is the one entry ``cli.main`` calls.
"""

import argparse
import json
import sys
from typing import Any

from cli.api_client import Api, ApiError
from cli.render import given, moment, page_text
from cli.shipment_parsers import add_shipment_parsers, output_options
from cli.shipments import SHIPMENT_COMMANDS
from store.inbox import InboxState

__all__ = ["add_ops_parsers", "cmd_inbox", "cmd_shipments", "cmd_timeline"]


def inbox_list(api: Api, args: argparse.Namespace) -> tuple[Any, str]:
    params = given(state=args.state, after=args.after, limit=args.limit)
    page = api.call("GET", "/v1/inbox", params=params)
    rows = [(m["id"], m["partner"], m["state"], m["shipment_id"], m["attempts"],
             moment(m["received_at"], args.utc), m["reason"])
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
    print(json.dumps(result, indent=2) if args.json else text, flush=True)
    return 0


def cmd_shipments(args: argparse.Namespace) -> int:
    name = args.shipments_command
    if name == "events":
        name = f"events {args.events_command}"
    return _run(SHIPMENT_COMMANDS, name, args)


def cmd_inbox(args: argparse.Namespace) -> int:
    return _run(INBOX_COMMANDS, args.inbox_command, args)


def cmd_timeline(args: argparse.Namespace) -> int:
    """``borderflow timeline <id>``: short for ``borderflow shipments timeline <id>``."""
    return _run(SHIPMENT_COMMANDS, "timeline", args)


def add_ops_parsers(commands: Any) -> None:
    """The ``shipments``, ``timeline`` and ``inbox`` command groups."""
    common = output_options()
    add_shipment_parsers(commands, common)
    inbox = commands.add_parser("inbox", help="the webhook inbox (admin)")
    inbox_sub = inbox.add_subparsers(dest="inbox_command", required=True)
    messages = inbox_sub.add_parser("list", parents=[common], help="stored partner payloads")
    messages.add_argument("--state", type=str.lower, choices=[s.value for s in InboxState])
    messages.add_argument("--after", type=int, help="the id printed after the previous page")
    messages.add_argument("--limit", type=int, help="page size (default 50, at most 200)")
    inbox_sub.add_parser("replay", parents=[common], help="deliver a payload again").add_argument(
        "message_id", type=int
    )
