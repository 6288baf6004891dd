"""Finance notification: a Slack-compatible message to the finance webhook sink."""

import httpx

from activities.errors import new_http_client
from activities.rest import RestPartner

PARTNER = "finance"


class FinanceNotifier:
    def __init__(
        self, url: str, *, timeout_s: float = 10.0, http: httpx.AsyncClient | None = None
    ) -> None:
        self._rest = RestPartner(PARTNER, http or new_http_client(url, timeout_s=timeout_s))

    async def aclose(self) -> None:
        await self._rest.aclose()

    async def invoice_posted(
        self, *, text: str, details: dict[str, str], idempotency_key: str
    ) -> None:
        body = {
            "text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
            "borderflow": {"event": "invoice.posted", **details},
        }
        await self._rest.send("POST", "/hooks/finance", json=body, idempotency_key=idempotency_key)
