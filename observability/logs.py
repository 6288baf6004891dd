"""Structured logs: one JSON object per line (or plain text), masked, with context.

``BORDERFLOW_LOG_FORMAT=json`` writes one object per line with ``time`` (UTC, ISO 8601),
``level``, ``logger``, ``message`` and, when known, ``request_id``, ``shipment_id``,
``workflow_id``, ``activity``, ``trace_id`` and ``span_id``; then any ``extra`` fields and
``exception``. ``text`` (the default) writes ``time level logger message`` with the same
context appended.

Context comes from Temporal's loggers (the ``temporal_activity`` / ``temporal_workflow``
extras), from the running activity for any other logger called inside one, from
:func:`bind` (the API binds the shipment of the request), and from the current span.

:func:`setup_logging` makes the whole process write that way, not only our loggers:

- every log record of the process (libraries' included) goes through one handler on stderr;
- warnings (:mod:`warnings`) are logged (``py.warnings``), and an uncaught exception, in the
  main thread or any other, is logged as one ``CRITICAL`` record with its traceback
  (``borderflow.uncaught``) instead of Python's plain-text traceback;
- aiohttp's own access logger (``aiohttp.access``) is kept quiet: the API writes its own,
  route-based one (``borderflow.access``, ``api/observability.py``);
- with ``json``, whatever else the process writes to ``sys.stdout`` / ``sys.stderr`` (the
  ``… ready on …`` lines, a library's ``print``) is written as one JSON object per line too
  (logger ``stdout`` / ``stderr``, on the stream it was written to); a line that already is a
  JSON object passes as it is.

The Temporal SDK's core (Rust) writes its own log lines to the process's stderr unless its
runtime forwards them to Python logging: build that runtime's telemetry with
:func:`sdk_core_logging` (logger ``temporalio.core``). Lines written straight to the file
descriptors by native code (a crash of the interpreter itself) cannot be caught here.

Guarantee: every line goes through :func:`observability.masking.mask_text` (message,
exception) and :func:`observability.masking.mask` (extras, by key), so secrets and personal
data are masked whatever the caller passed.
"""

import contextvars
import io
import json
import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Literal

from pydantic_settings import BaseSettings, SettingsConfigDict
from temporalio import activity
from temporalio.runtime import LogForwardingConfig, LoggingConfig, TelemetryFilter

from observability.masking import mask, mask_text
from observability.tracing import SHIPMENT_PREFIX, current_span_id, current_trace_id

LogFormat = Literal["json", "text"]
__all__ = [
    "SDK_CORE_LOGGER", "ContextFilter", "JsonFormatter", "JsonLines", "LogFormat", "LogSettings",
    "TextFormatter", "bind", "log_handler", "sdk_core_logging", "setup_logging",
]  # fmt: skip
CONTEXT_FIELDS = ("request_id", "shipment_id", "workflow_id", "activity", "trace_id", "span_id")
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_TEMPORAL_EXTRAS = frozenset({"temporal_activity", "temporal_workflow", "activity_info",
                              "workflow_info", "temporal_log"})  # fmt: skip
SDK_CORE_LOGGER = "temporalio.core"
"""The logger the Temporal SDK core's lines arrive on (:func:`sdk_core_logging`)."""
_bound: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "borderflow_log_context", default=None
)


@contextmanager
def bind(**fields: str | None) -> Iterator[None]:
    """Add ``fields`` (e.g. ``shipment_id``) to every record logged inside the block."""
    current = dict(_bound.get() or {})
    current.update({key: value for key, value in fields.items() if value})
    token = _bound.set(current)
    try:
        yield
    finally:
        _bound.reset(token)


def _context(record: logging.LogRecord) -> dict[str, str]:
    found: dict[str, str] = dict(_bound.get() or {})
    details: Any = getattr(record, "temporal_activity", None)
    if details is None and activity.in_activity():
        info = activity.info()
        details = {"workflow_id": info.workflow_id, "activity_type": info.activity_type}
    if isinstance(details, dict):
        found["activity"] = str(details.get("activity_type") or "")
        found["workflow_id"] = str(details.get("workflow_id") or "")
    workflow_details: Any = getattr(record, "temporal_workflow", None)
    if isinstance(workflow_details, dict) and workflow_details.get("workflow_id"):
        found["workflow_id"] = str(workflow_details["workflow_id"])
    workflow_id = found.get("workflow_id", "")
    if workflow_id.startswith(SHIPMENT_PREFIX):
        found.setdefault("shipment_id", workflow_id)
    trace_id, span_id = current_trace_id(), current_span_id()
    if trace_id and span_id:
        found["trace_id"], found["span_id"] = trace_id, span_id
    return {key: value for key, value in found.items() if value}


