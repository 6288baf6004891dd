"""The codec server over real HTTP: auth on every request, roles, CORS, the protocol's JSON."""

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from pydantic import SecretStr
from temporalio.api.common.v1 import Payload
from tests_support import free_port, migrated_engine

from store.tokens import Role, create_token, revoke_token
from workers.codec import EncryptionCodec, Keyring, generate_key
from workers.codec_server import CodecServerSettings, create_codec_app

UI = "http://localhost:8233"
K1, K2 = generate_key(), generate_key()
CLEAR = b'{"order_ref": "S00042", "customer": "Acme Import Ltd"}'


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def plain_payloads() -> dict:
    return {"payloads": [{"metadata": {"encoding": b64(b"json/plain")}, "data": b64(CLEAR)}]}


@dataclass
class Server:
    url: str
    tokens: dict[str, str]
    revoked: str
    codec: EncryptionCodec


async def start(tmp_path: Path, **extra: object) -> tuple[Server, web.AppRunner]:
    database_url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = migrated_engine(database_url)
    tokens = {role.value: create_token(engine, role, f"test {role}")[1] for role in Role}
    revoked_row, revoked = create_token(engine, Role.ADMIN, "revoked")
    revoke_token(engine, revoked_row.id)
    engine.dispose()
    port = free_port()
    settings = CodecServerSettings(
        codec_port=port, codec_cors_origins=f"{UI}, http://127.0.0.1:8233",
        database_url=database_url, encryption_keys=SecretStr(f"k2:{K2},k1:{K1}"), **extra,
    )  # fmt: skip
    codec = EncryptionCodec(Keyring.parse(f"k2:{K2},k1:{K1}"))
    runner = web.AppRunner(create_codec_app(settings, codec), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return Server(f"http://127.0.0.1:{port}", tokens, revoked, codec), runner


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    running, runner = await start(tmp_path)
    yield running
    await runner.cleanup()


@pytest.fixture
async def path_token_server(tmp_path: Path) -> AsyncIterator[Server]:
    running, runner = await start(tmp_path, codec_allow_path_token=True, codec_cookie_secure=False)
    yield running
    await runner.cleanup()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def encrypted(server: Server) -> dict:
    async with httpx.AsyncClient() as http:
        reply = await http.post(
            f"{server.url}/encode", json=plain_payloads(), headers=bearer(server.tokens["ops"])
        )
    assert reply.status_code == 200, reply.text
    return reply.json()


@pytest.mark.parametrize("path", ["/decode", "/encode"])
async def test_no_token_bad_token_revoked_token_are_401(server: Server, path: str) -> None:
    async with httpx.AsyncClient() as http:
        for headers in ({}, bearer("bf_nope.nope"), bearer(server.revoked), {"Authorization": "x"}):
            reply = await http.post(f"{server.url}{path}", json=plain_payloads(), headers=headers)
            assert reply.status_code == 401, headers
            assert reply.headers["WWW-Authenticate"].startswith("Bearer")
            assert reply.headers["Content-Type"].startswith("application/problem+json")


async def test_every_role_decodes_only_ops_and_admin_encode(server: Server) -> None:
    body = await encrypted(server)
    [sealed] = body["payloads"]
    assert base64.b64decode(sealed["metadata"]["encoding"]) == b"binary/encrypted"
    assert base64.b64decode(sealed["metadata"]["encryption-key-id"]) == b"k2"
    assert b"S00042" not in base64.b64decode(sealed["data"])
    async with httpx.AsyncClient() as http:
        for role in ("support", "ops", "finance", "admin"):
            reply = await http.post(
                f"{server.url}/decode", json=body, headers=bearer(server.tokens[role])
            )
            assert reply.status_code == 200, (role, reply.text)
            [clear] = reply.json()["payloads"]
            assert base64.b64decode(clear["data"]) == CLEAR
            assert base64.b64decode(clear["metadata"]["encoding"]) == b"json/plain"
        for role in ("support", "finance"):
            reply = await http.post(
                f"{server.url}/encode", json=plain_payloads(), headers=bearer(server.tokens[role])
            )
            assert reply.status_code == 403, role


async def test_preflight_answers_the_ui_origin_only(server: Server) -> None:
    ask = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
    }
    async with httpx.AsyncClient() as http:
        reply = await http.options(f"{server.url}/decode", headers={"Origin": UI, **ask})
        assert reply.status_code == 204
        assert reply.headers["Access-Control-Allow-Origin"] == UI
        assert reply.headers["Access-Control-Allow-Credentials"] == "true"
        assert "POST" in reply.headers["Access-Control-Allow-Methods"]
        allowed = {
            h.strip().lower() for h in reply.headers["Access-Control-Allow-Headers"].split(",")
        }
        assert {"authorization", "content-type", "x-namespace"} <= allowed

        other = await http.options(
            f"{server.url}/decode", headers={"Origin": "https://evil.example", **ask}
        )
        assert other.status_code == 403
        assert "Access-Control-Allow-Origin" not in other.headers


