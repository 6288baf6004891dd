"""``borderflow shipments …``: list, show, start and act on shipments through the API.

Guarantees (each command; the parsers are in ``cli.shipment_parsers``):
- it talks to the API only (``cli.api_client``); ``--json`` prints the API's JSON as is;
- text output prints every timestamp one way (``cli.render.moment``: ISO 8601 with the API's
  offset, or UTC with ``Z`` under ``--utc``);
- ``timeline`` names every entry: a stage, a partner event (``MILESTONE (partner)``) or the
  entry's ``title`` (bookings, customs, SLA, ops, compensation, invoice…);
- ``start`` sends an ``Idempotency-Key`` (``--idempotency-key`` or a fresh uuid) and prints the
  shipment id, whether the API answered 201 (started) or 200 (it existed);
- ``events record`` posts a manual milestone (``POST /v1/shipments/{id}/events``);
- a refusal, a 404 or an unreachable API is one line on stderr and exit 1 (``cli.ops``).
"""

import argparse
import uuid
from collections.abc import Callable
from typing import Any

from cli.api_client import Api
from cli.render import given, moment, page_text, table
from cli.shipment_parsers import consignee_of
from cli.shipment_status import status_text

__all__ = ["SHIPMENT_COMMANDS", "timeline_text"]

Command = Callable[[Api, argparse.Namespace], tuple[Any, str]]


def shipments_list(api: Api, args: argparse.Namespace) -> tuple[Any, str]:
    breached = None if args.breached is None else str(args.breached == "true").lower()
    params = given(status=args.status, carrier=args.carrier, lane=args.lane,
                   order_ref=args.order_ref, breached=breached, limit=args.limit,
                   cursor=args.cursor)  # fmt: skip
    page = api.call("GET", "/v1/shipments", params=params)
    rows = [(i["shipment_id"], i["order_ref"], i["stage"], i["carrier"], i["lane"],
             "BREACHED" if i["sla_breached"] else "ok", moment(i["started_at"], args.utc))
            for i in page["items"]]  # fmt: skip
    more = page["next_cursor"] and f"--cursor {page['next_cursor']}"
    headers = ["SHIPMENT", "ORDER", "STAGE", "CARRIER", "LANE", "SLA", "STARTED"]
    return page, page_text(headers, rows, empty="no shipments match", more=more)


def shipments_show(api: Api, args: argparse.Namespace) -> tuple[Any, str]:
    status = api.call("GET", f"/v1/shipments/{args.shipment_id}")
    return status, status_text(status, args.utc)


def _what(entry: dict[str, Any]) -> str:
    if entry.get("kind") == "stage" and entry.get("stage"):
        what = str(entry["stage"])
    elif entry.get("milestone"):
        what = f"{entry['milestone']} ({entry.get('partner') or '-'})"
    else:
        what = str(entry.get("title") or entry.get("kind") or "-")
    return what + (" [retracted]" if entry.get("retracted") else "")


def timeline_text(timeline: dict[str, Any], utc: bool = False) -> str:
    rows = [(moment(e["at"], utc), e["kind"], _what(e),
             e.get("reason") or e.get("why") or e.get("detail"))
            for e in timeline["entries"]]  # fmt: skip
    return table(["AT", "KIND", "WHAT", "REASON"], rows)


def shipments_timeline(api: Api, args: argparse.Namespace) -> tuple[Any, str]:
    timeline = api.call("GET", f"/v1/shipments/{args.shipment_id}/timeline")
    return timeline, timeline_text(timeline, args.utc)


def shipments_start(api: Api, args: argparse.Namespace) -> tuple[Any, str]:
    body = {"order_ref": args.order_ref, "packages": args.packages,
            **given(carrier=args.carrier, service_level=args.service_level,
                    promised_date=args.promised_date)}  # fmt: skip
    key = args.idempotency_key or str(uuid.uuid4())
    reply = api.request("POST", "/v1/shipments", body=body, headers={"Idempotency-Key": key})
    return reply.body, str(reply.body["shipment_id"])


def events_record(api: Api, args: argparse.Namespace) -> tuple[Any, str]:
    body = {"milestone": args.milestone, "reason": args.note,
            **given(occurred_at=args.at, classifier=args.classifier)}  # fmt: skip
    key = args.idempotency_key or str(uuid.uuid4())
    status = api.request("POST", f"/v1/shipments/{args.shipment_id}/events", body=body,
                         headers={"Idempotency-Key": key}).body  # fmt: skip
    return status, f"{status['shipment_id']}: {args.milestone} recorded, stage {status['stage']}"


def _action(name: str, body: Callable[[argparse.Namespace], dict[str, Any]]) -> Command:
    def run(api: Api, args: argparse.Namespace) -> tuple[Any, str]:
        status = api.call("POST", f"/v1/shipments/{args.shipment_id}/{name}", body=body(args))
        return status, f"{status['shipment_id']}: {name} accepted, stage {status['stage']}"

    return run


SHIPMENT_COMMANDS: dict[str, Command] = {
    "list": shipments_list,
    "show": shipments_show,
    "timeline": shipments_timeline,
    "start": shipments_start,
    "events record": events_record,
    "cancel": _action("cancel", lambda a: {"reason": a.reason}),
    "amend": _action("amend", lambda a: given(consignee=consignee_of(a),
                                              promised_date=a.promised_date,
                                              service_level=a.service_level, reason=a.reason)),
    "resolve": _action("resolve", lambda a: given(kind=a.kind, note=a.note, carrier=a.carrier)),
    "rebook": _action("rebook", lambda a: given(carrier=a.carrier, reason=a.reason)),
}  # fmt: skip
"""Each subcommand (``events record`` spelled with its space) and what it runs."""
