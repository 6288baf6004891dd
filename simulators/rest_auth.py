"""Authentication middlewares of the REST simulators.

Guarantees: credentials are compared in constant time and never logged; a failure raises
:class:`~simulators.rest.HttpError` ``401`` (rendered in the partner's shape by the error
middleware) with a ``WWW-Authenticate`` challenge where the scheme has one; paths under
``/_sim/`` and the given public prefixes skip authentication.
"""

import base64
import binascii
import hmac
from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import SecretStr

from simulators.rest import SIM_PREFIX, HttpError


def bearer_auth_middleware(api_key: SecretStr, realm: str, code: str) -> Middleware:
    """Require ``Authorization: Bearer <api_key>`` outside ``/_sim/``; else 401."""
    expected = api_key.get_secret_value().encode("utf-8")

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(SIM_PREFIX):
            return await handler(request)
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode("utf-8"), expected
        ):
            err = HttpError(401, code, "Missing or invalid bearer token")
            err.headers["WWW-Authenticate"] = f'Bearer realm="{realm}"'
            raise err
        return await handler(request)

    return middleware


def basic_auth_middleware(
    api_key: SecretStr, realm: str, public_prefixes: Sequence[str] = ()
) -> Middleware:
    """Require HTTP Basic with ``api_key`` as user name and an empty password; else 401."""
    expected = api_key.get_secret_value().encode("utf-8")

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith((SIM_PREFIX, *public_prefixes)):
            return await handler(request)
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        user, password = b"", b"?"
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(encoded.strip(), validate=True).partition(b":")
            except (binascii.Error, ValueError):
                user, password = b"", b"?"
        if password != b"" or not hmac.compare_digest(user, expected):
            err = HttpError(
                401, "APIKEY.INVALID", "Missing or invalid API key (HTTP Basic, key as user)"
            )
            err.headers["WWW-Authenticate"] = f'Basic realm="{realm}"'
            raise err
        return await handler(request)

    return middleware


def header_key_middleware(
    header: str, api_key: SecretStr, code: str, public_prefixes: Sequence[str] = ()
) -> Middleware:
    """Require the API key in header ``header`` (e.g. ``DHL-API-Key``); else 401."""
    expected = api_key.get_secret_value().encode("utf-8")

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith((SIM_PREFIX, *public_prefixes)):
            return await handler(request)
        given = request.headers.get(header, "").strip().encode("utf-8")
        if not hmac.compare_digest(given, expected):
            raise HttpError(401, code, f"Missing or invalid {header} header")
        return await handler(request)

    return middleware
