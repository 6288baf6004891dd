"""How Karrio's blocking HTTP is run, bounded, observed and classified.

Karrio sends every request through ``urllib.request.urlopen`` as imported by
``karrio.core.utils.helpers`` (``lib.request``), with no timeout unless the extension passes
one (none of ours does), and turns an HTTP error into the response body alone: the status is
lost. The seam used here is that one module-level name: :func:`install` wraps it once per
process. The wrapper acts only inside a :class:`KarrioCall` (a context variable, which
``asyncio.to_thread`` and Karrio's own ``run_asynchronously`` carry into their threads);
outside one it calls the original unchanged. Inside one it:

- gives each request a socket timeout (``timeout_s``, never past the call's deadline);
- records each answer's status and ``Retry-After`` and each transport failure, so that
  :func:`failure` classifies the call as we do everywhere (429/408/409/5xx, timeouts and
  connection errors retryable; any other refusal non-retryable, see :mod:`activities.errors`);
- adds the caller's idempotency key to each POST: the first POST carries ``key``, the n-th
  ``key-n`` (a booking is a fixed sequence of POSTs, so a retry sends the same keys in the same
  order and a carrier that honours them replays each step).

:func:`run` runs one blocking Karrio operation in the adapter's own threads under
``asyncio.wait_for``: past the deadline the activity gets a retryable error at once, while
the thread, whose sockets all time out by then, ends on its own. Requests Karrio sends from
``lib.run_concurently`` (a plain thread pool, no context) escape the socket timeout; the
deadline still bounds the activity. Karrio's loguru output is routed into the standard
logger ``karrio`` at WARNING and above (our handlers, our format; never its debug payloads),
and ``jstruct.utils`` (which logs dropped fields with their values) at ERROR and above.
"""

import asyncio
import contextvars
import logging
import time
import urllib.error
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.exceptions import ApplicationError

from activities.carriers.http import contract_error
from activities.errors import business_error, transient_error

T = TypeVar("T")

_CALL: contextvars.ContextVar["KarrioCall | None"] = contextvars.ContextVar(
    "karrio_call", default=None
)
_installed = False
TRANSIENT_STATUSES = frozenset({408, 409, 429})


@dataclass
class KarrioCall:
    """What one adapter call allows and what its requests met."""

    timeout_s: float
    deadline: float
    """``time.monotonic()`` after which no request should still wait."""
    idempotency_header: str | None = None
    idempotency_key: str | None = None
    statuses: list[int] = field(default_factory=list)
    retry_after: str | None = None
    transport_errors: list[str] = field(default_factory=list)
    posts: int = 0

    def socket_timeout(self) -> float:
        return max(0.1, min(self.timeout_s, self.deadline - time.monotonic()))

    def next_key(self) -> str | None:
        if self.idempotency_key is None:
            return None
        self.posts += 1
        return self.idempotency_key if self.posts == 1 else f"{self.idempotency_key}-{self.posts}"

    @property
    def worst_status(self) -> int | None:
        """The first transient status met, else the first refusal, else ``None``."""
        failed = [s for s in self.statuses if s >= 300]
        transient = [s for s in failed if s in TRANSIENT_STATUSES or s >= 500]
        worst = transient or failed
        return worst[0] if worst else None


