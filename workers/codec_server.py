"""``borderflow codec-server``: the Temporal remote codec protocol over our encryption codec.

``POST /encode`` and ``POST /decode`` take and return ``{"payloads": [...]}``, the protobuf JSON
form of ``temporal.api.common.v1.Payloads`` (metadata values and data in base64), as the
Temporal Web UI and the ``temporal`` CLI (``--codec-endpoint``) send them. Only the last path
segment names the operation, so the server can sit under any prefix.

Guarantees:
- every encode/decode is authenticated and authorized (``workers/codec_auth.py``): any role
  may decode (``codec`` may only decode), ``ops`` and ``admin`` may encode;
- ``POST /login`` is answered only from the server's own page or an allowed UI origin (403
  otherwise), so no other site can sign a browser in;
- a payload that cannot be decrypted (unknown key id, altered ciphertext) fails the request
  with ``422`` naming the reason, never with a partial answer;
- a body that is not JSON, or nests deeper than ``MAX_JSON_DEPTH`` (64) levels (measured
  before it is parsed), is ``400``;
- tokens and keys are never logged: there is no access log (a path may carry a token), and
  errors are logged by route, not by path.
"""

import asyncio
import html
import json
import logging
import sys
from typing import Any

from aiohttp import web
from google.protobuf import json_format
from pydantic import Field
from pydantic_settings import SettingsConfigDict
from temporalio.api.common.v1 import Payloads

from api.limits import ClientLimitSettings, client_limits, timeout_middleware
from api.problems import problem, problem_middleware
from canonical.json_depth import MAX_JSON_DEPTH, too_deep
from store.db import make_engine
from store.migrate import require_current_schema
from workers.codec import (
    DecryptionFailed,
    EncryptionCodec,
    EncryptionSettings,
    KeyringError,
    codec_from_settings,
)
from workers.codec_auth import COOKIE, DECODERS, ENCODERS, CodecAuth
from workers.lifetime import serve_until_terminated
from workers.serving import HttpServing

SESSION_S = 8 * 3600
OPEN_ROUTES = frozenset({"/healthz"})
"""Routes that authenticate nobody: an address out of its failure budget still reaches them."""


class CodecServerSettings(EncryptionSettings, HttpServing, ClientLimitSettings):
    """Settings of the codec server (environment variables prefixed ``BORDERFLOW_``); the
    connection limits (``http_*``) are :class:`HttpServing`'s, the per-client-address ones
    (``client_*``, ``trusted_proxies``) :class:`ClientLimitSettings`'."""

    model_config = SettingsConfigDict(env_prefix="BORDERFLOW_", extra="ignore")

    codec_host: str = "127.0.0.1"
    codec_port: int = 8234
    codec_cors_origins: str = "http://localhost:8233"
    """Comma-separated browser origins of the Temporal Web UI(s) allowed to call the server."""
    codec_allow_path_token: bool = False
    """Accept the token as a path segment (``/t/<token>/decode``): the URL then is the secret
    (process lists, the UI's settings show it). ``borderflow up`` does not use it."""
    codec_cookie_secure: bool = True
    """Login cookie ``Secure; SameSite=None`` (HTTPS, any UI origin); ``False``: ``Lax`` over
    plain HTTP, which a browser sends only to a UI on the same site (e.g. localhost)."""
    codec_max_body_bytes: int = 16 * 1024 * 1024
    codec_request_timeout_s: float = Field(default=30.0, gt=0)
    """A request (its body included) still running after this long is answered 504."""
    database_url: str = "sqlite:///.data/borderflow.db"
    """The store holding the API tokens."""

    def origins(self) -> frozenset[str]:
        return frozenset(o.strip().rstrip("/") for o in self.codec_cors_origins.split(",") if o)


def _payloads(body: Any) -> Payloads:
    if not isinstance(body, dict) or not isinstance(body.get("payloads"), list):
        raise ValueError('the body must be {"payloads": [...]}')
    return json_format.ParseDict(body, Payloads())


