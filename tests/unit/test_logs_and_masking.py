"""Masking (by key, by pattern) and the JSON / text log lines built on it."""

import io
import json
import logging
from collections.abc import Iterator

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import format_trace_id

from observability.logs import bind, log_handler, setup_logging
from observability.masking import MASK, mask, mask_text, summarize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail jane.doe+x@example.co.uk now", "mail *** now"),
        ("call +49 40 555 0100 or 0041 44 555 01 23", "call *** or ***"),
        ("US (617) 555-0100 / 617-555-0100", "US *** / ***"),
        ("Authorization: Bearer abc.def-123", "Authorization: *** ***"),
        ("token bf_1a2b3c.s3cr3t-value used", "token bf_*** used"),
        ("url?api_key=sk_123&x=1 password: hunter2", "url?api_key=***&x=1 password: ***"),
        ('{"client_secret": "abc"}', '{"client_secret": "***"}'),
    ],
)
def test_patterns_are_masked_in_any_text(text: str, expected: str) -> None:
    assert mask_text(text) == expected


@pytest.mark.parametrize(
    "kept",
    [
        "2026-11-20T10:00:00+01:00", "shipment-S00001", "EZ1000000001", "1200.50 EUR",
        "HTTP 503 from /v1/shipments/S00042", "order 12345678", "idempotency_key=shipment-S1:book",
    ],
)  # fmt: skip
def test_dates_ids_and_amounts_are_not_mistaken_for_personal_data(kept: str) -> None:
    assert mask_text(kept) == kept


def test_keys_naming_secrets_or_personal_data_are_masked_whatever_their_value() -> None:
    value = {
        "Authorization": "Bearer x", "X-Api-Key": "k", "dhl_api_key": "k", "password": 1,
        "X-Hmac-Signature": "s", "token_id": "abc", "headers": {"Cookie": "c"},
        "consignee": {"name": "Jane", "address": {"lines": ["1 Main St"], "city": "Boston",
                      "country": "US"}, "email": "j@x.io", "phone": "+1 617 555 0100"},
        "parties": [{"vat": "DE123", "contact_name": "Bob"}], "order_ref": "S00001",
    }  # fmt: skip
    assert mask(value) == {
        "Authorization": MASK, "X-Api-Key": MASK, "dhl_api_key": MASK, "password": MASK,
        "X-Hmac-Signature": MASK, "token_id": "abc", "headers": {"Cookie": MASK},
        "consignee": {"name": MASK, "address": MASK, "email": MASK, "phone": MASK},
        "parties": [{"vat": MASK, "contact_name": MASK}], "order_ref": "S00001",
    }  # fmt: skip


def test_a_summary_is_short_masked_and_keeps_only_top_level_values() -> None:
    summary = summarize({"shipment_id": "shipment-S1", "shipment": {"consignee": {}},
                         "packages": [1, 2], "note": "ring +44 118 496 0123"})  # fmt: skip
    assert json.loads(summary) == {
        "shipment_id": "shipment-S1", "shipment": "{…}", "packages": "[2 item(s)]",
        "note": "ring ***",
    }  # fmt: skip
    long = summarize({"note": "x" * 1000}, limit=50)
    assert len(long) == 50 and long.endswith("…")


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    logger = logging.getLogger("borderflow.test.logs")
    handler = log_handler("json", stream)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    yield logger, stream
    logger.removeHandler(handler)


def test_a_json_line_masks_the_message_the_extras_and_the_traceback(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    try:
        raise ValueError("bad key api_key=sk_live_9 for jane@example.com")
    except ValueError:
        logger.exception(
            "calling %s with %s failed", "ops@example.com", "+49 40 555 0100",
            extra={"headers": {"Authorization": "Bearer abc", "Accept": "json"},
                   "api_key": "sk_live_9", "attempt": 2},
        )  # fmt: skip
    line = json.loads(stream.getvalue())
    assert line["level"] == "ERROR" and line["logger"] == "borderflow.test.logs"
    assert line["message"] == "calling *** with *** failed"
    assert line["headers"] == {"Authorization": MASK, "Accept": "json"}
    assert line["api_key"] == MASK and line["attempt"] == 2
    assert "ValueError" in line["exception"] and "sk_live_9" not in line["exception"]
    assert "jane@" not in stream.getvalue() and "Bearer abc" not in stream.getvalue()
    assert line["time"].endswith("+00:00")


def test_bound_fields_and_the_current_span_are_on_the_line(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    tracer = TracerProvider().get_tracer("test")  # a local provider: the global one is left alone
    with tracer.start_as_current_span("work") as span, bind(shipment_id="shipment-S9"):
        logger.info("working")
    logger.info("outside")
    inside, outside = (json.loads(line) for line in stream.getvalue().splitlines())
    assert inside["shipment_id"] == "shipment-S9"
    assert inside["trace_id"] == format_trace_id(span.get_span_context().trace_id)
    assert "shipment_id" not in outside and "trace_id" not in outside


def test_the_text_format_appends_the_context_and_masks_too() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("borderflow.test.text")
    logger.addHandler(log_handler("text", stream))
    logger.propagate = False
    with bind(shipment_id="shipment-S3"):
        logger.warning("mail %s", "a@b.example")
    assert stream.getvalue().rstrip().endswith("WARNING borderflow.test.text mail *** "
                                               "[shipment_id=shipment-S3]")  # fmt: skip


def test_httpx_request_lines_are_left_out_but_its_warnings_pass(
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, httpx_logger = logging.getLogger(), logging.getLogger("httpx")
    handlers, level, httpx_level = root.handlers[:], root.level, httpx_logger.level
    try:
        setup_logging("json", "INFO")
        httpx_logger.info('HTTP Request: GET http://odoo "HTTP/1.1 200 OK"')
        httpx_logger.warning("connection pool is full")
        logging.getLogger("borderflow.test.quiet").info("ours still passes")
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        httpx_logger.setLevel(httpx_level)
    assert [line["message"] for line in lines] == ["connection pool is full", "ours still passes"]
