"""Structured logs: one JSON object per line (or plain text), masked, with context.

``BORDERFLOW_LOG_FORMAT=json`` writes one object per line with ``time`` (UTC, ISO 8601),
``level``, ``logger``, ``message`` and, when known, ``shipment_id``, ``workflow_id``,
``activity``, ``trace_id`` and ``span_id``; then any ``extra`` fields and ``exception``.
``text`` (the default) writes ``time level logger message`` with the same context appended.

Context comes from Temporal's loggers (the ``temporal_activity`` / ``temporal_workflow``
extras), from the running activity for any other logger called inside one, from
:func:`bind` (the API binds the shipment of the request), and from the current span.

Guarantee: every line goes through :func:`observability.masking.mask_text` (message,
exception) and :func:`observability.masking.mask` (extras, by key), so secrets and personal
data are masked whatever the caller passed.
"""

import contextvars
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Literal

from temporalio import activity

from observability.masking import mask, mask_text
from observability.tracing import SHIPMENT_PREFIX, current_span_id, current_trace_id

LogFormat = Literal["json", "text"]
CONTEXT_FIELDS = ("shipment_id", "workflow_id", "activity", "trace_id", "span_id")
_STANDARD = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_TEMPORAL_EXTRAS = frozenset({"temporal_activity", "temporal_workflow", "activity_info",
                              "workflow_info"})  # fmt: skip
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


QUIET_LOGGERS = ("httpx",)
"""Libraries whose INFO lines repeat what our own logs say (kept at WARNING and above)."""


def setup_logging(fmt: LogFormat = "text", level: str = "INFO") -> None:
    """Route every log record of the process through one masked handler (replaces others)."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(log_handler(fmt))
    root.setLevel(level.upper())
    # httpx logs one INFO line per request; every partner call is already logged, measured
    # and audited by our own transport (observability/partner_http.py), so that line only
    # cost ~0.1 ms a call. Its warnings still pass.
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    if fmt == "json":  # the context is in the fields; no need to repeat it in the message
        activity.logger.activity_info_on_message = False
        from temporalio import workflow

        workflow.logger.workflow_info_on_message = False
