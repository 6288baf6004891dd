"""Every partner that pushes webhooks, one declaration each: the route, the verifier, the
OpenAPI document and ``borderflow up``'s generated secrets all read :data:`WEBHOOK_PARTNERS`.

The source is the partner registry (:func:`canonical.partners.pushing`: the built-in partners,
then the plugins', each with a :class:`~canonical.partner_descriptor.Webhook`); this module
adds nothing to it, so a plugin partner has its route, verifier and settings with no edit
here. A declaration names the partner (its route ``POST /v1/webhooks/<name>`` and its inbox
name), the dialect that normalizes its payloads, how it authenticates (:class:`Scheme`, the
registry's) and the settings that hold its secrets. Settings follow one pattern
(``api/settings.py`` generates them from :data:`WEBHOOK_PARTNERS`):

- ``<name>_webhook_secret``: the current secret (env ``BORDERFLOW_<NAME>_WEBHOOK_SECRET``);
  required for a ``required`` partner, else the route answers 404 until it is set;
- ``<name>_webhook_secret_previous``: a second secret accepted at the same time, during a
  rotation (the one being retired, or the next one before the partner switches to it);
- ``<name>_webhook_sources``: the networks a webhook may come from (default: anywhere).

Payloads are normalized by partner name (:func:`canonical.dialects.normalize`): a built-in
partner's dialect is the ``canonical.dialects`` module of its own name; a plugin's is the
dotted path of its own module.

Pure data, no I/O beyond the registry's one read of the installed entry points: this module
may be imported by the CLI and the OpenAPI builder.
"""

from dataclasses import dataclass

from canonical.dialects import PARTNERS as DIALECTS
from canonical.partner_descriptor import Partner, Scheme
from canonical.partners import pushing


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
    """The ``canonical.dialects`` normalizer of its payloads (a built-in partner's, named as
    the partner), or a plugin's own normalizer module (a dotted module path)."""
    scheme: Scheme
    required: bool = False
    """Its secret must be set for the API to start (else the route is 404 until it is)."""
    base64_secret: bool = False
    """The secret is bytes, set base64-encoded (DCSA)."""

    def __post_init__(self) -> None:
        if "." in self.dialect:  # a plugin's own module, resolved by partner name
            return
        if self.dialect not in DIALECTS:
            raise ValueError(f"webhook partner {self.name}: no dialect {self.dialect!r}")
        if self.dialect != self.name:  # the inbox re-normalizes by partner name
            raise ValueError(f"webhook partner {self.name}: dialect must be {self.name!r}")

    @classmethod
    def of(cls, partner: Partner) -> "WebhookDeclaration":
        """The declaration of a registry partner that has a webhook."""
        if partner.webhook is None or partner.dialect is None:
            raise ValueError(f"webhook partner {partner.name}: needs a webhook and a dialect")
        webhook = partner.webhook
        return cls(
            partner.name, partner.dialect, webhook.scheme, webhook.required, webhook.base64_secret
        )

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


WEBHOOK_PARTNERS: tuple[WebhookDeclaration, ...] = tuple(
    WebhookDeclaration.of(partner) for partner in pushing()
)
"""Every partner with a webhook route, in the registry's order."""
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
