"""The HTTP plumbing every carrier adapter shares: one call, classified; one body, validated.

Guarantees:

- the ``httpx.AsyncClient`` comes from :func:`activities.errors.new_http_client`: explicit
  timeouts, no redirects (a 3xx is a non-retryable error, never followed);
- a non-2xx answer raises through :func:`activities.errors.raise_for_status` (429 with its
  ``Retry-After``, 408, 409 and 5xx retryable; any other status a non-retryable refusal
  carrying the carrier's own message), except the statuses a caller lists in ``passthrough``,
  which it handles itself (DHL's 404 on tracking, 409 on cancel);
- timeouts and connection errors propagate as ``httpx`` exceptions, which Temporal retries;
- a 2xx body that does not validate against its wire model (or is not JSON) is a
  non-retryable ``PartnerContract`` error: retrying will not change it, guessing would be worse;
- credentials live in the client's auth or default headers only, so no error message or log
  line built here can contain them.
"""

from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from temporalio.exceptions import ApplicationError

from activities.errors import business_error, raise_for_status

PARTNER_CONTRACT = "PartnerContract"
"""Error type of a 2xx answer we cannot understand (non-retryable)."""

ModelT = TypeVar("ModelT", bound=BaseModel)
DETAIL_CHARS = 300


def contract_error(partner: str, what: str, problem: str) -> ApplicationError:
    """The non-retryable error for a 2xx answer that breaks the documented contract."""
    return business_error(partner, f"unexpected {what}: {problem}", type=PARTNER_CONTRACT)


def summarize(err: ValidationError, limit: int = 3) -> str:
    """The first few validation errors as ``loc: message``, on one line."""
    parts = [
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in err.errors()[:limit]
    ]
    more = err.error_count() - limit
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


class CarrierHttp:
    """Typed JSON calls to one carrier, failures classified for Temporal."""

    def __init__(
        self,
        partner: str,
        http: httpx.AsyncClient,
        error_detail: Callable[[httpx.Response], str],
    ) -> None:
        self.partner = partner
        self._http = http
        self._error_detail = error_detail

    @property
    def base_url(self) -> str:
        """The carrier's base URL, without a trailing slash."""
        return str(self._http.base_url).rstrip("/")

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        passthrough: Collection[int] = (),
    ) -> httpx.Response:
        """Make the call; raise for a non-2xx answer unless its status is in ``passthrough``."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = await self._http.request(method, path, json=json, params=params, headers=headers)
        if response.status_code >= 300 and response.status_code not in passthrough:
            detail = " ".join(self._error_detail(response).split())[:DETAIL_CHARS]
            raise_for_status(self.partner, response, detail)
        return response

    def parse(self, response: httpx.Response, model: type[ModelT]) -> ModelT:
        """The 2xx body as ``model`` (extra fields ignored), else a ``PartnerContract`` error."""
        what = f"{response.request.method} {response.request.url.path} response"
        try:
            return model.model_validate_json(response.content)
        except ValidationError as err:
            raise contract_error(self.partner, what, summarize(err)) from err

    async def call(
        self,
        method: str,
        path: str,
        model: type[ModelT],
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> ModelT:
        """:meth:`send` then :meth:`parse`."""
        response = await self.send(
            method, path, json=json, params=params, idempotency_key=idempotency_key
        )
        return self.parse(response, model)


def json_error_body(response: httpx.Response) -> dict[str, Any] | None:
    """The error body as a JSON object, or ``None`` when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
