"""Each declared webhook partner's verifier, built once from the settings at start.

The partners are the registry's (``api/webhook_partners.py``); their settings are read
through :func:`api.settings.webhook_settings`.

Guarantees:

- a partner's webhook is accepted when it holds for **any** of its secrets: the current one
  and, during a rotation, ``_previous``; a secret in neither setting (a retired one) is
  refused. Each check is constant-time for one secret; the checks never raise;
- the source check comes before the body is read: a client address outside the partner's
  ``_sources`` networks is refused whatever it sends;
- a declared partner whose secret is unset is left out (its route answers 404); a secret that
  cannot be used (a DCSA secret that is not base64) fails the start, naming the setting.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from api.limits import Address, Network
from api.settings import ApiSettings, webhook_settings
from api.signatures import (
    dcsa_key,
    verify_aftership,
    verify_broker,
    verify_dcsa,
    verify_easypost,
    verify_token,
)
from api.webhook_partners import (
    TOKEN_HEADER,
    TOKEN_QUERY,
    WEBHOOK_PARTNERS,
    Scheme,
    WebhookDeclaration,
)


@dataclass(frozen=True)
class Presented:
    """What a webhook request shows: its headers, query and raw body."""

    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: bytes


Check = Callable[[Presented], bool]
"""One secret's check of one request."""


def _check(declaration: WebhookDeclaration, secret: str, settings: ApiSettings) -> Check:
    scheme = declaration.scheme
    if scheme is Scheme.EASYPOST_HMAC:
        return lambda r: verify_easypost(secret, r.headers, r.body)
    if scheme is Scheme.BROKER_HMAC:
        tolerance = settings.webhook_tolerance_s
        return lambda r: verify_broker(secret, r.headers, r.body, tolerance_s=tolerance)
    if scheme is Scheme.AFTERSHIP_HMAC:
        return lambda r: verify_aftership(secret, r.headers, r.body)
    if scheme is Scheme.DCSA_SIGNATURE:
        try:
            key = dcsa_key(secret)
        except ValueError as err:
            raise ValueError(f"{declaration.secret_env} (or _PREVIOUS): {err}") from None
        return lambda r: verify_dcsa(key, r.headers, r.body)
    if scheme is Scheme.HEADER_TOKEN:
        return lambda r: verify_token(secret, r.headers.get(TOKEN_HEADER, ""))
    return lambda r: verify_token(secret, r.query.get(TOKEN_QUERY, ""))


@dataclass(frozen=True)
class WebhookPartner:
    """A configured partner: its declaration, a check per valid secret, its sources."""

    declaration: WebhookDeclaration
    checks: tuple[Check, ...]
    sources: tuple[Network, ...]

    @property
    def name(self) -> str:
        return self.declaration.name

    def allows(self, address: Address | None) -> bool:
        """Whether a webhook may come from ``address`` (``None``, an unknown peer: only when
        the partner's sources include a whole address family)."""
        if address is None:
            return any(network.prefixlen == 0 for network in self.sources)
        return any(address in network for network in self.sources)

    def verify(self, presented: Presented) -> bool:
        """True when the request holds for one of the partner's secrets."""
        return any(check(presented) for check in self.checks)


def build_partner(settings: ApiSettings, declaration: WebhookDeclaration) -> WebhookPartner | None:
    """The partner as ``settings`` configure it; ``None`` when its secret is unset."""
    configured = webhook_settings(settings, declaration)
    current = configured.secret
    if current is None or not current.get_secret_value():
        return None
    secrets = [
        value.get_secret_value()
        for value in (current, configured.previous)
        if value is not None and value.get_secret_value()
    ]
    checks = tuple(_check(declaration, secret, settings) for secret in secrets)
    sources: Sequence[Network] = configured.sources
    return WebhookPartner(declaration, checks, tuple(sources))


def webhook_partners(settings: ApiSettings) -> dict[str, WebhookPartner]:
    """Every declared partner whose secret is set, by name."""
    built = (build_partner(settings, d) for d in WEBHOOK_PARTNERS)
    return {partner.name: partner for partner in built if partner is not None}


__all__ = ["Presented", "WebhookPartner", "build_partner", "webhook_partners"]
