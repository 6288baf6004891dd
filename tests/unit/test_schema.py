import json
from pathlib import Path

from canonical.schema import SCHEMA_MODELS, stale_files, write_schemas

COMMITTED = Path(__file__).parent.parent.parent / "docs" / "schema"


def test_committed_schemas_are_current() -> None:
    stale = stale_files(COMMITTED)
    assert stale == [], f"docs/schema is stale for {stale}: run `borderflow schema`"


def test_every_entity_has_a_schema_that_refuses_unknown_fields() -> None:
    for model in SCHEMA_MODELS:
        schema = json.loads((COMMITTED / f"{model.__name__}.json").read_text())
        assert schema["additionalProperties"] is False, model.__name__


def test_write_detects_and_repairs_drift(tmp_path: Path) -> None:
    assert len(write_schemas(tmp_path)) == len(SCHEMA_MODELS)
    assert stale_files(tmp_path) == []
    (tmp_path / "Money.json").write_text("{}")
    (tmp_path / "Gone.json").write_text("{}")
    assert stale_files(tmp_path) == ["Gone.json", "Money.json"]
    assert write_schemas(tmp_path) == ["Gone.json", "Money.json"]
    assert stale_files(tmp_path) == [] and not (tmp_path / "Gone.json").exists()
