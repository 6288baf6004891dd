"""Every declared webhook partner, through the live API: its vendor-format payload, signed the
vendor's way, is stored and delivered; a forged or missing credential is a 401 problem; during
a rotation the previous secret is accepted and a retired one refused; source limits hold.

One API serves this module with every partner's secret rotated: ``NEW`` current, ``OLD``
still accepted (``_previous``), ``RETIRED`` valid before ``OLD`` and now refused.
"""

import base64
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from api_support import start_shipment
from live import WEBHOOK_SECRET, LiveApi, Stack
from temporalio.client import Client
from test_api_webhook_delivery import events_of
from vendor_webhooks import PAYLOADS, Credentials, credentials, partner_of, post, vendor_payload

from api.webhook_partners import WEBHOOK_PARTNERS, WebhookDeclaration
from store.inbox import get_message
from store.tracking import link_tracking

DECLARATIONS = {d.name: d for d in WEBHOOK_PARTNERS}
REFERENCE_PARTNERS = {"broker", "tms"}
"""Partners that name our shipment; the carriers and aggregators name their tracking number."""
UNROUTED = {"dcsa"}
"""DCSA names bookings and transport documents, which no shipment is linked by yet: its
payloads are stored and wait (202) rather than signalled."""


def secret(declaration: WebhookDeclaration, generation: str) -> str:
    text = f"{declaration.name}-{generation}-secret"
    if declaration.base64_secret:
        return base64.b64encode(text.encode().ljust(64, b"#")).decode()
    return text


def rotated() -> dict[str, str]:
    settings: dict[str, str] = {}
    for declaration in WEBHOOK_PARTNERS:
        settings[declaration.secret_setting] = secret(declaration, "NEW")
        settings[declaration.previous_setting] = secret(declaration, "OLD")
    return settings


@pytest.fixture(scope="module")
def rotating(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> LiveApi:
    database = tmp_path_factory.mktemp("rotating") / "store.db"
    return stack.serve_api(f"sqlite:///{database}", **rotated())


@pytest.fixture
async def http(rotating: LiveApi) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=rotating.url, timeout=30) as client:
        yield client


def assert_problem(reply: httpx.Response, status: int, title: str) -> dict[str, Any]:
    assert reply.status_code == status, reply.text
    assert reply.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = reply.json()
    assert problem["status"] == status and problem["title"] == title, problem
    return problem


async def addressed(api: LiveApi, temporal: Client, kind: str) -> tuple[Any, Any]:
    """A running shipment and a fresh payload of ``kind`` that names it (linked as the booking
    step links a carrier's tracking number)."""
    shipment = await start_shipment(temporal)
    partner = partner_of(kind)
    payload = vendor_payload(kind, shipment.id if partner in REFERENCE_PARTNERS else None)
    if partner not in REFERENCE_PARTNERS and payload.references.tracking_number:
        link_tracking(api.store, partner, payload.references.tracking_number, shipment.id)
    return shipment, payload


@pytest.mark.parametrize("kind", list(PAYLOADS))
async def test_a_vendor_signed_payload_is_stored_and_delivered(
    rotating: LiveApi, http: httpx.AsyncClient, temporal: Client, kind: str
) -> None:
    partner = partner_of(kind)
    shipment, payload = await addressed(rotating, temporal, kind)
    creds = credentials(partner, payload.body, secret(DECLARATIONS[partner], "NEW"))
    reply = await post(http, partner, payload.body, creds)
    receipt = reply.json()
    assert reply.status_code == (202 if partner in UNROUTED else 200), reply.text
    assert receipt["received"] == payload.events and receipt["duplicate"] is False
    stored = get_message(rotating.store, receipt["inbox_id"])
    assert stored is not None and stored.partner == partner and stored.body == payload.body
    # a header that carries the secret itself is not kept with the payload
    assert all(k.lower() != "x-webhook-token" for k in json.loads(stored.headers))
    if partner in UNROUTED:
        assert receipt["state"] == "received"
        return
    assert receipt["state"] == "delivered"
    events = await events_of(http, rotating, shipment.id, payload.events)
    assert len(events) == payload.events
    assert {e["source"]["partner"] for e in events} == {partner}
    again = await post(http, partner, payload.body, creds)  # the vendor's redelivery
    assert again.status_code == 200 and again.json()["duplicate"] is True


