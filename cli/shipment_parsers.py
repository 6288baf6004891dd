"""The ``borderflow shipments …`` command line: subcommands, options and their value types.

Guarantees: a malformed value (a ``--package`` spec, a ``--consignee`` that is not a JSON
object, a code outside its choices) is a usage error, exit 2, from argparse; codes are taken
in any case and sent as the API spells them (``--lane de-us`` → ``DE-US``, ``--milestone
picked_up`` → ``PICKED_UP``; stages, service levels, resolution kinds and carriers lower
case); every subcommand takes ``--json`` (the API's JSON) and ``--utc`` (timestamps in UTC).
"""

import argparse
import json
from pathlib import Path
from typing import Any

from canonical.events import EventClassifier
from canonical.milestones import Milestone
from canonical.shipment import ServiceLevel, Stage
from workflows.ops import ResolutionKind

__all__ = ["PACKAGE_FIELDS", "add_shipment_parsers", "consignee_of", "output_options", "package"]

PACKAGE_FIELDS = ("weight_kg", "length_cm", "width_cm", "height_cm")
CONSIGNEE_FLAGS = {"name": "name", "email": "email", "phone": "phone"}
ADDRESS_FLAGS = {"line": "lines", "city": "city", "postal_code": "postal_code",
                 "country": "country"}  # fmt: skip


def output_options() -> argparse.ArgumentParser:
    """``--json`` and ``--utc``, shared by every ops subcommand."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print the API's JSON")
    common.add_argument("--utc", action="store_true",
                        help="print timestamps in UTC (Z) instead of the API's offset")  # fmt: skip
    return common


def package(spec: str) -> dict[str, str]:
    """``weight_kg=1.2,length_cm=30,width_cm=20,height_cm=10`` → the API's package object."""
    values: dict[str, str] = {}
    for part in spec.split(","):
        key, sep, value = part.partition("=")
        key = key.strip().lower()
        if not sep or key not in PACKAGE_FIELDS or not value.strip() or key in values:
            raise argparse.ArgumentTypeError(
                f"{spec!r}: give each of {', '.join(PACKAGE_FIELDS)} once, as key=value"
            )
        values[key] = value.strip()
    missing = [name for name in PACKAGE_FIELDS if name not in values]
    if missing:
        raise argparse.ArgumentTypeError(f"{spec!r}: missing {', '.join(missing)}")
    return values


