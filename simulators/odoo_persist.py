"""Snapshots and the state-file contents of the Odoo simulator.

Guarantees: :func:`load` restores records, id counters and sequences exactly as :func:`dump`
produced them; models unknown to this version are ignored. The file itself is a
:class:`~simulators.state_file.StateFile` (atomic, written by group commit).
"""

import pickle
from typing import Any

from simulators.odoo_store import OdooStore
from simulators.state_file import STATE_FORMAT

Snapshot = tuple[dict[str, dict[int, dict[str, Any]]], dict[str, int], dict[str, int]]


def snapshot(store: OdooStore) -> Snapshot:
    """A deep copy of everything a call may change.

    A pickle round trip of our own in-memory data (no untrusted input): the same copy as
    ``copy.deepcopy``, about three times faster. It still costs in proportion to the store.
    """
    state = (store.records, store.next_ids, store.sequences)
    copied: Snapshot = pickle.loads(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
    return copied


def restore(store: OdooStore, snap: Snapshot) -> None:
    """Put the store back exactly as it was when ``snap`` was taken."""
    store.records, store.next_ids, store.sequences = snap


def dump(store: OdooStore) -> dict[str, Any]:
    """The whole state as JSON-ready data."""
    return {
        "format": STATE_FORMAT,
        "records": {
            model: {str(rec_id): rec for rec_id, rec in records.items()}
            for model, records in store.records.items()
        },
        "next_ids": dict(store.next_ids),
        "sequences": dict(store.sequences),
    }


def load(store: OdooStore, data: dict[str, Any]) -> None:
    """Replace the store's state with ``data`` (as produced by :func:`dump`)."""
    if data.get("format") != STATE_FORMAT:
        raise ValueError(f"unsupported Odoo simulator state format: {data.get('format')!r}")
    records: dict[str, dict[int, dict[str, Any]]] = {m: {} for m in store.models}
    for model, rows in data["records"].items():
        if model in records:
            records[model] = {int(rec_id): dict(rec) for rec_id, rec in rows.items()}
    next_ids = {m: 1 for m in store.models}
    for model, next_id in data["next_ids"].items():
        if model in next_ids:
            next_ids[model] = max(int(next_id), max(records[model], default=0) + 1)
    store.records, store.next_ids = records, next_ids
    store.sequences = {str(k): int(v) for k, v in data["sequences"].items()}