class ContextFilter(logging.Filter):
    """Puts the known context on the record (``record.borderflow``) and masks its message."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.borderflow = _context(record)
        record.msg, record.args = mask_text(record.getMessage()), None
        return True


def _extras(record: logging.LogRecord) -> dict[str, Any]:
    skip = _STANDARD | _TEMPORAL_EXTRAS | {"borderflow"}
    return {key: value for key, value in vars(record).items() if key not in skip}


class JsonFormatter(logging.Formatter):
    """One JSON object per line (see the module docstring)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = getattr(record, "borderflow", None) or _context(record)
        line.update({key: context[key] for key in CONTEXT_FIELDS if key in context})
        extras = _extras(record)
        if extras:
            line.update({k: v for k, v in mask(extras).items() if k not in line})
        if record.exc_info:
            line["exception"] = mask_text(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger message [context]``, masked like the JSON lines."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        context = getattr(record, "borderflow", None) or {}
        suffix = " ".join(f"{key}={context[key]}" for key in CONTEXT_FIELDS if key in context)
        text = f"{text} [{suffix}]" if suffix else text
        return mask_text(text) if record.exc_info else text


def log_handler(fmt: LogFormat, stream: Any = None) -> logging.Handler:
    """A handler writing ``fmt`` lines to ``stream`` (default stderr), masked, with context."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    return handler


QUIET_LOGGERS = ("httpx", "aiohttp.access")
"""Libraries whose INFO lines repeat what our own logs say (kept at WARNING and above):
httpx's one line per request (every partner call is logged, measured and audited by our own
transport, ``observability/partner_http.py``), and aiohttp's access log (ours is
``borderflow.access``; aiohttp's logger writes nothing below INFO, so it is off)."""
UNCAUGHT_LOGGER = "borderflow.uncaught"


class JsonLines(io.TextIOBase):
    """A text stream that writes each line written to it as one JSON log object on ``raw``
    (``logger`` is the record's logger name); a line that is a JSON object already, such as a
    log handler's, passes unchanged. A partial line waits for its newline or a ``flush``."""

    def __init__(self, raw: Any, logger: str, level: int) -> None:
        super().__init__()
        self.raw, self.logger, self.level = raw, logger, level
        self._pending = ""
        self._lock = threading.Lock()
        self._formatter, self._filter = JsonFormatter(), ContextFilter()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return str(getattr(self.raw, "encoding", None) or "utf-8")

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return bool(self.raw.isatty())

    def fileno(self) -> int:
        return int(self.raw.fileno())

    def write(self, text: str) -> int:
        with self._lock:
            *lines, self._pending = (self._pending + text).split("\n")
            for line in lines:
                self.raw.write(self._json(line) + "\n")
        return len(text)

    def flush(self) -> None:
        with self._lock:
            if self._pending:
                self.raw.write(self._json(self._pending) + "\n")
                self._pending = ""
        self.raw.flush()

    def _json(self, line: str) -> str:
        if line.startswith("{"):
            try:
                if isinstance(json.loads(line), dict):
                    return line
            except ValueError:
                pass
        record = logging.makeLogRecord(
            {"name": self.logger, "levelno": self.level,
             "levelname": logging.getLevelName(self.level), "msg": line.rstrip("\r")}
        )  # fmt: skip
        self._filter.filter(record)
        return self._formatter.format(record)


def _log_uncaught(
    kind: type[BaseException], value: BaseException, tb: TracebackType | None,
    thread: str | None = None,
) -> None:  # fmt: skip
    where = f" in thread {thread}" if thread else ""
    logging.getLogger(UNCAUGHT_LOGGER).critical(
        "uncaught %s%s", kind.__name__, where, exc_info=(kind, value, tb)
    )


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    thread = args.thread.name if args.thread is not None else None
    _log_uncaught(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback, thread)


def setup_logging(fmt: LogFormat = "text", level: str = "INFO") -> None:
    """Route everything the process writes through one masked handler (see the module
    docstring); replaces the root logger's handlers."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    stderr = sys.stderr.raw if isinstance(sys.stderr, JsonLines) else sys.stderr
    root.addHandler(log_handler(fmt, stderr))  # the stream itself, not its wrapping below
    root.setLevel(level.upper())
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    if fmt == "json":  # the context is in the fields; no need to repeat it in the message
        activity.logger.activity_info_on_message = False
        from temporalio import workflow

        workflow.logger.workflow_info_on_message = False
        if not isinstance(sys.stdout, JsonLines):
            sys.stdout = JsonLines(sys.stdout, "stdout", logging.INFO)
        if not isinstance(sys.stderr, JsonLines):
            sys.stderr = JsonLines(sys.stderr, "stderr", logging.WARNING)


class LogSettings(BaseSettings):
    """``BORDERFLOW_LOG_FORMAT`` / ``BORDERFLOW_LOG_LEVEL`` alone, read before a process's own
    settings, so that an error in those is logged in the format asked for."""

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_", extra="ignore")

    log_format: LogFormat = "text"
    log_level: str = "INFO"

    def apply(self) -> None:
        """:func:`setup_logging` with these settings."""
        setup_logging(self.log_format, self.log_level)


def sdk_core_logging(level: str = "WARN") -> LoggingConfig:
    """The Temporal runtime's logging: the SDK core's lines (at ``level`` and above) forwarded
    to the Python logger ``temporalio.core``, so they are masked and formatted like every other
    line. Use it as ``TelemetryConfig(logging=sdk_core_logging(), …)``."""
    return LoggingConfig(
        filter=TelemetryFilter(core_level=level, other_level="ERROR"),
        forwarding=LogForwardingConfig(
            logger=logging.getLogger(SDK_CORE_LOGGER), append_target_to_name=False
        ),
    )
