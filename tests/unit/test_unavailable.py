import json

from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.unavailable import RETRY_AFTER_S, unavailable


def test_every_not_now_cause_is_one_503_with_retry_after() -> None:
    causes: list[BaseException] = [
        RPCError("no poller seen for task queue recently", RPCStatusCode.FAILED_PRECONDITION, b""),
        RPCError("Timeout expired", RPCStatusCode.CANCELLED, b""),
        RPCError("deadline", RPCStatusCode.DEADLINE_EXCEEDED, b""),
        RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b""),
        RPCError("namespace rate limit", RPCStatusCode.RESOURCE_EXHAUSTED, b""),
        RPCTimeoutOrCancelledError(),
        TimeoutError(),
    ]
    for cause in causes:
        reply = unavailable(cause, "Shipment status unavailable", "no worker answered")
        assert reply is not None, cause
        assert reply.status == 503 and reply.headers["Retry-After"] == str(RETRY_AFTER_S)
        assert reply.content_type == "application/problem+json"
        assert json.loads(reply.text or "")["detail"].startswith("no worker answered")


def test_causes_about_the_request_are_left_to_the_route() -> None:
    for status in (RPCStatusCode.NOT_FOUND, RPCStatusCode.INVALID_ARGUMENT,
                   RPCStatusCode.PERMISSION_DENIED, RPCStatusCode.INTERNAL):  # fmt: skip
        assert unavailable(RPCError("x", status, b""), "t", "d") is None
    assert unavailable(ValueError("x"), "t", "d") is None
