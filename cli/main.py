"""The ``borderflow`` command: run the platform locally and act on shipments.

Process-wide guarantees, for every command (held once, in :func:`main`):

- an error ends with one line on stderr, ``borderflow[ <command>]: <why>``, and a non-zero exit
  code: 1 when the command failed (not found, refused, unreachable), 2 for a usage error
  (argparse's one usage line and message) or an invalid setting;
- an unexpected exception inside a command is one line too (its type and message) and exits 1;
  with ``BORDERFLOW_DEBUG=1`` its traceback is printed instead;
- Ctrl-C (KeyboardInterrupt) exits 130, without a traceback;
- output cut short by its reader (``borderflow … | head -1``) ends the command quietly: what is
  left unwritten is discarded, nothing is printed on stderr, and the exit code is the command's
  (0 when the command itself was cut short).
"""

import argparse
import asyncio
import json
import os
import select
import sys
import traceback
from pathlib import Path
from typing import Any

import httpx
from opentelemetry import propagate
from pydantic import ValidationError
from pydantic_settings import SettingsError

from activities.odoo import OdooClient
from cli import partners, reconcile
from cli.demo import failure_reason, run_demo
from cli.ops import add_ops_parsers, cmd_inbox, cmd_shipments, cmd_timeline
from cli.settings import CliSettings, UpSettings, cli_settings
from observability.tracing import setup_tracing, tracer
from workers.lifetime import exit_process

DESCRIPTION = "The borderflow command: run the platform locally and act on shipments."
"""What ``borderflow --help`` says first (the module's guarantees are for its readers)."""


def say(line: str) -> None:
    print(line, flush=True)


def fail(message: str, code: int = 1, command: str = "") -> int:
    print(f"borderflow{' ' + command if command else ''}: {message}", file=sys.stderr, flush=True)
    return code


def cmd_up(_args: argparse.Namespace) -> int:
    from cli.up import StartupError, up

    try:
        return asyncio.run(up(UpSettings(), say))
    except StartupError as err:
        return fail(str(err))


def cmd_demo(args: argparse.Namespace) -> int:
    settings = cli_settings()
    password = settings.odoo_password
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    if not token:
        return fail(
            "no API token: start the platform with `make run` first "
            "(or set BORDERFLOW_API_TOKEN; see `borderflow token create`)",
            2,
        )
    if password is None:
        return fail(
            "no Odoo password: start the platform with `make run` first "
            "(or set BORDERFLOW_ODOO_PASSWORD)",
            2,
        )

    async def go() -> bool:
        odoo = OdooClient(settings.odoo_url, settings.odoo_db, settings.odoo_login, password)
        try:
            return await run_demo(
                token=token,
                api_url=settings.api_url,
                odoo=odoo,
                count=args.count,
                timeout_s=args.timeout,
                say=say,
            )
        finally:
            await odoo.aclose()

    try:
        ok = asyncio.run(go())
    except (httpx.HTTPError, RuntimeError) as err:
        return fail(f"demo failed: {failure_reason(err)}")
    return 0 if ok else fail("demo failed: not every shipment was invoiced")


def auth_headers(settings: CliSettings) -> dict[str, str]:
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    propagate.inject(headers)  # the API's request span continues this command's trace
    return headers


def cmd_token_create(args: argparse.Namespace) -> int:
    """Create an API token in the store and print it, once."""
    from store.migrate import open_store
    from store.tokens import Role, create_token

    settings = cli_settings()
    engine = open_store(settings.database_url)
    try:
        row, token = create_token(engine, Role(args.role), args.name)
    finally:
        engine.dispose()
    print(token)
    print(f"token {row.id} ({row.role}) created; it is shown only now", file=sys.stderr)
    return 0


