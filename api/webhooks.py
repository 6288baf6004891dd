"""``POST /v1/webhooks/{partner}``: verify, normalize, route and signal partner milestones.

Order of checks: unknown partner 404 → body too large 413 → bad signature 401 → not JSON 400 →
not the partner's shape 422 → no such shipment 404. A 2xx means every event was signalled; a
redelivery of the same partner event is recorded once by the workflow.
"""

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from aiohttp import web
from sqlalchemy.engine import Engine
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.problems import problem
from api.settings import ApiSettings
from api.signatures import verify_broker, verify_easypost
from canonical.dialects import MalformedPayload, normalize
from canonical.dialects.normalized import NormalizedWebhook
from store.tracking import shipment_for_tracking
from workflows.shipment import ShipmentWorkflow


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
    def __init__(self, partners: dict[str, WebhookPartner], client: Client, store: Engine) -> None:
        self._partners = partners
        self._client = client
        self._store = store

    def add_to(self, app: web.Application) -> None:
        app.router.add_post("/v1/webhooks/{partner}", self.receive)

    async def receive(self, request: web.Request) -> web.Response:
        partner = self._partners.get(request.match_info["partner"])
        if partner is None:
            return problem(
                404, "Unknown partner", f"no webhook partner {request.match_info['partner']!r}"
            )
        body = await request.read()
        if not partner.verify(request.headers, body):
            return problem(401, "Invalid signature", f"the {partner.name} signature does not match")
        try:
            normalized = normalize(partner.name, body, received_at=datetime.now(UTC))
        except MalformedPayload as err:
            status, title = (400, "Malformed JSON") if err.not_json else (422, "Invalid payload")
            return problem(status, title, str(err))
        if not normalized.events:
            return web.json_response({"received": 0})
        shipment_id = await self._route(partner.name, normalized)
        if shipment_id is None:
            refs = normalized.references.model_dump(exclude_none=True)
            return problem(404, "Unknown shipment", f"no shipment matches {partner.name} {refs}")
        handle = self._client.get_workflow_handle(shipment_id)
        try:
            for event in normalized.events:
                routed = event.model_copy(update={"shipment_id": shipment_id})
                await handle.signal(ShipmentWorkflow.event, routed)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                return problem(404, "Unknown shipment", f"shipment {shipment_id} is not running")
            raise
        return web.json_response({"received": len(normalized.events), "shipment_id": shipment_id})

    async def _route(self, partner: str, normalized: NormalizedWebhook) -> str | None:
        """Our shipment id for a payload: echoed by the partner, or through a tracking link."""
        references = normalized.references
        if references.shipment_id:
            return references.shipment_id
        if references.tracking_number:
            return await asyncio.to_thread(
                shipment_for_tracking, self._store, partner, references.tracking_number
            )
        return None
