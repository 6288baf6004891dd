"""``POST /v1/webhooks/{partner}``: verify, store durably, then signal partner events.

Order of checks: unknown partner 404 → body too large 413 → bad signature 401 (checked on the
raw body, before anything parses it) → over the partner's rate 429 (counted only once the
signature holds, so nobody else can use up a partner's rate) → not JSON, or JSON nested deeper
than ``MAX_JSON_DEPTH`` (64) levels, 400 (the depth is measured by a flat scan of the bytes
before any decoder runs, so no body can exhaust the decoder's recursion). Then the payload
is stored in the inbox before any 2xx is sent:
- a payload that is not the partner's shape is kept as a dead letter and answered 422;
- a redelivery (same partner and dedupe key) is answered 200 and signals nothing;
- otherwise delivery is tried at once: 200 when every event was signalled, 202 when the
  payload is stored and will be delivered by the redelivery loop (Temporal down, shipment not
  known yet) or was kept as a dead letter. Either way the partner need not send it again.

A delivered webhook costs one write before its answer, the INSERT that stores it; its
shipment is usually found in memory (``api/partner_scope.py``) and its DELIVERED outcome is
recorded just after the answer, batched with others' (``api/inbox_delivery.py``).
"""

import asyncio
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy.engine import Engine

from api.inbox_delivery import InboxDelivery
from api.limits import RateLimiter, too_many
from api.problems import problem
from api.settings import ApiSettings
from api.signatures import verify_broker, verify_easypost
from canonical.dialects import MalformedPayload, normalize
from canonical.milestones import Milestone
from observability.metrics import record_unmapped
from store.inbox import InboxState, store_message


@dataclass(frozen=True)
class WebhookPartner:
    name: str
    verify: Callable[[Mapping[str, str], bytes], bool]


def webhook_partners(settings: ApiSettings) -> dict[str, WebhookPartner]:
    easypost_secret = settings.easypost_webhook_secret.get_secret_value()
    broker_secret = settings.broker_webhook_secret.get_secret_value()
    return {
        "easypost": WebhookPartner(
            "easypost", lambda headers, body: verify_easypost(easypost_secret, headers, body)
        ),
        "broker": WebhookPartner(
            "broker",
            lambda headers, body: verify_broker(
                broker_secret, headers, body, tolerance_s=settings.webhook_tolerance_s
            ),
        ),
    }


class WebhookRoutes:
    def __init__(
        self, partners: dict[str, WebhookPartner], delivery: InboxDelivery, store: Engine,
        rate: RateLimiter | None = None,
    ) -> None:  # fmt: skip
        self._partners = partners
        self._delivery = delivery
        self._store = store
        self._rate = rate

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/v1/webhooks/{partner}", self.receive)

    async def receive(self, request: web.Request) -> web.Response:
        name = request.match_info["partner"]
        partner = self._partners.get(name)
        if partner is None:
            return problem(404, "Unknown partner", f"no webhook partner {name!r}")
        body = await request.read()
        if not partner.verify(request.headers, body):
            return problem(401, "Invalid signature", f"the {partner.name} signature does not match")
        wait_s = self._rate.wait_for(partner.name) if self._rate else 0.0
        if wait_s > 0:
            return too_many(f"partner {partner.name}", wait_s)
        headers = dict(request.headers)
        try:
            normalized = normalize(partner.name, body, received_at=datetime.now(UTC))
        except MalformedPayload as err:
            if err.not_json:
                return problem(400, "Malformed JSON", str(err))
            key = "body:" + hashlib.sha256(body).hexdigest()
            dead, _ = await asyncio.to_thread(
                store_message, self._store, partner=partner.name, dedupe_key=key,
                headers=headers, body=body, state=InboxState.DEAD, reason=f"not understood: {err}",
            )  # fmt: skip
            return problem(422, "Invalid payload", str(err), inbox_id=dead.id)
        message, new = await asyncio.to_thread(
            store_message, self._store, partner=partner.name,
            dedupe_key=normalized.dedupe_key, headers=headers, body=body,
        )  # fmt: skip
        if not new:
            return web.json_response(
                {"inbox_id": message.id, "duplicate": True, "state": message.state}
            )
        unmapped = [e for e in normalized.events if e.milestone is Milestone.UNKNOWN]
        record_unmapped(partner.name, len(unmapped))
        state = await self._delivery.deliver(message, normalized)
        status = 200 if state in (InboxState.DELIVERED, InboxState.IGNORED) else 202
        return web.json_response(
            {"inbox_id": message.id, "duplicate": False, "state": state,
             "received": len(normalized.events)},
            status=status,
        )  # fmt: skip