def cmd_token_list(_args: argparse.Namespace) -> int:
    """List tokens: id, role, name, created, revoked (never a secret)."""
    from store.migrate import open_store
    from store.tokens import list_tokens

    engine = open_store(cli_settings().database_url)
    try:
        rows = list_tokens(engine)
    finally:
        engine.dispose()
    for row in rows:
        state = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}" if row.revoked_at else "live"
        print(f"{row.id}  {row.role:<8} {row.created_at:%Y-%m-%d %H:%M}  {state:<24} {row.name}")
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    """Revoke a token by id: every later request with it is refused."""
    from store.migrate import open_store
    from store.tokens import revoke_token

    engine = open_store(cli_settings().database_url)
    try:
        revoked = revoke_token(engine, args.token_id)
    finally:
        engine.dispose()
    if not revoked:
        return fail(f"no live token {args.token_id}")
    print(f"token {args.token_id} revoked")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from store.migrate import StoreNotReady

    actions = {"create": cmd_token_create, "list": cmd_token_list, "revoke": cmd_token_revoke}
    try:
        return actions[args.token_command](args)
    except StoreNotReady as err:
        return fail(str(err), 2, command=f"token {args.token_command}")


def cmd_db(args: argparse.Namespace) -> int:
    """``db upgrade``: migrate the store to this release's schema; ``db current``: its revision."""
    from store.migrate import StoreNotReady, schema_state_at, upgrade

    url = cli_settings().database_url
    try:
        if args.db_command == "upgrade":
            for line in upgrade(url):
                print(line)
            return 0
        state = schema_state_at(url)
    except StoreNotReady as err:
        return fail(str(err), 2, command=f"db {args.db_command}")
    if state.at_head:
        note = "head"
    elif state.known:
        note = f"this release needs {state.head}: run `borderflow db upgrade`"
    else:
        note = f"unknown to this release, which needs {state.head}"
    print(f"{state.current or 'none'} ({note})")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    settings = cli_settings()
    try:
        response = httpx.get(
            f"{settings.api_url}/v1/shipments/{args.shipment_id}", timeout=15,
            headers=auth_headers(settings),
        )  # fmt: skip
    except httpx.HTTPError as err:
        return fail(f"cannot reach the API at {settings.api_url}: {err}")
    body: dict[str, Any] = response.json() if response.content else {}
    if response.status_code != 200:
        return fail(body.get("detail") or body.get("title") or f"HTTP {response.status_code}")
    if args.json:
        print(json.dumps(body, indent=2))
        return 0
    refs = {key: value for key, value in body["references"].items() if value is not None}
    print(f"{body['shipment_id']}  order {body['order_ref']}  stage {body['stage']}")
    for reached in body["stages"]:
        print(f"  {reached['at']}  {reached['stage']}")
    for key, value in refs.items():
        print(f"  {key:<20} {value}")
    for event in body["events"]:
        kind = "" if event["classifier"] == "ACTUAL" else f" ({event['classifier'].lower()})"
        print(
            f"  {event['occurred_at']}  {event['milestone']:<18} {event['source']['partner']}{kind}"
        )
    if body.get("rejection"):
        print(f"  rejected: {body['rejection']}")
    print(f"  {body['ui_url']}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """Print a shipment's audit trail (partner calls and ops actions), oldest first."""
    from cli.audit import AuditUnavailable, fetch_audit, format_entry

    settings = cli_settings()
    try:
        entries = fetch_audit(settings.api_url, auth_headers(settings), args.shipment_id)
    except AuditUnavailable as err:
        return fail(str(err))
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    if not entries:
        print(f"no audit entries for {args.shipment_id}")
    for entry in entries:
        print(format_entry(entry))
    return 0


def cmd_normalize(args: argparse.Namespace) -> int:
    """Print the canonical events of one partner payload as JSON lines."""
    from datetime import UTC, datetime

    from canonical.dialects import PARTNERS, MalformedPayload, UnknownPartner, normalize

    try:
        body = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as err:
        return fail(f"cannot read {args.file}: {err.strerror}", 2)
    try:
        normalized = normalize(args.partner, body, received_at=datetime.now(UTC))
    except UnknownPartner:
        return fail(f"unknown partner {args.partner!r} (one of: {', '.join(PARTNERS)})", 2)
    except MalformedPayload as err:
        return fail(f"cannot normalize {args.file}: {err}", 2)
    for event in normalized.events:
        print(event.model_dump_json())
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Write (or with --check, verify) the JSON Schema files of the canonical model."""
    from canonical.schema import stale_files, write_schemas

    directory = Path(args.out)
    if args.check:
        stale = stale_files(directory)
        return fail(f"stale schema files in {directory}: {', '.join(stale)}") if stale else 0
    changed = write_schemas(directory)
    print(f"{len(changed)} schema file(s) written to {directory}" if changed else "up to date")
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    """Write (or with --check, verify) the API's OpenAPI document."""
    from api.openapi import is_stale, write_document

    path = Path(args.out)
    if args.check:
        return fail(f"{path} is stale: run `borderflow openapi`") if is_stale(path) else 0
    print(f"{path} written" if write_document(path) else "up to date")
    return 0


def cmd_reconcile(args: argparse.Namespace) -> int:
    """``reconcile report`` / ``reconcile run``, through the API."""
    settings = cli_settings()
    action = reconcile.report if args.reconcile_command == "report" else reconcile.run
    try:
        return action(args, settings.api_url, auth_headers(settings), say)
    except reconcile.ApiError as err:
        return fail(str(err))


def cmd_codec_server(_args: argparse.Namespace) -> int:
    """Serve /encode and /decode for the Temporal Web UI and CLI until SIGINT/SIGTERM."""
    from workers.codec_server import main as codec_server

    return codec_server()


def cmd_temporal_setup(args: argparse.Namespace) -> int:
    """Register the workflows' search attributes on a self-hosted namespace (idempotent)."""
    from temporalio.service import RPCError, RPCStatusCode

    from workflows.client import connect, register_search_attributes

    settings = cli_settings()
    namespace = settings.temporal_namespace

    async def go() -> None:
        # A freshly started server answers before its namespaces do: wait a little for them.
        attempts = max(1, int(args.wait / 0.5))
        for attempt in range(attempts):
            try:
                client = await connect(settings.temporal_address, namespace)
                await register_search_attributes(client)
                return
            except RPCError as err:
                waiting = err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.NOT_FOUND)
                if not waiting or attempt == attempts - 1:
                    raise
            except RuntimeError:  # cannot connect yet
                if attempt == attempts - 1:
                    raise
            await asyncio.sleep(0.5)

    try:
        asyncio.run(go())
    except (RPCError, RuntimeError) as err:
        return fail(f"cannot set up namespace {namespace} at {settings.temporal_address}: {err}")
    print(f"search attributes registered on namespace {namespace}")
    return 0