async def test_a_decode_from_the_ui_carries_cors_headers_even_when_refused(server: Server) -> None:
    body = await encrypted(server)
    async with httpx.AsyncClient() as http:
        ok = await http.post(
            f"{server.url}/decode", json=body,
            headers={"Origin": UI, "X-Namespace": "default", **bearer(server.tokens["support"])},
        )  # fmt: skip
        refused = await http.post(f"{server.url}/decode", json=body, headers={"Origin": UI})
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == UI
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == UI


async def test_tampered_or_unknown_key_is_422_with_the_reason(server: Server) -> None:
    body = await encrypted(server)
    data = bytearray(base64.b64decode(body["payloads"][0]["data"]))
    data[-1] ^= 1
    body["payloads"][0]["data"] = b64(bytes(data))
    foreign = EncryptionCodec(Keyring.parse(f"k9:{generate_key()}")).encrypt(Payload(data=CLEAR))
    foreign_body = {
        "payloads": [
            {
                "metadata": {k: b64(v) for k, v in foreign.metadata.items()},
                "data": b64(foreign.data),
            }
        ]
    }
    async with httpx.AsyncClient() as http:
        headers = bearer(server.tokens["support"])
        tampered = await http.post(f"{server.url}/decode", json=body, headers=headers)
        unknown = await http.post(f"{server.url}/decode", json=foreign_body, headers=headers)
    assert tampered.status_code == 422 and "does not authenticate" in tampered.json()["detail"]
    assert unknown.status_code == 422 and "'k9'" in unknown.json()["detail"]
    assert K1 not in unknown.text and K2 not in unknown.text


async def test_malformed_bodies_are_400_and_other_media_types_415(server: Server) -> None:
    headers = bearer(server.tokens["support"])
    async with httpx.AsyncClient() as http:
        not_payloads = await http.post(f"{server.url}/decode", json={"x": 1}, headers=headers)
        bad_payload = await http.post(
            f"{server.url}/decode", json={"payloads": [{"metadata": "x"}]}, headers=headers
        )
        not_json = await http.post(
            f"{server.url}/decode", content=b"{",
            headers={**headers, "Content-Type": "application/json"},
        )  # fmt: skip
        text = await http.post(
            f"{server.url}/decode", content=b"{}", headers={**headers, "Content-Type": "text/plain"}
        )
    assert [r.status_code for r in (not_payloads, bad_payload, not_json)] == [400, 400, 400]
    assert text.status_code == 415


