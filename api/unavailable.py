""" "The workflow side cannot answer now": one classification of Temporal errors, one 503.

Every route that queries, updates or lists workflows maps Temporal's failures through
:func:`unavailable`, so the same cause always gets the same answer: 503 problem+json with
``Retry-After`` (whole seconds). These are the causes that say nothing about the request, only
that Temporal or the worker cannot serve it at this moment:

- ``UNAVAILABLE``: Temporal is unreachable (restarting, network).
- ``DEADLINE_EXCEEDED`` / ``CANCELLED``: the call's RPC deadline passed; the SDK reports it as
  ``CANCELLED "Timeout expired"`` or ``DEADLINE_EXCEEDED`` depending on where it expired.
- ``FAILED_PRECONDITION``: no worker polls the task queue (a query's ``no poller seen``), or the
  workflow's task is failing so it cannot take a query or update now.
- ``RESOURCE_EXHAUSTED``: Temporal throttles the namespace.
- An RPC timeout raised by the SDK itself (``RPCTimeoutOrCancelledError``) or our own time box
  (``TimeoutError``).

Everything else (``NOT_FOUND``, ``INVALID_ARGUMENT``, …) is for the route to map.
"""

from aiohttp import web
from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from api.problems import problem

RETRY_AFTER_S = 5
"""The ``Retry-After`` of every such 503: a worker restart or a Temporal failover takes seconds."""
NOT_NOW = frozenset({
    RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED,
    RPCStatusCode.FAILED_PRECONDITION, RPCStatusCode.RESOURCE_EXHAUSTED,
})  # fmt: skip
"""RPC statuses that mean "not now", whatever the request."""


def is_unavailable(err: BaseException) -> bool:
    """True when ``err`` says only that the workflow side cannot answer now."""
    if isinstance(err, RPCError):
        return err.status in NOT_NOW
    return isinstance(err, (RPCTimeoutOrCancelledError, TimeoutError))


def service_unavailable(title: str, detail: str) -> web.Response:
    """503 problem+json with ``Retry-After``."""
    reply = problem(503, title, detail)
    reply.headers["Retry-After"] = str(RETRY_AFTER_S)
    return reply


def unavailable(err: BaseException, title: str, detail: str) -> web.Response | None:
    """The 503 for ``err`` when it means "not now", else ``None`` (the caller maps it).

    ``detail`` says what could not be done; Temporal's own message is appended.
    """
    if not is_unavailable(err):
        return None
    cause = err.message if isinstance(err, RPCError) else str(err)
    return service_unavailable(title, f"{detail} ({cause})" if cause else detail)
