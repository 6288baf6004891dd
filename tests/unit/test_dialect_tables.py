import pytest

from canonical.dialects import PARTNERS, TABLES, table
from canonical.dialects.table import (
    DialectTable,
    DialectTableError,
    load_table,
    parse_table,
    table_names,
)
from canonical.milestones import Milestone

VALID = """
partner = "acme"
version = 3
sources = ["https://acme.example/docs/tracking"]

[codes]
"moving" = "IN_TRANSIT"
"moving/left" = "DEPARTED"
"done" = "DELIVERED"
"""


def test_every_partner_has_a_table_file_and_every_table_file_a_partner() -> None:
    assert table_names() == tuple(sorted(PARTNERS))


@pytest.mark.parametrize("partner", PARTNERS)
def test_every_table_loads_and_names_only_real_milestones(partner: str) -> None:
    loaded = load_table(partner)
    assert loaded is TABLES[partner] is table(partner)
    assert loaded.partner == partner
    assert loaded.version >= 1
    assert loaded.sources, "say where the codes come from"
    assert loaded.codes
    assert loaded.mapped_codes == frozenset(loaded.codes)
    for key, milestone in loaded.codes.items():
        assert isinstance(milestone, Milestone), key
        assert milestone in Milestone.__members__.values()
        code, _, sub_code = key.partition("/")
        assert loaded.resolve(code, sub_code or None).milestone is milestone


@pytest.mark.parametrize("partner", PARTNERS)
def test_every_key_resolves_to_itself(partner: str) -> None:
    """Each key is reachable: looking its parts up finds it, and keeps it as the raw code."""
    for key in TABLES[partner].codes:
        code, _, sub_code = key.partition("/")
        resolution = TABLES[partner].resolve(code, sub_code or None)
        assert resolution.mapped
        assert resolution.raw_code == key
        assert TABLES[partner].maps(key)


def test_a_composite_key_wins_over_the_plain_one() -> None:
    acme = parse_table(VALID, "acme")
    assert acme.milestone("moving", "left") is Milestone.DEPARTED
    assert acme.milestone("moving", "right") is Milestone.IN_TRANSIT
    assert acme.milestone("moving") is Milestone.IN_TRANSIT
    assert acme.resolve("moving", "right").raw_code == "moving/right"


def test_an_unlisted_code_is_unknown_never_dropped() -> None:
    acme = parse_table(VALID, "acme")
    resolution = acme.resolve("lost", "in space")
    assert resolution.milestone is Milestone.UNKNOWN
    assert resolution.raw_code == "lost/in space"
    assert not resolution.mapped
    assert not acme.is_mapped(None)
    assert acme.is_mapped("done", "whatever")
    assert acme.maps("done/whatever")
    assert acme.maps("moving")
    assert not acme.maps("lost/in space")
    assert not acme.maps(None)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        (VALID.replace('"DELIVERED"', '"TELEPORTED"'), "codes.done"),
        (VALID.replace('"acme"', '"other"'), "partner is 'other'"),
        (VALID.replace("version = 3", "version = 0"), "version"),
        (VALID.replace("version = 3", ""), "version"),
        (VALID.replace('"moving/left"', '"moving/left/up"'), "codes"),
        (VALID.replace('"moving/left"', '"/left"'), "codes"),
        (VALID + 'owner = "me"\n', "owner"),
        (VALID.split("[codes]")[0] + "[codes]\n", "codes"),
        ("partner = ", "not TOML"),
    ],
)
def test_a_bad_table_fails_loudly(text: str, complaint: str) -> None:
    with pytest.raises(DialectTableError) as caught:
        parse_table(text, "acme")
    assert str(caught.value).startswith("acme.toml: ")
    assert complaint in str(caught.value)


def test_a_missing_table_file_fails_loudly() -> None:
    with pytest.raises(DialectTableError, match=r"nosuchpartner\.toml"):
        load_table("nosuchpartner")


def test_tables_are_immutable() -> None:
    with pytest.raises(ValueError):
        TABLES["dhl"].version = 99  # type: ignore[misc]
    assert isinstance(TABLES["dhl"], DialectTable)
