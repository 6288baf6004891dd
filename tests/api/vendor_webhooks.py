"""Vendor-format webhook payloads (``tests/fixtures``), made unique per use, and the
credentials each vendor sends with them, computed the vendor's way (``simulators/signing.py``,
independent of the API's verifiers).

A payload keeps the fixture's bytes except its identifiers: the delivery's id (when the
vendor gives one), the tracking number or booking, and our shipment reference, each swapped
whole (a quoted JSON string), so every test sends a payload no test sent before.
"""

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from secrets import randbelow

import httpx

from canonical.dialects import PartnerReferences, normalize
from simulators.signing import sign_aftership, sign_broker, sign_dcsa, sign_easypost

FIXTURES = Path(__file__).parent.parent / "fixtures"
PAYLOADS = {
    "easypost": "easypost/delivered.json",
    "broker": "broker/held.json",
    "aftership": "aftership/tracking_update.json",
    "dcsa": "dcsa/event_v3.json",
    "dcsa-v2": "dcsa/events_v2.json",
    "shippo": "shippo/track_updated.json",
    "dhl": "dhl/delivered.json",
    "tms": "tms/picked_up.json",
}
"""One fixture per payload kind; ``dcsa-v2`` is a TNT 2.2 callback (a list of events)."""


def partner_of(kind: str) -> str:
    return kind.split("-", 1)[0]


@dataclass(frozen=True)
class Payload:
    partner: str
    body: bytes
    references: PartnerReferences
    events: int


def _fresh(value: str) -> str:
    """A new identifier shaped like ``value`` (a UUID, or its first two characters and digits)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return value[:2] + "".join(str(randbelow(10)) for _ in range(len(value) - 2))
    fresh = uuid.uuid4()
    return str(fresh) if "-" in value else fresh.hex


def vendor_payload(kind: str, shipment_id: str | None = None) -> Payload:
    """The fixture of ``kind`` with fresh identifiers (our reference set to ``shipment_id``)."""
    partner = partner_of(kind)
    text = (FIXTURES / PAYLOADS[kind]).read_text()
    original = normalize(partner, text.encode(), received_at=datetime.now(UTC))
    refs = original.references
    swaps = {
        value: _fresh(value)
        for value in (refs.tracking_number, refs.booking_reference, refs.transport_document)
        if value
    }
    if not original.dedupe_key.startswith("b:"):  # the vendor's own delivery id
        swaps[original.dedupe_key] = _fresh(original.dedupe_key)
    if refs.shipment_id and shipment_id:
        swaps[refs.shipment_id] = shipment_id
    for old, new in swaps.items():
        assert f'"{old}"' in text, (kind, old)
        text = text.replace(f'"{old}"', f'"{new}"')
    body = text.encode()
    fresh = normalize(partner, body, received_at=datetime.now(UTC))
    assert fresh.dedupe_key != original.dedupe_key
    return Payload(partner, body, fresh.references, len(fresh.events))


@dataclass(frozen=True)
class Credentials:
    headers: dict[str, str]
    params: dict[str, str]


def credentials(partner: str, body: bytes, secret: str) -> Credentials:
    """What ``partner`` sends with ``body`` when its secret is ``secret``."""
    if partner == "easypost":
        return Credentials({"X-Hmac-Signature": sign_easypost(secret, body)}, {})
    if partner == "broker":
        signed = sign_broker(secret.encode(), body, int(time.time()))
        return Credentials({"X-Broker-Signature": signed}, {})
    if partner == "aftership":
        return Credentials({"aftership-hmac-sha256": sign_aftership(secret, body)}, {})
    if partner == "dcsa":
        return Credentials({
            "Notification-Signature": sign_dcsa(secret, body),
            "Subscription-ID": str(uuid.uuid4()), "API-Version": "3.0.0",
        }, {})  # fmt: skip
    if partner == "shippo":
        return Credentials({}, {"token": secret})
    assert partner in ("dhl", "tms"), partner
    return Credentials({"X-Webhook-Token": secret}, {})


async def post(
    http: httpx.AsyncClient, partner: str, body: bytes, creds: Credentials | None
) -> httpx.Response:
    """``POST /v1/webhooks/<partner>`` with ``creds`` (``None``: with none at all)."""
    creds = creds or Credentials({}, {})
    headers = {"Content-Type": "application/json", **creds.headers}
    return await http.post(
        f"/v1/webhooks/{partner}", content=body, headers=headers, params=creds.params
    )
