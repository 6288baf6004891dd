"""Authentication middlewares of the REST simulators.

Guarantees: credentials are compared in constant time and never logged; a failure raises
:class:`~simulators.rest.HttpError` ``401`` (rendered in the partner's shape by the error
middleware) with a ``WWW-Authenticate`` challenge where the scheme has one; paths under
``/_sim/`` and the given public prefixes skip authentication.
"""

import base64
import binascii
import hmac
from collections.abc import Callable, Sequence

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware
from pydantic import SecretStr

from simulators.rest import SIM_PREFIX, HttpError


def _guard(
    allowed: Callable[[web.Request], bool],
    refusal: Callable[[], HttpError],
    public_prefixes: Sequence[str] = (),
) -> Middleware:
    """Raise ``refusal()`` for a request not ``allowed``, outside ``/_sim/`` and the prefixes."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith((SIM_PREFIX, *public_prefixes)) and not allowed(request):
            raise refusal()
        return await handler(request)

    return middleware


def _challenge(code: str, message: str, scheme: str, realm: str) -> Callable[[], HttpError]:
    def refusal() -> HttpError:
        err = HttpError(401, code, message)
        err.headers["WWW-Authenticate"] = f'{scheme} realm="{realm}"'
        return err

    return refusal


def bearer_auth_middleware(api_key: SecretStr, realm: str, code: str) -> Middleware:
    """Require ``Authorization: Bearer <api_key>`` outside ``/_sim/``; else 401."""
    expected = api_key.get_secret_value().encode("utf-8")

    def allowed(request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode("utf-8"), expected
        )

    return _guard(allowed, _challenge(code, "Missing or invalid bearer token", "Bearer", realm))


def basic_auth_middleware(
    api_key: SecretStr, realm: str, public_prefixes: Sequence[str] = ()
) -> Middleware:
    """Require HTTP Basic with ``api_key`` as user name and an empty password; else 401."""
    expected = api_key.get_secret_value().encode("utf-8")

    def allowed(request: web.Request) -> bool:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        user, password = b"", b"?"
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(encoded.strip(), validate=True).partition(b":")
            except (binascii.Error, ValueError):
                user, password = b"", b"?"
        return password == b"" and hmac.compare_digest(user, expected)

    refusal = _challenge(
        "APIKEY.INVALID", "Missing or invalid API key (HTTP Basic, key as user)", "Basic", realm
    )
    return _guard(allowed, refusal, public_prefixes)


def header_key_middleware(
    header: str, api_key: SecretStr, code: str, public_prefixes: Sequence[str] = ()
) -> Middleware:
    """Require the API key in header ``header`` (e.g. ``DHL-API-Key``); else 401."""
    expected = api_key.get_secret_value().encode("utf-8")

    def allowed(request: web.Request) -> bool:
        given = request.headers.get(header, "").strip().encode("utf-8")
        return hmac.compare_digest(given, expected)

    def refusal() -> HttpError:
        return HttpError(401, code, f"Missing or invalid {header} header")

    return _guard(allowed, refusal, public_prefixes)
