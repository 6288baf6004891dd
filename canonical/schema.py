"""JSON Schema of the canonical model: the contract partners and tools can validate against.

``borderflow schema`` writes one file per entity to ``docs/schema/``; a test fails when the
committed files differ from what the models produce, so the published contract never drifts.
"""

import json
from pathlib import Path

from pydantic import BaseModel

from canonical.billing import Charge, Invoice
from canonical.booking import CarrierBooking
from canonical.customs import CustomsDeclaration
from canonical.documents import Document
from canonical.events import ShipmentEvent
from canonical.goods import Commodity, Package
from canonical.money import Money, UnitPrice
from canonical.order import Order
from canonical.parties import Address, Party, Tenant
from canonical.shipment import Shipment

SCHEMA_MODELS: tuple[type[BaseModel], ...] = (
    Tenant, Party, Address, Money, UnitPrice, Order, Commodity, Package, Shipment,
    CarrierBooking, CustomsDeclaration, Charge, Invoice, Document, ShipmentEvent,
)  # fmt: skip
SCHEMA_DIR = Path("docs/schema")


def schema_files() -> dict[str, str]:
    """File name → JSON text for every canonical entity (stable formatting, sorted keys)."""
    files = {}
    for model in SCHEMA_MODELS:
        schema = model.model_json_schema(mode="validation")
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        schema["$id"] = f"https://borderflow.dev/schema/{model.__name__}.json"
        files[f"{model.__name__}.json"] = json.dumps(schema, indent=2, sort_keys=True) + "\n"
    return files


def stale_files(directory: Path) -> list[str]:
    """Names of schema files missing from, differing in, or extra in ``directory``."""
    wanted = schema_files()
    present = {path.name for path in directory.glob("*.json")} if directory.exists() else set()
    stale = [name for name, text in wanted.items()
             if name not in present or (directory / name).read_text() != text]  # fmt: skip
    return sorted(stale + sorted(present - wanted.keys()))


def write_schemas(directory: Path) -> list[str]:
    """Write every schema file (and remove ones no model produces); return what changed."""
    changed = stale_files(directory)
    directory.mkdir(parents=True, exist_ok=True)
    wanted = schema_files()
    for name in changed:
        if name in wanted:
            (directory / name).write_text(wanted[name])
        else:
            (directory / name).unlink()
    return changed
