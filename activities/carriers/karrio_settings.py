"""One Karrio carrier connection, as data: which Karrio extension, where, with which secrets.

A worker books through every connection listed in ``BORDERFLOW_KARRIO_CARRIERS`` (a JSON list
of :class:`KarrioConnection`); each becomes one carrier named ``name`` (``Shipment.carrier``).
Guarantees: secrets stay :class:`~pydantic.SecretStr` until the Karrio settings object is built
for one call (never in a message, log line or ``repr``); a lane the connection does not list is
refused before anything is sent; the per-request timeout is below the whole call's deadline,
and that deadline below the carrier activity's ``start_to_close`` (60 s), so our deadline fires
first. Importing this module does not import the Karrio SDK.
"""

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints, model_validator

from canonical.dialects import PARTNERS as DIALECTS
from canonical.shipment import ServiceLevel

Lane = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}-[A-Z]{2}$")]


class KarrioConnection(BaseModel):
    """One carrier reached through a Karrio extension (``karrio.mappers.<carrier>``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,40}$")
    """Our carrier name (``Shipment.carrier``), e.g. ``karrio-easypost``."""
    carrier: str = Field(pattern=r"^[a-z0-9_]{2,40}$")
    """Karrio's provider key: ``generic``, ``easypost``, ``dhl_express``, …"""
    settings: dict[str, Any] = Field(default_factory=dict)
    """Non-secret fields of the extension's ``Settings`` (``display_name``, ``account_number``,
    ``test_mode``, …)."""
    secrets: dict[str, SecretStr] = Field(default_factory=dict)
    """Secret fields of the extension's ``Settings`` (``api_key``, ``password``, …)."""
    server_url: str | None = None
    """Replaces the extension's ``Settings.server_url`` (Karrio has no base-URL setting): a
    simulator, a sandbox or a forward proxy. ``None``: the extension's own URL."""
    services: dict[ServiceLevel, str] = Field(default_factory=dict)
    """Our service level → the Karrio service code booked for it."""
    lanes: list[Lane] = Field(default_factory=list)
    """The lanes (``DE-US``) this connection may book; empty: every lane."""
    tracking_carrier: str | None = None
    """The carrier code Karrio's tracking request needs (EasyPost: the underlying carrier)."""
    dialect: str | None = None
    """Our dialect (``canonical/dialects``) that normalizes this carrier's raw tracking
    answer; ``None``: ``track`` polls nothing (events come by webhook or an aggregator)."""
    label_type: str | None = None
    """Karrio's ``label_type`` (``PDF``, ``ZPL``, ``PNG``); ``None``: the extension's default."""
    idempotency_header: str | None = "Idempotency-Key"
    """Header carrying a per-request idempotency key on every POST of a booking (carriers that
    honour one dedupe a retried booking); ``None``: not sent."""
    timeout_s: float = Field(default=20.0, gt=0)
    """Socket timeout of each HTTP request Karrio makes."""
    deadline_s: float = Field(default=45.0, gt=0, lt=60)
    """The whole operation's deadline (every request of a booking together)."""
    max_threads: int = Field(default=8, ge=1, le=64)
    """Threads running this connection's blocking Karrio calls at once."""

    @model_validator(mode="after")
    def _consistent(self) -> "KarrioConnection":
        if self.timeout_s > self.deadline_s:
            raise ValueError("timeout_s must not exceed deadline_s")
        if self.dialect is not None and self.dialect not in DIALECTS:
            raise ValueError(f"unknown dialect {self.dialect!r} (known: {', '.join(DIALECTS)})")
        overlap = set(self.settings) & set(self.secrets)
        if overlap:
            raise ValueError(f"{sorted(overlap)} given both as settings and as secrets")
        return self

    def allows(self, lane: str) -> bool:
        """Whether this connection may book ``lane``."""
        return not self.lanes or lane in self.lanes

    def karrio_settings(self) -> dict[str, Any]:
        """The extension's settings as Karrio takes them (secrets revealed: build, never log)."""
        revealed = {key: value.get_secret_value() for key, value in self.secrets.items()}
        return {"carrier_id": self.name, **self.settings, **revealed}


__all__ = ["KarrioConnection", "Lane"]
