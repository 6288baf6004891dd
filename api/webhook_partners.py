"""Every partner that pushes webhooks, one declaration each: the route, the verifier, the
OpenAPI document and ``borderflow up``'s generated secrets all read :data:`WEBHOOK_PARTNERS`.

A declaration names the partner (its route ``POST /v1/webhooks/<name>`` and its inbox name),
the dialect that normalizes its payloads, how it authenticates (:class:`Scheme`) and the
settings that hold its secrets. Settings follow one pattern (``api/settings.py``), so a
declaration only names its partner:

- ``<name>_webhook_secret``: the current secret (env ``BORDERFLOW_<NAME>_WEBHOOK_SECRET``);
  required for a ``required`` partner, else the route answers 404 until it is set;
- ``<name>_webhook_secret_previous``: a second secret accepted at the same time, during a
  rotation (the one being retired, or the next one before the partner switches to it);
- ``<name>_webhook_sources``: the networks a webhook may come from (default: anywhere).

Pure data, no I/O: this module may be imported by the CLI and the OpenAPI builder.
"""

from dataclasses import dataclass
from enum import StrEnum

from canonical.dialects import PARTNERS as DIALECTS


class Scheme(StrEnum):
    """How a partner proves a webhook is its own (the vendor's documented mechanism)."""

    EASYPOST_HMAC = "easypost-hmac"
    """``X-Hmac-Signature: hmac-sha256-hex=<hex>`` over the raw body, secret NFKD-normalized."""
    BROKER_HMAC = "broker-hmac"
    """``X-Broker-Signature: t=<unix>,v1=<hex>`` over ``"<t>.<body>"``, ``t`` near now."""
    AFTERSHIP_HMAC = "aftership-hmac"
    """``aftership-hmac-sha256: <base64>`` over the raw body."""
    DCSA_SIGNATURE = "dcsa-notification-signature"
    """``Notification-Signature: sha256=<hex>`` over the raw body, key the subscription's
    secret bytes (the setting holds them base64-encoded, as the subscription does)."""
    HEADER_TOKEN = "header-token"
    """The vendor signs nothing: it sends our secret as is in the ``X-Webhook-Token`` header
    (DHL's push subscription ``ApiKeyAuthentication``; our TMS)."""
    QUERY_TOKEN = "query-token"
    """The vendor signs nothing and sends no header of ours: the secret is in the webhook URL
    we register, ``?token=<secret>`` (Shippo's "self-generated token")."""


@dataclass(frozen=True)
class SchemeDoc:
    """Where a scheme's credential travels, for the OpenAPI document."""

    location: str
    """``header`` or ``query``."""
    parameter: str
    description: str


SCHEME_DOCS: dict[Scheme, SchemeDoc] = {
    Scheme.EASYPOST_HMAC: SchemeDoc(
        "header", "X-Hmac-Signature", "`hmac-sha256-hex=<hex HMAC-SHA256(secret, raw body)>`"
    ),
    Scheme.BROKER_HMAC: SchemeDoc(
        "header",
        "X-Broker-Signature",
        '`t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, `t` within the tolerance',
    ),
    Scheme.AFTERSHIP_HMAC: SchemeDoc(
        "header", "aftership-hmac-sha256", "`<base64 HMAC-SHA256(secret, raw body)>`"
    ),
    Scheme.DCSA_SIGNATURE: SchemeDoc(
        "header",
        "Notification-Signature",
        "`sha256=<hex HMAC-SHA256(subscription secret, raw body)>` (DCSA TNT 2.2/3.0)",
    ),
    Scheme.HEADER_TOKEN: SchemeDoc(
        "header", "X-Webhook-Token", "the partner's shared secret, as is"
    ),
    Scheme.QUERY_TOKEN: SchemeDoc("query", "token", "the partner's shared secret, as is"),
}
TOKEN_HEADER = SCHEME_DOCS[Scheme.HEADER_TOKEN].parameter
TOKEN_QUERY = SCHEME_DOCS[Scheme.QUERY_TOKEN].parameter


@dataclass(frozen=True)
class WebhookDeclaration:
    """One pushing partner's webhook."""

    name: str
    """The route segment and the inbox's partner name."""
    dialect: str
    """The ``canonical.dialects`` normalizer of its payloads."""
    scheme: Scheme
    required: bool = False
    """Its secret must be set for the API to start (else the route is 404 until it is)."""
    base64_secret: bool = False
    """The secret is bytes, set base64-encoded (DCSA)."""

    def __post_init__(self) -> None:
        if self.dialect not in DIALECTS:
            raise ValueError(f"webhook partner {self.name}: no dialect {self.dialect!r}")
        if self.dialect != self.name:  # the inbox re-normalizes by partner name, for now
            raise ValueError(f"webhook partner {self.name}: dialect must be {self.name!r}")

    @property
    def secret_setting(self) -> str:
        return f"{self.name}_webhook_secret"

    @property
    def previous_setting(self) -> str:
        return f"{self.name}_webhook_secret_previous"

    @property
    def sources_setting(self) -> str:
        return f"{self.name}_webhook_sources"

    @property
    def secret_env(self) -> str:
        """The environment variable of its current secret."""
        return f"BORDERFLOW_{self.secret_setting.upper()}"


WEBHOOK_PARTNERS: tuple[WebhookDeclaration, ...] = (
    WebhookDeclaration("easypost", "easypost", Scheme.EASYPOST_HMAC, required=True),
    WebhookDeclaration("broker", "broker", Scheme.BROKER_HMAC, required=True),
    WebhookDeclaration("aftership", "aftership", Scheme.AFTERSHIP_HMAC),
    WebhookDeclaration("dcsa", "dcsa", Scheme.DCSA_SIGNATURE, base64_secret=True),
    WebhookDeclaration("shippo", "shippo", Scheme.QUERY_TOKEN),
    WebhookDeclaration("dhl", "dhl", Scheme.HEADER_TOKEN),
    WebhookDeclaration("tms", "tms", Scheme.HEADER_TOKEN),
)
"""Every partner with a webhook route, in the order the documentation lists them."""
DECLARED: frozenset[str] = frozenset(d.name for d in WEBHOOK_PARTNERS)

__all__ = [
    "DECLARED",
    "SCHEME_DOCS",
    "TOKEN_HEADER",
    "TOKEN_QUERY",
    "WEBHOOK_PARTNERS",
    "Scheme",
    "SchemeDoc",
    "WebhookDeclaration",
]
