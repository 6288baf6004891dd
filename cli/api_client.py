"""The ops API as the ``borderflow`` commands call it: one request, its JSON, or one line.

Guarantees: the URL and bearer token come from ``cli_settings()`` (``BORDERFLOW_API_URL``,
``BORDERFLOW_API_TOKEN``, also read from the local platform's ``local.env``); a missing token,
an unreachable API and every HTTP answer of 400 or more (404 included) raise :class:`ApiError`
carrying one line (``<status> <title>: <detail>`` of the problem+json body), which the commands
print on stderr before exiting 1. Nothing else is raised for an API failure.
"""

from dataclasses import dataclass
from typing import Any

import httpx

from cli.settings import cli_settings

__all__ = ["TIMEOUT_S", "Api", "ApiError", "Reply", "problem_line"]

TIMEOUT_S = 60.0


class ApiError(Exception):
    """A failed call, as the one line the user sees."""


@dataclass(frozen=True)
class Reply:
    """A successful answer: its HTTP status (200, 201…) and its JSON body."""

    status: int
    body: Any


class Api:
    def __init__(self) -> None:
        settings = cli_settings()
        token = settings.api_token.get_secret_value() if settings.api_token else ""
        if not token:
            raise ApiError(
                "no API token: start the platform with `make run` first "
                "(or set BORDERFLOW_API_TOKEN; see `borderflow token create`)"
            )
        self._url = settings.api_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {token}"}

    def request(
        self, method: str, path: str, *, params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
    ) -> Reply:  # fmt: skip
        """The answer, or :class:`ApiError` for a failure of any kind."""
        try:
            response = httpx.request(method, f"{self._url}{path}", params=params, json=body,
                                     headers={**self._headers, **(headers or {})},
                                     timeout=TIMEOUT_S)  # fmt: skip
        except httpx.HTTPError as err:
            reason = str(err) or type(err).__name__
            raise ApiError(f"cannot reach the API at {self._url}: {reason}") from None
        if response.status_code >= 400:
            raise ApiError(problem_line(response))
        try:
            return Reply(response.status_code, response.json())
        except ValueError:
            raise ApiError(f"{response.status_code}: the API answered no JSON") from None

    def call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:  # fmt: skip
        """The answer's JSON body."""
        return self.request(method, path, params=params, body=body).body


def problem_line(response: httpx.Response) -> str:
    """``<status> <title>: <detail>`` from a problem+json answer, on one line."""
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    title = problem.get("title") or response.reason_phrase or "error"
    detail = problem.get("detail")
    line = f"{response.status_code} {title}" + (f": {detail}" if detail else "")
    return " ".join(line.split())