def forgeries(partner: str, body: bytes) -> dict[str, Credentials | None]:
    declaration = DECLARATIONS[partner]
    signed = credentials(partner, body, secret(declaration, "NEW"))
    cases: dict[str, Credentials | None] = {
        "missing": None,
        "another secret": credentials(partner, body, secret(declaration, "FORGED")),
        "garbage": Credentials({k: "v1=zz" for k in signed.headers}, {"token": "x" * 600}),
    }
    if signed.headers and declaration.scheme.endswith(("hmac", "signature")):
        # signed over other bytes: the signature does not cover what is sent
        cases["another body"] = credentials(partner, body + b" ", secret(declaration, "NEW"))
    return cases


@pytest.mark.parametrize("partner", list(DECLARATIONS))
async def test_a_forged_or_missing_credential_is_a_401_problem(
    http: httpx.AsyncClient, partner: str
) -> None:
    body = vendor_payload(partner, f"shipment-{uuid.uuid4().hex[:8]}").body
    for case, creds in forgeries(partner, body).items():
        reply = await post(http, partner, body, creds)
        problem = assert_problem(reply, 401, "Invalid signature")
        assert partner in problem["detail"], case


@pytest.mark.parametrize("partner", list(DECLARATIONS))
async def test_the_previous_secret_is_accepted_and_a_retired_one_refused(
    rotating: LiveApi, http: httpx.AsyncClient, temporal: Client, partner: str
) -> None:
    declaration = DECLARATIONS[partner]
    shipment, payload = await addressed(rotating, temporal, partner)
    old = credentials(partner, payload.body, secret(declaration, "OLD"))
    accepted = await post(http, partner, payload.body, old)
    assert accepted.status_code in (200, 202) and accepted.json()["duplicate"] is False
    if partner not in UNROUTED:
        assert accepted.json()["state"] == "delivered", accepted.text
    retired = vendor_payload(partner, shipment.id)
    creds = credentials(partner, retired.body, secret(declaration, "RETIRED"))
    assert_problem(await post(http, partner, retired.body, creds), 401, "Invalid signature")


async def test_sources_limit_where_a_partner_may_send_from_and_unset_secrets_have_no_route(
    stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    database = tmp_path_factory.mktemp("sources") / "store.db"
    api = stack.serve_api(
        f"sqlite:///{database}", aftership_webhook_secret=None,
        shippo_webhook_sources=["52.4.41.98/32", "10.0.0.0/8"],
        dhl_webhook_sources=["127.0.0.0/8"],
        tms_webhook_sources=["10.0.0.0/8"], trusted_proxies=["127.0.0.1/32"],
    )  # fmt: skip
    async with httpx.AsyncClient(base_url=api.url, timeout=30) as client:
        body = vendor_payload("shippo").body
        # not Shippo's address, whatever the token: refused before the body is read
        refused = await post(client, "shippo", body, credentials("shippo", body, "whatever"))
        assert_problem(refused, 403, "Source not allowed")
        # from a trusted proxy, for a client in the allowed network: the token decides
        via_proxy = Credentials({"X-Forwarded-For": "10.1.2.3", "X-Webhook-Token": "wrong"}, {})
        assert_problem(await post(client, "tms", body, via_proxy), 401, "Invalid signature")
        elsewhere = Credentials({"X-Forwarded-For": "192.0.2.7"}, {})
        assert_problem(await post(client, "tms", body, elsewhere), 403, "Source not allowed")
        dhl = vendor_payload("dhl")
        allowed = await post(client, "dhl", dhl.body, credentials("dhl", dhl.body, WEBHOOK_SECRET))
        assert allowed.status_code == 202, allowed.text  # stored: no shipment holds it yet
        unset = await post(client, "aftership", body, None)
        problem = assert_problem(unset, 404, "Unknown partner")
        assert "not configured" in problem["detail"]
        nobody = assert_problem(await post(client, "fedex", body, None), 404, "Unknown partner")
        assert "does not exist" in nobody["detail"]
    stack.stop_api(api)
