"""``POST /v1/webhooks/{partner}``: verify, store durably, then signal partner events.

The partners and how each authenticates are declared in ``api/webhook_partners.py`` (from
the partner registry, plugins included); their verifiers are ``api/webhook_auth.py``'s. A
payload is normalized by partner name, as the inbox's redelivery does. Order of checks:
unknown (or unconfigured) partner 404 → client address outside the partner's sources 403
(before the body is read) → body too large 413 → bad signature or token 401 (checked on the
raw body, before anything parses it, against each of the partner's valid secrets) → over the
partner's rate 429 (counted only once the signature holds, so nobody else can use up a
partner's rate) → not JSON, or JSON nested deeper than ``MAX_JSON_DEPTH`` (64) levels, 400
(the depth is measured by a flat scan of the bytes before any decoder runs, so no body can
exhaust the decoder's recursion). Then the payload is stored in the inbox (without a header
that carries the secret itself) before any 2xx is sent:
- a payload that is not the partner's shape is kept as a dead letter and answered 422;
- a redelivery (same partner and dedupe key) is answered 200 and signals nothing;
- otherwise delivery is tried at once: 200 when every event was signalled, 202 when the
  payload is stored and will be delivered by the redelivery loop (Temporal down, shipment not
  known yet) or was kept as a dead letter. Either way the partner need not send it again.

A delivered webhook costs one write before its answer, the INSERT that stores it. Concurrent
webhooks share one transaction (a group commit, :meth:`InboxDelivery.store`): each waits for
the commit of the transaction holding its row, and is answered only after it (a failed commit
answers each of them an error, never a 2xx). Its shipment is usually found in memory
(``api/partner_scope.py``) and its DELIVERED outcome is recorded just after the answer, in the
writer's next transaction with others' (``api/inbox_delivery.py``).
"""

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy.engine import Engine

from api.inbox_delivery import InboxDelivery
from api.limits import Network, RateLimiter, client_ip, too_many
from api.problems import problem
from api.webhook_auth import Presented, WebhookPartner, webhook_partners
from api.webhook_partners import DECLARED, TOKEN_HEADER
from canonical.dialects import MalformedPayload, normalize
from canonical.milestones import Milestone
from observability.metrics import record_unmapped
from store.inbox import InboxState, NewMessage

__all__ = ["WebhookPartner", "WebhookRoutes", "webhook_partners"]

CREDENTIALS = frozenset({TOKEN_HEADER.lower()})
"""Headers that carry a partner's secret itself: never stored with the payload."""


class WebhookRoutes:
    def __init__(
        self, partners: dict[str, WebhookPartner], delivery: InboxDelivery, store: Engine,
        rate: RateLimiter | None = None, trusted_proxies: Sequence[Network] = (),
    ) -> None:  # fmt: skip
        self._partners = partners
        self._trusted = tuple(trusted_proxies)
        self._delivery = delivery
        self._store = store
        self._rate = rate

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/v1/webhooks/{partner}", self.receive)

    async def receive(self, request: web.Request) -> web.Response:
        name = request.match_info["partner"]
        partner = self._partners.get(name)
        if partner is None:
            why = "is not configured here" if name in DECLARED else "does not exist"
            return problem(404, "Unknown partner", f"webhook partner {name!r} {why}")
        if not partner.allows(client_ip(request, self._trusted)):
            return problem(403, "Source not allowed", f"not a {partner.name} source address")
        body = await request.read()
        if not partner.verify(Presented(request.headers, request.query, body)):
            return problem(401, "Invalid signature", f"the {partner.name} signature does not match")
        wait_s = self._rate.wait_for(partner.name) if self._rate else 0.0
        if wait_s > 0:
            return too_many(f"partner {partner.name}", wait_s)
        headers = {k: v for k, v in dict(request.headers).items() if k.lower() not in CREDENTIALS}
        try:
            normalized = normalize(partner.name, body, received_at=datetime.now(UTC))
        except MalformedPayload as err:
            if err.not_json:
                return problem(400, "Malformed JSON", str(err))
            key = "body:" + hashlib.sha256(body).hexdigest()
            dead, _ = await self._delivery.store(NewMessage(
                partner.name, key, headers, body, InboxState.DEAD, f"not understood: {err}"
            ))  # fmt: skip
            return problem(422, "Invalid payload", str(err), inbox_id=dead.id)
        message, new = await self._delivery.store(
            NewMessage(partner.name, normalized.dedupe_key, headers, body)
        )
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