def cmd_encryption_key(_args: argparse.Namespace) -> int:
    """Print a new random AES-256 key (base64), for BORDERFLOW_ENCRYPTION_KEYS."""
    from workers.codec import generate_key

    print(generate_key())
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="borderflow", description=DESCRIPTION)
    commands = root.add_subparsers(dest="command", required=True, metavar="command")
    commands.add_parser("up", help="run the whole platform locally (what `make run` runs)")
    demo = commands.add_parser("demo", help="ship demo orders through a running platform")
    demo.add_argument("--count", type=int, default=1, help="how many shipments (default 1)")
    demo.add_argument("--timeout", type=float, default=120.0, help="seconds to wait (default 120)")
    status = commands.add_parser("status", help="show a shipment")
    status.add_argument("shipment_id", help="e.g. shipment-S00001")
    status.add_argument("--json", action="store_true", help="print the raw JSON")
    normalize = commands.add_parser(
        "normalize", help="print the canonical events of a partner payload (JSON lines)"
    )
    normalize.add_argument("--partner", required=True, help="easypost, dhl, dcsa, …")
    normalize.add_argument("file", help="the payload file, or - for standard input")
    token = commands.add_parser("token", help="API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token and print it once")
    create.add_argument(
        "--role", required=True, choices=["ops", "support", "finance", "admin", "codec"]
    )
    create.add_argument("--name", default="created with borderflow token create")
    token_commands.add_parser("list", help="list tokens (ids, roles; never secrets)")
    revoke = token_commands.add_parser("revoke", help="revoke a token by id")
    revoke.add_argument("token_id", help="the id: bf_<id>.… (shown by token list)")
    db = commands.add_parser("db", help="the store's schema (migrations)")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="migrate the store to this release's schema")
    db_commands.add_parser("current", help="print the store's schema revision")
    audit = commands.add_parser("audit", help="show a shipment's audit trail")
    audit.add_argument("shipment_id", help="e.g. shipment-S00001")
    audit.add_argument("--json", action="store_true", help="print the entries as JSON")
    schema = commands.add_parser("schema", help="write the canonical model's JSON Schema")
    schema.add_argument("--out", default="docs/schema", help="directory (default docs/schema)")
    schema.add_argument("--check", action="store_true", help="fail if the files are stale")
    openapi = commands.add_parser("openapi", help="write the API's OpenAPI document")
    openapi.add_argument("--out", default="docs/openapi.json", help="default docs/openapi.json")
    openapi.add_argument("--check", action="store_true", help="fail if the file is stale")
    add_ops_parsers(commands)
    reconcile.add_parser(commands)
    partners.add_parser(commands)
    commands.add_parser(
        "codec-server", help="decrypt payloads for the Temporal Web UI and CLI (remote codec)"
    )
    commands.add_parser("encryption-key", help="print a new payload encryption key (base64)")
    setup = commands.add_parser(
        "temporal-setup", help="register the search attributes on a self-hosted Temporal namespace"
    )
    setup.add_argument("--wait", type=float, default=30.0,
                       help="seconds to wait for a starting server (default 30)")  # fmt: skip
    return root