class CodecRoutes:
    def __init__(self, codec: EncryptionCodec, auth: CodecAuth, cookie_secure: bool) -> None:
        self.codec = codec
        self.auth = auth
        self.cookie_secure = cookie_secure

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/healthz", self.healthz)
        app.router.add_post("/encode", self.encode)
        app.router.add_post("/decode", self.decode)
        app.router.add_post("/t/{token}/decode", self.decode)
        app.router.add_get("/login", self.login_page)
        app.router.add_post("/login", self.login)
        app.router.add_post("/logout", self.logout)

    async def healthz(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "current_key": self.codec.keyring.current})

    async def encode(self, request: web.Request) -> web.Response:
        return await self._convert(request, encode=True)

    async def decode(self, request: web.Request) -> web.Response:
        return await self._convert(request, encode=False)

    async def _convert(self, request: web.Request, *, encode: bool) -> web.Response:
        token = await self.auth.token(request, ENCODERS if encode else DECODERS)
        if isinstance(token, web.Response):
            return token
        if request.content_type != "application/json":
            return problem(415, "Unsupported Media Type", "send application/json")
        body = await request.read()
        if await asyncio.to_thread(too_deep, body):
            return problem(400, "Malformed payloads", f"JSON nested deeper than {MAX_JSON_DEPTH}")
        try:
            payloads = _payloads(json.loads(body))
        except (ValueError, json_format.ParseError) as err:
            return problem(400, "Malformed payloads", str(err))
        try:
            if encode:
                await self.codec.encode_wrapper(payloads)
            else:
                await self.codec.decode_wrapper(payloads)
        except (KeyringError, DecryptionFailed) as err:
            return problem(422, "Cannot decode", str(err))
        return web.json_response(json_format.MessageToDict(payloads))

    async def login_page(self, _request: web.Request) -> web.Response:
        return web.Response(text=LOGIN_PAGE, content_type="text/html")

    async def login(self, request: web.Request) -> web.Response:
        if not self.auth.may_log_in(request):
            return problem(
                403, "Forbidden",
                "sign in from the codec server's own /login page or an allowed UI origin",
            )  # fmt: skip
        form = await request.post()
        token = str(form.get("token", "")).strip()
        row = await self.auth.verify(token, DECODERS)
        if isinstance(row, web.Response):
            return row
        page = SIGNED_IN.format(role=html.escape(row.role))
        reply = web.Response(text=page, content_type="text/html")
        reply.set_cookie(
            COOKIE, token, max_age=SESSION_S, httponly=True, path="/",
            secure=self.cookie_secure, samesite="None" if self.cookie_secure else "Lax",
        )  # fmt: skip
        return reply

    async def logout(self, _request: web.Request) -> web.Response:
        reply = web.json_response({"status": "signed out"})
        reply.del_cookie(COOKIE, path="/")
        return reply


def create_codec_app(settings: CodecServerSettings, codec: EncryptionCodec) -> web.Application:
    auth = CodecAuth(
        make_engine(settings.database_url), settings.origins(),
        path_token=settings.codec_allow_path_token,
    )  # fmt: skip
    app = web.Application(
        middlewares=[
            auth.middleware(),
            problem_middleware,
            client_limits(settings, OPEN_ROUTES),  # per client address, before any token lookup
            timeout_middleware(settings.codec_request_timeout_s),  # slow bodies too
        ],
        client_max_size=settings.codec_max_body_bytes,
    )
    CodecRoutes(codec, auth, settings.codec_cookie_secure).add_to(app)
    return app


async def serve(settings: CodecServerSettings) -> None:
    codec = codec_from_settings(settings)
    if codec is None:
        raise KeyringError("BORDERFLOW_ENCRYPTION_KEYS is not set: the codec server needs the keys")
    app = create_codec_app(settings, codec)
    await serve_until_terminated(
        app, settings.codec_host, settings.codec_port, "codec server", settings
    )


def main() -> int:
    """``python -m workers.codec_server`` (what ``borderflow codec-server`` runs)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = CodecServerSettings()
    require_current_schema(settings.database_url, "codec-server")
    try:
        asyncio.run(serve(settings))
    except KeyringError as err:
        print(f"borderflow codec-server: {err}", file=sys.stderr, flush=True)
        return 2
    return 0


LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Borderflow codec: sign in</title></head>
<body>
<h1>Borderflow codec server</h1>
<p>Paste a Borderflow API token: a <code>codec</code> token (decode only; <code>borderflow
token create --role codec</code>) or any other role. The server keeps it in an HttpOnly cookie for
8 hours, so that the Temporal Web UI (with <em>include cross-origin credentials</em>) can
decode payloads. The token is checked again on every request.</p>
<form method="post" action="login">
<input type="password" name="token" autocomplete="off" size="60" placeholder="bf_…" required>
<button type="submit">Sign in</button>
</form>
</body></html>
"""
SIGNED_IN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Signed in</title></head>
<body><p>Signed in ({role}). Go back to the Temporal Web UI.</p></body></html>
"""


if __name__ == "__main__":
    sys.exit(main())
