"""``borderflow partners list [--json]``: the partner registry, as this installation sees it.

One row per partner of :func:`canonical.partners.partners` (the built-in ones, then the
installed plugins'), in the registry's order: its name, kind, task queue and calls per second,
webhook route, webhook auth scheme and local simulator URL. ``-`` in the table (``null`` in the
JSON) where a partner has none.

Guarantees: it reads only the registry (no Temporal, no store, no network); ``--json`` prints
one JSON list of objects with the keys of :data:`COLUMNS` plus ``calls_per_s``; output cut
short by its reader (``| head``) ends the command quietly, without a traceback (as for every
command: :func:`cli.main.main` holds that).
"""

import argparse
import json
from typing import Any

from canonical.partner_descriptor import Partner
from canonical.partners import partners
from cli.settings import UpSettings

SIM_HOST = "127.0.0.1"
"""The simulators' host in the URLs (``borderflow up`` serves them on loopback)."""
COLUMNS = ("name", "kind", "queue", "webhook_route", "auth_scheme", "simulator_url")
"""The table's columns, in order."""


def describe(partner: Partner, ports: dict[str, int] | None = None) -> dict[str, Any]:
    """One partner as the JSON output shows it (``None`` where it has none); ``ports``: the
    simulators' ports ``borderflow up`` uses (default: the registry's)."""
    port = (ports or {}).get(partner.name, partner.simulator.port if partner.simulator else 0)
    return {
        "name": partner.name,
        "kind": str(partner.kind),
        "queue": partner.queue.name if partner.queue else None,
        "calls_per_s": partner.queue.calls_per_s if partner.queue else None,
        "webhook_route": partner.webhook_route,
        "auth_scheme": str(partner.webhook.scheme) if partner.webhook else None,
        "simulator_url": f"http://{SIM_HOST}:{port}" if partner.simulator else None,
    }


def table(rows: list[dict[str, Any]]) -> str:
    """The rows as an aligned table with a header line."""
    cells = [[column.upper() for column in COLUMNS]]
    cells += [["-" if row[c] is None else str(row[c]) for c in COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in cells
    )


def cmd_partners(args: argparse.Namespace) -> int:
    """``partners list``: print the registry."""
    ports = UpSettings().sim_ports  # BORDERFLOW_SIM_PORTS, as `borderflow up` reads it
    rows = [describe(partner, ports) for partner in partners()]
    print(json.dumps(rows, indent=2) if args.json else table(rows))
    return 0


def add_parser(commands: Any) -> None:
    """The ``partners`` subcommand and its own subcommands."""
    group = commands.add_parser("partners", help="the partner registry (built-in and plugins)")
    sub = group.add_subparsers(dest="partners_command", required=True)
    listing = sub.add_parser("list", help="list every partner: queue, webhook, simulator")
    listing.add_argument("--json", action="store_true", help="print a JSON list")


__all__ = ["COLUMNS", "SIM_HOST", "add_parser", "cmd_partners", "describe", "table"]