def party_json(text: str) -> dict[str, Any]:
    """A Party as a JSON object, inline or ``@file.json``."""
    try:
        raw = Path(text[1:]).read_text() if text.startswith("@") else text
        value = json.loads(raw)
    except (OSError, ValueError) as err:
        raise argparse.ArgumentTypeError(f"not a JSON object: {err}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("not a JSON object")
    return value


def consignee_of(args: argparse.Namespace) -> dict[str, Any] | None:
    """``--consignee`` merged with the ``--consignee-*`` flags (the flags win), or None."""
    party = dict(args.consignee or {})
    address = dict(party.get("address") or {})
    for flag, field in CONSIGNEE_FLAGS.items():
        if getattr(args, f"consignee_{flag}") is not None:
            party[field] = getattr(args, f"consignee_{flag}")
    for flag, field in ADDRESS_FLAGS.items():
        if getattr(args, f"consignee_{flag}") is not None:
            address[field] = getattr(args, f"consignee_{flag}")
    if address:
        party["address"] = address
    return party or None


def _add_list(sub: Any, common: argparse.ArgumentParser) -> None:
    listing = sub.add_parser("list", parents=[common], help="list shipments")
    listing.add_argument("--status", type=str.lower, choices=[s.value for s in Stage])
    listing.add_argument("--carrier", type=str.lower)
    listing.add_argument("--lane", type=str.upper, help="origin-destination countries, e.g. DE-US")
    listing.add_argument("--order-ref", help="the Odoo sale order name, e.g. S00042")
    listing.add_argument("--breached", type=str.lower, choices=["true", "false"])
    listing.add_argument("--limit", type=int, help="page size (default 50, at most 200)")
    listing.add_argument("--cursor", help="the cursor printed after the previous page")


def _add_start(sub: Any, common: argparse.ArgumentParser) -> None:
    start = sub.add_parser(
        "start", parents=[common], help="start the shipment of an existing sale order",
        description="POST /v1/shipments; prints the shipment id (also when it existed).",
    )  # fmt: skip
    start.add_argument("--order-ref", required=True, help="the Odoo sale order name, e.g. S00042")
    start.add_argument("--package", dest="packages", action="append", required=True, type=package,
                       metavar="weight_kg=KG,length_cm=CM,width_cm=CM,height_cm=CM",
                       help="one handling unit, in kg and cm; repeat for each")  # fmt: skip
    start.add_argument("--carrier", type=str.lower, help="preferred carrier (default easypost)")
    start.add_argument("--service-level", type=str.lower, choices=[s.value for s in ServiceLevel])
    start.add_argument("--promised-date", help="ISO 8601 with offset")
    start.add_argument("--idempotency-key", help="default: a fresh uuid")


def _add_events(sub: Any, common: argparse.ArgumentParser) -> None:
    events = sub.add_parser("events", help="record partner milestones by hand")
    events_sub = events.add_subparsers(dest="events_command", required=True)
    record = events_sub.add_parser("record", parents=[common], help="record a milestone")
    record.add_argument("shipment_id")
    record.add_argument("--milestone", required=True, type=str.upper,
                        choices=[m.value for m in Milestone])  # fmt: skip
    record.add_argument("--at", help="when it happened, ISO 8601 with offset (default now)")
    record.add_argument("--classifier", type=str.upper, choices=[c.value for c in EventClassifier])
    record.add_argument("--note", default="recorded by hand (borderflow shipments events record)",
                        help="why it is recorded by hand")  # fmt: skip
    record.add_argument("--idempotency-key", help="default: a fresh uuid")


def _add_amend(sub: Any, common: argparse.ArgumentParser) -> None:
    amend = sub.add_parser(
        "amend", parents=[common], help="change a shipment",
        description="Change the consignee (before booking), promised date or service level. "
        "The consignee is a Party JSON object (--consignee '{...}' or @file.json) and/or "
        "--consignee-* flags, which override its fields.",
    )  # fmt: skip
    amend.add_argument("shipment_id")
    amend.add_argument("--promised-date", help="ISO 8601 with offset")
    amend.add_argument("--service-level", type=str.lower, choices=[s.value for s in ServiceLevel])
    amend.add_argument("--consignee", type=party_json, metavar="JSON|@FILE",
                       help='e.g. {"name": "Acme", "address": {"lines": ["1 Main St"], '
                       '"city": "Boston", "country": "US"}}')  # fmt: skip
    amend.add_argument("--consignee-name")
    amend.add_argument("--consignee-line", action="append", help="address line; repeat")
    amend.add_argument("--consignee-city")
    amend.add_argument("--consignee-postal-code")
    amend.add_argument("--consignee-country", type=str.upper, help="ISO 3166 alpha-2, e.g. US")
    amend.add_argument("--consignee-email")
    amend.add_argument("--consignee-phone")
    amend.add_argument("--reason", required=True)


def _add_actions(sub: Any, common: argparse.ArgumentParser) -> None:
    cancel = sub.add_parser("cancel", parents=[common], help="cancel a shipment")
    cancel.add_argument("shipment_id")
    cancel.add_argument("--reason", required=True)
    resolve = sub.add_parser("resolve", parents=[common], help="resolve an exception or hold")
    resolve.add_argument("shipment_id")
    resolve.add_argument("--kind", required=True, type=str.lower,
                         choices=[k.value for k in ResolutionKind])  # fmt: skip
    resolve.add_argument("--note", required=True)
    resolve.add_argument("--carrier", type=str.lower)
    rebook = sub.add_parser("rebook", parents=[common], help="book another carrier")
    rebook.add_argument("shipment_id")
    rebook.add_argument("--carrier", type=str.lower)
    rebook.add_argument("--reason", required=True)


def add_shipment_parsers(commands: Any, common: argparse.ArgumentParser) -> None:
    """The ``shipments`` command group and the short ``timeline`` command."""
    shipments = commands.add_parser("shipments", help="list, show, start and act on shipments")
    sub = shipments.add_subparsers(dest="shipments_command", required=True)
    _add_list(sub, common)
    for name, text in (("show", "a shipment's status, in sections"),
                       ("timeline", "stages, events and what the workflow did")):  # fmt: skip
        sub.add_parser(name, parents=[common], help=text).add_argument("shipment_id")
    _add_start(sub, common)
    _add_events(sub, common)
    _add_amend(sub, common)
    _add_actions(sub, common)
    commands.add_parser(
        "timeline", parents=[common], help="a shipment's stages and events in time order"
    ).add_argument("shipment_id")
