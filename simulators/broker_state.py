"""Customs declarations and their story, as pure state transitions (no I/O).

The story of a declaration is decided when it is filed (``planned_outcome``, from the
``customs`` faults): ``release`` (``SUBMITTED → ACCEPTED → RELEASED``), ``hold``
(``SUBMITTED → ACCEPTED → HELD`` with ``hold_reason``; only
:meth:`BrokerState.release` moves it on, to ``RELEASED``) or ``reject``
(``SUBMITTED → REJECTED``, no MRN). :meth:`BrokerState.next_step` is ``None`` once the
story has nothing left to do by itself (``HELD``, ``RELEASED``, ``REJECTED``, ``CANCELLED``).
The MRN is assigned on ``ACCEPTED``: 2-digit year, the country that declares (origin for
exports, destination for imports), 14 uppercase alphanumerics.
"""

from typing import Any

from simulators.clock import iso_now, random_alnum_upper, random_id, utc_now
from simulators.rest import HttpError
from simulators.schemas import DeclarationRequest

FINAL = frozenset({"HELD", "RELEASED", "REJECTED", "CANCELLED"})


def new_mrn(country: str) -> str:
    """A Movement Reference Number: 2-digit year, 2-letter country, 14 uppercase alphanumerics."""
    return f"{utc_now():%y}{country}{random_alnum_upper(14)}"


def created_view(declaration: dict[str, Any]) -> dict[str, Any]:
    """The documented ``201`` body: ``id, reference, lrn, mrn, status``."""
    return {k: declaration[k] for k in ("id", "reference", "lrn", "mrn", "status")}


def declaration_view(declaration: dict[str, Any]) -> dict[str, Any]:
    """The declaration as GET, cancel and webhooks show it (adds ``hold_reason``)."""
    return {k: declaration[k] for k in ("id", "reference", "lrn", "mrn", "status", "hold_reason")}


class BrokerState:
    """Declarations by id, in filing order."""

    def __init__(self) -> None:
        self.declarations: dict[str, dict[str, Any]] = {}

    def file(
        self, request: DeclarationRequest, outcome: str = "release", hold_reason: str | None = None
    ) -> dict[str, Any]:
        """Store a new declaration in status ``SUBMITTED`` with its planned outcome."""
        seq = len(self.declarations) + 1
        now = iso_now()
        declaration: dict[str, Any] = {
            "id": f"DEC-{seq:06d}",
            "reference": request.reference,
            "lrn": f"LRN{utc_now():%y}BF{seq:08d}",
            "mrn": None,
            "status": "SUBMITTED",
            "hold_reason": None,
            "created_at": now,
            "updated_at": now,
            "planned_outcome": outcome,
            "planned_hold_reason": hold_reason,
            "request": request.model_dump(mode="json"),
        }
        self.declarations[declaration["id"]] = declaration
        return declaration

    def get(self, declaration_id: str) -> dict[str, Any]:
        """The declaration, or a 404 problem."""
        declaration = self.declarations.get(declaration_id)
        if declaration is None:
            raise HttpError(404, "not-found", f"Declaration {declaration_id} does not exist")
        return declaration

    def next_step(self, declaration_id: str) -> str | None:
        """The status the story moves to next, or ``None`` when it waits or is over."""
        declaration = self.declarations[declaration_id]
        status, outcome = declaration["status"], declaration["planned_outcome"]
        if status == "SUBMITTED":
            return "REJECTED" if outcome == "reject" else "ACCEPTED"
        if status == "ACCEPTED":
            return "HELD" if outcome == "hold" else "RELEASED"
        return None

    def unfinished(self) -> list[str]:
        """Declarations whose story still has steps to take by itself."""
        return [d for d in self.declarations if self.next_step(d) is not None]

    def dump(self) -> dict[str, Any]:
        """Everything as JSON-ready data."""
        return {"declarations": self.declarations}

    def load(self, data: dict[str, Any]) -> None:
        """Replace the state with :meth:`dump`'s data."""
        self.declarations = data["declarations"]

    def advance(self, declaration_id: str, status: str) -> dict[str, Any]:
        """Move to ``status`` and return the ``declaration.status_changed`` event."""
        declaration = self.declarations[declaration_id]
        if status == "ACCEPTED":
            filed = declaration["request"]
            export = filed["direction"] == "export"
            declaration["mrn"] = new_mrn(
                filed["origin_country"] if export else filed["destination_country"]
            )
        held = status == "HELD"
        declaration["hold_reason"] = declaration["planned_hold_reason"] if held else None
        declaration["status"] = status
        declaration["updated_at"] = iso_now()
        return {
            "event_id": random_id("bev"),
            "type": "declaration.status_changed",
            "occurred_at": declaration["updated_at"],
            "declaration": declaration_view(declaration),
        }

    def release(self, declaration_id: str) -> dict[str, Any]:
        """``HELD`` → ``RELEASED`` (the event), else a 409 problem."""
        declaration = self.get(declaration_id)
        if declaration["status"] != "HELD":
            raise HttpError(
                409,
                "invalid-state",
                f"Declaration {declaration_id} is {declaration['status']}, not HELD",
            )
        return self.advance(declaration_id, "RELEASED")

    def cancel(self, declaration_id: str) -> tuple[dict[str, Any], bool]:
        """Cancel (repeat-safe): ``(declaration, changed)``; 409 once released or rejected."""
        declaration = self.get(declaration_id)
        if declaration["status"] in ("RELEASED", "REJECTED"):
            raise HttpError(
                409,
                "invalid-state",
                f"Declaration {declaration_id} is {declaration['status'].lower()}; cannot cancel",
            )
        if declaration["status"] == "CANCELLED":
            return declaration, False
        declaration["status"] = "CANCELLED"
        declaration["hold_reason"] = None
        declaration["updated_at"] = iso_now()
        return declaration, True