async def test_path_token_only_when_enabled(server: Server, path_token_server: Server) -> None:
    body = await encrypted(server)
    async with httpx.AsyncClient() as http:
        disabled = await http.post(f"{server.url}/t/{server.tokens['support']}/decode", json=body)
        token = path_token_server.tokens["support"]
        enabled = await http.post(f"{path_token_server.url}/t/{token}/decode", json=body)
        wrong = await http.post(f"{path_token_server.url}/t/bf_no.no/decode", json=body)
        encode = await http.post(f"{path_token_server.url}/t/{token}/encode", json=body)
    assert disabled.status_code == 401
    assert enabled.status_code == 200
    assert base64.b64decode(enabled.json()["payloads"][0]["data"]) == CLEAR
    assert wrong.status_code == 401
    assert encode.status_code in (404, 405)  # a path token never encodes


async def test_login_cookie_works_only_from_an_allowed_origin(path_token_server: Server) -> None:
    server = path_token_server
    body = await encrypted(server)
    async with httpx.AsyncClient() as http:
        own = {"Origin": server.url}  # the codec server's own /login form
        bad = await http.post(f"{server.url}/login", data={"token": "bf_no.no"}, headers=own)
        assert bad.status_code == 401 and "set-cookie" not in bad.headers
        login = await http.post(
            f"{server.url}/login", data={"token": server.tokens["finance"]}, headers=own
        )
        assert login.status_code == 200
        cookie = login.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert http.cookies.get("borderflow_codec")  # the client's jar sends it from now on
        from_ui = await http.post(f"{server.url}/decode", json=body, headers={"Origin": UI})
        from_elsewhere = await http.post(
            f"{server.url}/decode", json=body,
            headers={"Origin": "https://evil.example"},
        )  # fmt: skip
        no_origin = await http.post(f"{server.url}/decode", json=body)
    assert from_ui.status_code == 200
    assert from_elsewhere.status_code == 401 and no_origin.status_code == 401


async def test_login_is_refused_from_another_site_or_without_origin(server: Server) -> None:
    token = {"token": server.tokens["codec"]}
    port = server.url.rsplit(":", 1)[1]
    async with httpx.AsyncClient() as http:
        refused = [
            await http.post(f"{server.url}/login", data=token, headers=headers)
            for headers in (
                {},  # neither Origin nor Referer
                {"Origin": "https://evil.example"},
                {"Origin": "null"},  # a sandboxed frame or a data: page
                {"Referer": "https://evil.example/attack.html"},
                {"Origin": f"http://evil.example:{port}"},  # same port, another host
                {"Origin": "https://evil.example", "Referer": f"{server.url}/login"},
            )
        ]
        accepted = [
            await http.post(f"{server.url}/login", data=token, headers=headers)
            for headers in (
                {"Origin": server.url},
                {"Referer": f"{server.url}/login"},  # a browser that sent no Origin
                {"Origin": UI},  # an allowed UI origin
            )
        ]
    for reply in refused:
        assert reply.status_code == 403, reply.request.headers
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert "set-cookie" not in reply.headers
    for reply in accepted:
        assert reply.status_code == 200, (reply.request.headers, reply.text)
        assert "borderflow_codec=" in reply.headers["set-cookie"]


async def test_a_codec_token_decodes_and_signs_in_but_never_encodes(server: Server) -> None:
    body = await encrypted(server)
    codec = bearer(server.tokens["codec"])
    async with httpx.AsyncClient() as http:
        decoded = await http.post(f"{server.url}/decode", json=body, headers=codec)
        encode = await http.post(f"{server.url}/encode", json=plain_payloads(), headers=codec)
    assert decoded.status_code == 200
    assert base64.b64decode(decoded.json()["payloads"][0]["data"]) == CLEAR
    assert encode.status_code == 403 and "codec role" in encode.json()["detail"]


async def test_healthz_is_public_and_names_only_the_current_key_id(server: Server) -> None:
    async with httpx.AsyncClient() as http:
        reply = await http.get(f"{server.url}/healthz")
    assert reply.status_code == 200 and reply.json()["current_key"] == "k2"
    assert K2 not in reply.text