COMMANDS = {
    "up": cmd_up,
    "demo": cmd_demo,
    "status": cmd_status,
    "normalize": cmd_normalize,
    "schema": cmd_schema,
    "openapi": cmd_openapi,
    "shipments": cmd_shipments,
    "inbox": cmd_inbox,
    "timeline": cmd_timeline,
    "token": cmd_token,
    "db": cmd_db,
    "reconcile": cmd_reconcile,
    "partners": partners.cmd_partners,
    "codec-server": cmd_codec_server,
    "encryption-key": cmd_encryption_key,
    "temporal-setup": cmd_temporal_setup,
    "audit": cmd_audit,
}


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command, in its own span (``up``'s children trace themselves)."""
    if getattr(args, "count", 1) < 1:
        return fail("--count must be at least 1", 2)
    try:
        if args.command == "up":
            return COMMANDS[args.command](args)
        settings = cli_settings()
        setup_tracing("borderflow-cli", settings.otel_exporter, settings.otel_endpoint)
        with tracer().start_as_current_span(f"borderflow {args.command}"):
            return COMMANDS[args.command](args)
    except ValidationError as err:
        first = err.errors()[0]
        field = "BORDERFLOW_" + "_".join(str(part) for part in first["loc"]).upper()
        return fail(f"invalid setting {field}: {first['msg']}", 2)
    except SettingsError as err:  # a value pydantic-settings could not even parse (bad JSON)
        return fail(f"invalid setting: {err}", 2)


def stdout_reader_gone() -> bool:
    """Whether stdout's reader has closed its end (a pipe then polls as an error), so that a
    BrokenPipeError of some other pipe or socket is not mistaken for ``| head``."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll(), or no stdout to poll
        return True


def discard_stdout() -> None:
    """Point stdout at /dev/null: what is still buffered goes nowhere, so no later flush (the
    exit's own) can fail on the closed pipe again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


def unexpected(err: Exception, command: str) -> int:
    """One line for an exception no command handled (its traceback with BORDERFLOW_DEBUG=1)."""
    if os.environ.get("BORDERFLOW_DEBUG") == "1":
        traceback.print_exc()
        return 1
    reason = str(err).strip().splitlines()[0] if str(err).strip() else ""
    what = f"{type(err).__name__}: {reason}" if reason else type(err).__name__
    return fail(f"unexpected error: {what} (BORDERFLOW_DEBUG=1 shows the traceback)",
                command=command)  # fmt: skip


def main() -> None:
    code = 0
    command = ""
    try:
        try:
            args = parser().parse_args()
        except SystemExit as done:  # --help (0) or a usage error (2): argparse said why
            code = done.code if isinstance(done.code, int) else 2
        else:
            command = args.command
            code = run_command(args)
        sys.stdout.flush()  # a closed pipe shows here when the output was short
    except BrokenPipeError as err:
        if stdout_reader_gone():
            discard_stdout()
        else:  # some other pipe or socket broke: an unexpected error like any other
            code = unexpected(err, command)
    except KeyboardInterrupt:
        code = 130
    except Exception as err:  # the last resort: one line, not a traceback
        code = unexpected(err, command)
    exit_process(code)
