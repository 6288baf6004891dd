"""One small JSON-over-HTTP client shared by the REST partners (TMS, carrier, broker, finance).

Every call: explicit timeouts and no redirects (from the ``httpx.AsyncClient`` it is given), an
``Idempotency-Key`` header on writes, the response validated by a pydantic model, and failures
classified by :func:`activities.errors.raise_for_status`.
"""

from collections.abc import Callable
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from activities.errors import business_error, raise_for_status

ResponseT = TypeVar("ResponseT", bound=BaseModel)


def problem_detail(response: httpx.Response) -> str:
    """The message of an RFC 9457 problem+json body (falls back to the raw text)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or body)[:300]
    return str(body)[:300]


class RestPartner:
    """Typed JSON calls to one partner."""

    def __init__(
        self,
        partner: str,
        http: httpx.AsyncClient,
        *,
        error_detail: Callable[[httpx.Response], str] = problem_detail,
    ) -> None:
        self.partner = partner
        self._http = http
        self._error_detail = error_detail

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(
        self, method: str, path: str, *, json: Any = None, idempotency_key: str | None = None
    ) -> httpx.Response:
        """Make the call and raise for any non-2xx answer; the body is the caller's business."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        response = await self._http.request(method, path, json=json, headers=headers)
        if response.status_code >= 300:
            raise_for_status(self.partner, response, self._error_detail(response))
        return response

    async def call(
        self,
        method: str,
        path: str,
        model: type[ResponseT],
        *,
        json: Any = None,
        idempotency_key: str | None = None,
    ) -> ResponseT:
        """Make the call and validate the 2xx body as ``model``."""
        response = await self.send(method, path, json=json, idempotency_key=idempotency_key)
        try:
            return model.model_validate_json(response.content)
        except ValidationError as err:
            # The partner answered 2xx with something we do not understand: retrying will not
            # change that, and guessing would be worse.
            raise business_error(
                self.partner, f"unexpected {method} {path} response: {err}", type="PartnerContract"
            ) from err
