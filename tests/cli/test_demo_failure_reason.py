"""The demo's one-line failure reason is never empty (cli/demo.py :func:`failure_reason`)."""

import httpx
import pytest

from cli.demo import failure_reason


@pytest.mark.parametrize(
    ("err", "reason"),
    [(httpx.ReadTimeout(""), "ReadTimeout"), (RuntimeError(), "RuntimeError"),
     (RuntimeError("  \n "), "RuntimeError"),
     (RuntimeError("starting S00001 failed: HTTP 503\n{...}"), "starting S00001 failed: HTTP 503"),
     (httpx.ConnectError("All connection attempts failed"), "All connection attempts failed")],
)  # fmt: skip
def test_the_reason_is_the_message_or_else_the_type(err: Exception, reason: str) -> None:
    assert str(err).strip() == "" or reason in str(err)
    assert failure_reason(err) == reason
