"""Partner dialects: one partner payload (raw bytes) → one :class:`NormalizedWebhook`.

Each partner has a versioned code table (``<partner>.toml``, validated when this package is
imported: a table naming a milestone that does not exist fails the import) and a small
normalizer module with ``normalize(body, *, received_at)``.

Guarantees of :func:`normalize`, for every partner:

- every event of the payload's history, oldest first, each with a stable ``dedupe_key`` (the
  partner's event id, else a hash of tracking number, time and raw code) and
  ``event_id = event_id_for(partner, dedupe_key)``: a redelivery or a longer history gives the
  events already seen the same ids;
- an unknown partner code is never dropped: it becomes ``Milestone.UNKNOWN`` with the raw codes
  kept in ``source``;
- ``occurred_at`` keeps the partner's UTC offset, ``recorded_at`` is ``received_at``;
- :class:`UnknownPartner` for a partner name not in :data:`PARTNERS`,
  :class:`MalformedPayload` (one line, naming the field) for a body not in the partner's shape,
  and (field ``None``: not JSON we parse) for a body nested deeper than
  :data:`~canonical.json_depth.MAX_JSON_DEPTH` levels, measured before any decoder runs.
"""

from datetime import datetime
from types import MappingProxyType
from typing import Protocol

from canonical.dialects import aftership, broker, dcsa, dhl, easypost, shippo, tms
from canonical.dialects.errors import MalformedPayload, UnknownPartner
from canonical.dialects.normalized import NormalizedWebhook, PartnerReferences
from canonical.dialects.table import DialectTable, DialectTableError
from canonical.json_depth import MAX_JSON_DEPTH, too_deep


class Normalizer(Protocol):
    """The signature every partner module's ``normalize`` has."""

    def __call__(self, body: bytes, *, received_at: datetime) -> NormalizedWebhook: ...


_MODULES = (easypost, aftership, dhl, shippo, dcsa, tms, broker)

PARTNERS: tuple[str, ...] = tuple(module.PARTNER for module in _MODULES)
"""Every partner name :func:`normalize` accepts."""

NORMALIZERS: MappingProxyType[str, Normalizer] = MappingProxyType(
    {module.PARTNER: module.normalize for module in _MODULES}
)
TABLES: MappingProxyType[str, DialectTable] = MappingProxyType(
    {module.PARTNER: module.TABLE for module in _MODULES}
)
"""Each partner's code table; ``TABLES[partner].codes`` are the raw codes it maps."""


def normalize(partner: str, body: bytes, *, received_at: datetime) -> NormalizedWebhook:
    """Normalize one payload of ``partner`` received at ``received_at`` (timezone-aware)."""
    normalizer = NORMALIZERS.get(partner)
    if normalizer is None:
        raise UnknownPartner(partner, PARTNERS)
    if too_deep(body):  # before any decoder recurses into it
        raise MalformedPayload(partner, None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    return normalizer(body, received_at=received_at)


def table(partner: str) -> DialectTable:
    """The code table of ``partner``."""
    if partner not in TABLES:
        raise UnknownPartner(partner, PARTNERS)
    return TABLES[partner]


__all__ = [
    "NORMALIZERS",
    "PARTNERS",
    "TABLES",
    "DialectTable",
    "DialectTableError",
    "MalformedPayload",
    "NormalizedWebhook",
    "Normalizer",
    "PartnerReferences",
    "UnknownPartner",
    "normalize",
    "table",
]