def _wrap(original: Callable[..., Any]) -> Callable[..., Any]:
    def urlopen(request: Any, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        call = _CALL.get()
        if call is None:
            return original(request, *args, timeout=timeout, **kwargs)
        if call.idempotency_header and request.get_method() == "POST":
            key = call.next_key()
            if key is not None:
                request.add_header(call.idempotency_header, key)
        timeout = min(timeout, call.socket_timeout()) if timeout else call.socket_timeout()
        try:
            answer = original(request, *args, timeout=timeout, **kwargs)
        except urllib.error.HTTPError as err:
            call.statuses.append(err.code)
            header = err.headers.get("Retry-After") if err.headers is not None else None
            call.retry_after = call.retry_after or header
            raise
        except OSError as err:  # URLError, TimeoutError, ConnectionError
            call.transport_errors.append(f"{type(err).__name__}: {err}"[:200])
            raise
        call.statuses.append(int(getattr(answer, "status", 200)))
        return answer

    urlopen.__wrapped__ = original  # type: ignore[attr-defined]
    return urlopen


class _ToStdlib:
    """A loguru sink writing into the standard logger ``karrio``."""

    def __init__(self) -> None:
        self._logger = logging.getLogger("karrio")

    def write(self, message: Any) -> None:
        record = message.record
        self._logger.log(record["level"].no, "%s", record["message"])


def install() -> None:
    """Wrap Karrio's ``urlopen`` and route its logs (once per process; idempotent)."""
    global _installed
    if _installed:
        return
    import karrio.core.utils.helpers as helpers
    from karrio.core.utils.logger import logger as karrio_logger

    helpers.urlopen = _wrap(helpers.urlopen)
    # jstruct (Karrio's model builder) logs every field it drops, values included (addresses,
    # phone numbers) at WARNING: above that only.
    logging.getLogger("jstruct.utils").setLevel(logging.ERROR)
    karrio_logger.remove()
    karrio_logger.add(_ToStdlib(), level="WARNING", format="{message}")
    _installed = True


def failure(
    partner: str, call: KarrioCall, messages: Sequence[Any], *, produced: bool
) -> ApplicationError | None:
    """The error a finished call deserves, or ``None`` when it succeeded.

    ``messages`` are Karrio's parsed ``Message``s (the carrier's own refusal text);
    ``produced``: Karrio returned a result. A result stands despite a refused side request
    (a label download answering 404): the carrier did what was asked, and the gap is
    reported where it matters (:meth:`KarrioCarrier.label`); a transient failure on the way
    still makes the call retryable, since a retry replays the same idempotent steps.
    """
    detail = "; ".join(f"{m.code}: {m.message}" for m in messages)[:300] or "no detail"
    if call.transport_errors:
        return transient_error(partner, f"transport: {call.transport_errors[-1]}")
    status = call.worst_status
    if status is not None and (status in TRANSIENT_STATUSES or status >= 500):
        delay = call.retry_after
        retry = timedelta(seconds=int(delay)) if delay and delay.strip().isdigit() else None
        return transient_error(partner, f"HTTP {status}: {detail}", retry_after=retry)
    if produced:
        return None
    if status is not None:
        return business_error(partner, f"HTTP {status}: {detail}")
    if messages:
        return business_error(partner, detail)
    return None


async def run(
    partner: str,
    executor: ThreadPoolExecutor,
    call: KarrioCall,
    operation: Callable[[], T],
    *,
    deadline_s: float,
) -> T:
    """``operation()`` in ``executor`` with ``call`` current, bounded by ``deadline_s``.

    A transport failure raised out of Karrio is retryable. Any other exception is not
    (retrying the same request gives the same answer): a bare ``Exception`` is how extensions
    refuse deliberately ("No rate found for the given service"), a ``PartnerRejected``; any
    other type is Karrio failing on an answer it cannot read, a ``PartnerContract`` error.
    """
    context = contextvars.copy_context()
    context.run(_CALL.set, call)
    loop = asyncio.get_running_loop()
    future = loop.run_in_executor(executor, context.run, operation)
    try:
        return await asyncio.wait_for(future, timeout=deadline_s)
    except TimeoutError:  # our deadline (the future cancelled) or a socket's (an OSError)
        where = f"no answer within the {deadline_s:g} s deadline" if future.cancelled() else ""
        raise transient_error(partner, where or "transport: timed out") from None
    except OSError as err:
        raise transient_error(partner, f"transport: {type(err).__name__}: {err}"[:300]) from None
    except ApplicationError:
        raise
    except Exception as err:
        text = f"karrio: {type(err).__name__}: {err}"[:300]
        if type(err) is Exception:  # an extension's deliberate refusal ("No rate found …")
            raise business_error(partner, text) from None
        raise contract_error(partner, "answer", text) from None


__all__ = ["KarrioCall", "failure", "install", "run"]
