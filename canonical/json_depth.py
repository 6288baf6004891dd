"""How deeply a JSON document nests, measured without parsing it (and without recursion).

Python's ``json`` decoder recurses once per nesting level: a body of 100,000 ``[`` raises
``RecursionError`` deep inside it. Every JSON body we parse with ``json`` (partner webhooks,
the codec server's payloads) is therefore measured first with :func:`too_deep`, a flat scan
over the raw bytes. Bodies parsed by pydantic (``model_validate_json``, the API's own request
bodies) need no scan: its parser stops at its own recursion limit with a JSON error.

The scan skips string literals (a ``[`` inside ``"..."`` does not count) and counts every
``[`` and ``{`` opened and not yet closed. It does not validate the JSON: the parser does that
afterwards, on a document that is now known to be shallow.
"""

import re
from itertools import accumulate

MAX_JSON_DEPTH = 64
"""The deepest nesting accepted. Every partner format nests fewer than 10 levels; 64 leaves room
for any real payload and keeps the decoder far from Python's recursion limit (1,000)."""

_STRING = re.compile(rb'"[^"\\]*+(?:\\.[^"\\]*+)*+"')
"""One string literal (possessive, so an unterminated one fails in linear time)."""
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(body: bytes) -> int:
    """The deepest nesting of ``body`` (0 for a scalar), string literals skipped."""
    brackets = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(0, *accumulate(map(_STEP.__getitem__, brackets)))


def too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when ``body`` nests deeper than ``limit`` levels."""
    return json_depth(body) > limit
