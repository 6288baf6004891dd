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
- ``occurred_at`` keeps the partner's UTC offset (``time_basis`` says how it was derived when the
  partner gave none, ``canonical/dialects/times.py``), ``recorded_at`` is ``received_at``;
- :class:`UnknownPartner` for a partner name neither in :data:`PARTNERS` nor a plugin's,
  :class:`MalformedPayload` (one line, naming the field) for a body not in the partner's shape,
  and (field ``None``: not JSON we parse) for a body nested deeper than
  :data:`~canonical.json_depth.MAX_JSON_DEPTH` levels, measured before any decoder runs.

A plugin partner (``canonical.partners``, entry-point group ``borderflow.partners``) brings its
own dialect: its :attr:`~canonical.partner_descriptor.Partner.dialect` is the dotted path of a
module that exposes ``normalize(body: bytes, *, received_at: datetime) -> NormalizedWebhook``
(a :class:`Normalizer`, with the guarantees above; the depth check is made before it is called).
:func:`normalize` looks a name it does not ship up in the registry, imports that module on
first use and keeps its ``normalize`` per partner name for the life of the process. The
registry is read only then, never when this package is imported (workflow code imports it).
A plugin module that cannot be imported, or has no ``normalize``, fails loudly (``ImportError``,
``TypeError``), naming the partner; a registry partner without a dotted ``dialect`` is
:class:`UnknownPartner`. :func:`table` and :data:`PARTNERS` cover the built-in dialects only.
"""

from datetime import datetime
from functools import cache
from importlib import import_module
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


@cache
def _plugin_normalizer(partner: str) -> Normalizer | None:
    """The ``normalize`` of a plugin partner's dialect module; ``None``: no such plugin."""
    from canonical.partners import partner as registered  # reads entry points: not at import

    try:
        dialect = registered(partner).dialect
    except KeyError:
        return None
    if dialect is None or "." not in dialect:
        return None
    try:
        module = import_module(dialect)
    except ImportError as err:
        why = f"partner {partner!r}: cannot import its dialect {dialect}: {err}"
        raise ImportError(why) from err
    normalizer = getattr(module, "normalize", None)
    if not callable(normalizer):
        raise TypeError(f"partner {partner!r}: dialect {dialect} has no normalize()")
    found: Normalizer = normalizer
    return found


def normalize(partner: str, body: bytes, *, received_at: datetime) -> NormalizedWebhook:
    """Normalize one payload of ``partner`` received at ``received_at`` (timezone-aware)."""
    normalizer = NORMALIZERS.get(partner) or _plugin_normalizer(partner)
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
