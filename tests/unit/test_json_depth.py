import json

from canonical.json_depth import MAX_JSON_DEPTH, json_depth, too_deep


def test_the_depth_scan_counts_the_documents_brackets_never_those_in_strings() -> None:
    assert json_depth(b'{"a": "[[[[{{{{\\"[[[[", "b": [1, {"c": []}]}') == 4
    assert json_depth(b"1") == json_depth(b'"[[["') == 0
    nested = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    assert not too_deep(nested) and too_deep(b"[" + nested + b"]")
    assert too_deep(b"[" * 100_000)  # unterminated, too
    assert json.loads(nested)  # what passes the scan, the decoder parses without trouble
