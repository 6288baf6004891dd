"""What every `borderflow` command guarantees as a process (cli/main.py), run as the installed
command: a closed pipe ends it quietly, usage errors exit 2 with one usage line, an unexpected
exception is one line (a traceback only with BORDERFLOW_DEBUG=1), Ctrl-C exits 130, and
`audit` of an unknown shipment exits 1 like `status`. The API is a stub on loopback."""

import json
import os
import signal
import subprocess
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from running_platform import BORDERFLOW

FIXTURES = Path(__file__).parent.parent / "fixtures"
AUDIT_ENTRY = {
    "id": 1, "at": "2026-01-02T03:04:05+00:00", "kind": "ops_action", "operation": "cancel",
    "outcome": "accepted", "token_id": "t1", "role": "ops", "trace_id": None,
}  # fmt: skip


class StubApi(BaseHTTPRequestHandler):
    """`GET /v1/audit` and `GET /v1/shipments/{id}` as the API answers them, for a few ids."""

    slow_request = threading.Event()

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/v1/audit":
            shipment = parse_qs(url.query)["shipment"][0]
            items = [AUDIT_ENTRY] if shipment == "shipment-AUDITED" else []
            self.answer(200, {"items": items, "next_after": None})
        elif url.path == "/v1/shipments/shipment-GARBLED":
            self.answer(200, b"<html>not the API</html>")
        elif url.path == "/v1/shipments/shipment-SLOW":
            StubApi.slow_request.set()
            threading.Event().wait(10)
            self.answer(504, {})
        elif url.path in ("/v1/shipments/shipment-QUIET", "/v1/shipments/shipment-AUDITED"):
            self.answer(200, {"shipment_id": url.path.rsplit("/", 1)[1]})
        else:
            shipment = url.path.rsplit("/", 1)[1]
            detail = {"title": "Unknown shipment", "detail": f"no shipment {shipment}"}
            self.answer(404, detail)

    def answer(self, status: int, body: object) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), StubApi)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def environment(api_url: str = "http://127.0.0.1:1", **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BORDERFLOW_")}
    env.update(BORDERFLOW_DATA_DIR="/nonexistent", BORDERFLOW_API_URL=api_url,
               BORDERFLOW_API_TOKEN="bf_stub.token",
               BORDERFLOW_DATABASE_URL="sqlite:////nonexistent/store.db")  # fmt: skip
    env.update(settings)
    return env


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BORDERFLOW, *args], env=env or environment(), capture_output=True,
                          text=True, timeout=60)  # fmt: skip


def many_events(tmp_path: Path, count: int = 400) -> Path:
    """A DCSA payload of ``count`` events: its canonical lines are far more than a pipe holds."""
    events = json.loads((FIXTURES / "dcsa" / "events_v2.json").read_text())
    copies = [{**events[i % len(events)], "eventID": str(uuid.uuid4())} for i in range(count)]
    path = tmp_path / "many_events.json"
    path.write_text(json.dumps(copies))
    return path


def assert_quiet(returncode: int, stderr: bytes) -> None:
    assert returncode in (0, 141), (returncode, stderr)
    for noise in (b"Traceback", b"BrokenPipe", b"Exception ignored"):
        assert noise not in stderr, stderr
    assert stderr == b"", stderr


@pytest.mark.parametrize(
    "args",
    [("partners", "list"), ("--help",), ("schema", "--help"), ("normalize", "--partner", "dcsa")],
    ids=["short-output", "root-help", "command-help", "long-output"],
)
def test_a_reader_that_closed_before_any_output_gets_no_traceback(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    if args[0] == "normalize":
        args = (*args, str(many_events(tmp_path)))
    process = subprocess.Popen([BORDERFLOW, *args], env=environment(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert process.stdout is not None
    process.stdout.close()  # like `| head` that is done before the command writes
    _, stderr = process.communicate(timeout=60)
    assert_quiet(process.returncode, stderr)


def test_head_1_of_a_long_output_ends_quietly(tmp_path: Path) -> None:
    process = subprocess.Popen([BORDERFLOW, "normalize", "--partner", "dcsa",
                                str(many_events(tmp_path))], env=environment(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert process.stdout is not None
    first = json.loads(process.stdout.readline())
    assert first["source"]["partner"] == "dcsa"
    process.stdout.close()  # `| head -1`: one line read, then gone
    _, stderr = process.communicate(timeout=60)
    assert_quiet(process.returncode, stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [(("nosuchcommand",), "invalid choice: 'nosuchcommand'"),
     (("audit",), "the following arguments are required: shipment_id"),
     (("normalize", "--partner"), "expected one argument")],
)  # fmt: skip
def test_usage_errors_exit_2_with_one_usage_line(args: tuple[str, ...], message: str) -> None:
    done = run(*args)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    usage, error = done.stderr.splitlines()
    assert usage.startswith("usage: borderflow"), done.stderr
    assert error.startswith("borderflow") and message in error, done.stderr


def test_an_unexpected_exception_is_one_line_and_exit_1(api_url: str) -> None:
    done = run("status", "shipment-GARBLED", env=environment(api_url))
    assert done.returncode == 1, done.stderr
    assert done.stdout == "" and done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("borderflow status: unexpected error: JSONDecodeError")
    assert "BORDERFLOW_DEBUG=1" in done.stderr


def test_borderflow_debug_shows_the_traceback(api_url: str) -> None:
    done = run("status", "shipment-GARBLED", env=environment(api_url, BORDERFLOW_DEBUG="1"))
    assert done.returncode == 1, done.stderr
    assert "Traceback (most recent call last)" in done.stderr
    assert "JSONDecodeError" in done.stderr


def test_ctrl_c_exits_130_without_a_traceback(api_url: str) -> None:
    StubApi.slow_request.clear()
    process = subprocess.Popen([BORDERFLOW, "status", "shipment-SLOW"],
                               env=environment(api_url), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE)  # fmt: skip
    try:
        assert StubApi.slow_request.wait(30), "the command never asked the API"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, stderr
    assert b"Traceback" not in stderr, stderr


def test_audit_of_an_unknown_shipment_exits_1_like_status(api_url: str) -> None:
    env = environment(api_url)
    for command in ("audit", "status"):
        done = run(command, "shipment-NOPE", env=env)
        assert done.returncode == 1, (command, done.stdout, done.stderr)
        assert done.stdout == "" and done.stderr == "borderflow: no shipment shipment-NOPE\n"
    assert run("audit", "shipment-NOPE", "--json", env=env).returncode == 1


def test_audit_of_a_known_shipment_exits_0(api_url: str) -> None:
    env = environment(api_url)
    audited = run("audit", "shipment-AUDITED", env=env)
    assert audited.returncode == 0, audited.stderr
    assert "ops_action" in audited.stdout and "by token t1 (ops)" in audited.stdout
    quiet = run("audit", "shipment-QUIET", env=env)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout == "no audit entries for shipment-QUIET\n"
    assert json.loads(run("audit", "shipment-QUIET", "--json", env=env).stdout) == []
