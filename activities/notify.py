"""Notifications to people: ops, finance and the account team.

Each notification is posted as Slack-compatible JSON (``text`` + ``blocks``) to its channel's
webhook, with an email-ready rendering (``email.subject`` / ``email.text``) alongside, so the
same payload can feed a chat channel or a mail gateway. Sends carry an ``Idempotency-Key``: a
retried send is acknowledged, not shown twice.
"""

from enum import StrEnum

import httpx
from pydantic import BaseModel

from activities.errors import new_http_client
from activities.rest import RestPartner


class Channel(StrEnum):
    OPS = "ops"
    FINANCE = "finance"
    ACCOUNT = "account"


class Notification(BaseModel):
    channel: Channel
    event: str
    """What happened, dotted: ``invoice.posted``, ``sla.booking.breach``, …"""
    shipment_id: str
    order_ref: str
    title: str
    text: str
    details: dict[str, str] = {}

    def slack(self) -> dict[str, object]:
        facts = "\n".join(f"*{key}*: {value}" for key, value in self.details.items())
        return {
            "text": f"{self.title}: {self.text}",
            "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": self.title}},
                {"type": "section", "text": {"type": "mrkdwn", "text": self.text}},
                *([{"type": "section", "text": {"type": "mrkdwn", "text": facts}}] if facts
                  else []),
            ],
            "email": self.email(),
            "borderflow": {
                "event": self.event, "shipment_id": self.shipment_id,
                "order_ref": self.order_ref, **self.details,
            },
        }  # fmt: skip

    def email(self) -> dict[str, str]:
        lines = [self.text, "", *(f"{key}: {value}" for key, value in self.details.items())]
        return {"subject": f"[Borderflow] {self.title} ({self.order_ref})",
                "text": "\n".join(lines)}  # fmt: skip


class Notifier:
    """Posts notifications to ``{base_url}/hooks/{channel}``."""

    def __init__(
        self, base_url: str, *, timeout_s: float = 10.0, http: httpx.AsyncClient | None = None
    ) -> None:
        self._rest = RestPartner(
            "notify", http or new_http_client(base_url, timeout_s=timeout_s, partner="notify")
        )

    async def aclose(self) -> None:
        await self._rest.aclose()

    async def send(self, notification: Notification, *, idempotency_key: str) -> None:
        await self._rest.send(
            "POST", f"/hooks/{notification.channel.value}", json=notification.slack(),
            idempotency_key=idempotency_key,
        )  # fmt: skip
