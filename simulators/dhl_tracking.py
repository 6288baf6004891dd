"""DHL-style bookings and their tracking story, as pure state transitions (no I/O).

Guarantees: tracking numbers are 10 digits, assigned in booking order (and continued after a
restart); package tracking numbers are ``JD01460000`` + 10 digits. The story after a booking
is :data:`STORY` (six Unified-tracking events); :meth:`DhlState.next_step` is ``None`` once
delivered or cancelled. A booking can be cancelled until it is picked up (the second event).
Search by customer reference returns live (not cancelled) bookings only. Unified tracking
lists events newest first; before the first event ``status`` is a synthetic ``unknown``
"Booked" event, and ``details.proofOfDelivery`` appears once delivered.
"""

import base64
from dataclasses import dataclass
from typing import Any

from simulators.clock import iso_now
from simulators.dhl_schemas import DhlParty, DhlShipmentRequest
from simulators.documents import text_pdf
from simulators.stories import SIGNED_BY, step_after

PICKED_UP = 2
"""Events after which a booking counts as picked up (no more cancelling)."""


@dataclass(frozen=True)
class DhlStep:
    """One tracking event of the story."""

    status_code: str
    status: str
    description: str
    at_destination: bool


STORY: tuple[DhlStep, ...] = (
    DhlStep("pre-transit", "Shipment information received", "Label created", False),
    DhlStep("transit", "Shipment picked up", "Shipment picked up by the courier", False),
    DhlStep("transit", "Departed facility", "Shipment has left the origin facility", False),
    DhlStep("transit", "Arrived at delivery facility", "Arrived at the delivery facility", True),
    DhlStep("transit", "Out for delivery", "With the courier for delivery", True),
    DhlStep("delivered", "Delivered", f"Delivered, signed for by {SIGNED_BY}", True),
)

PUBLIC_KEYS = ("shipmentTrackingNumber", "trackingUrl", "packages", "documents")


def _location(party: DhlParty) -> dict[str, Any]:
    address = party.postalAddress
    return {
        "address": {
            "addressLocality": address.cityName,
            "countryCode": address.countryCode,
            "postalCode": address.postalCode,
        }
    }


def _label(number: str, request: DhlShipmentRequest) -> dict[str, Any]:
    shipper = request.customerDetails.shipperDetails
    receiver = request.customerDetails.receiverDetails
    weight = sum(p.weight for p in request.content.packages)
    pdf = text_pdf(
        [
            "DHL EXPRESS (simulated label)",
            f"Waybill {number}   Product {request.productCode}",
            f"From: {shipper.contactInformation.companyName}, {shipper.postalAddress.cityName}",
            f"To: {receiver.contactInformation.companyName}, {receiver.postalAddress.cityName}",
            "Ref: " + ", ".join(r.value for r in request.customerReferences),
            f"Pieces: {len(request.content.packages)}   Weight: {weight:g} kg",
        ]
    )
    content = base64.b64encode(pdf).decode("ascii")
    return {"imageFormat": "PDF", "typeCode": "label", "content": content}


def public_view(booking: dict[str, Any]) -> dict[str, Any]:
    """The booking as ``POST /shipments`` answers it (and search lists it)."""
    return {key: booking[key] for key in PUBLIC_KEYS}


class DhlState:
    """Bookings by tracking number, in booking order."""

    def __init__(self) -> None:
        self.bookings: dict[str, dict[str, Any]] = {}
        self.seq = 0

    def book(self, request: DhlShipmentRequest, base_url: str) -> dict[str, Any]:
        """Store a new booking (status ``booked``) and return it."""
        self.seq += 1
        number = f"{5_700_000_000 + self.seq}"
        packages = [
            {"referenceNumber": index, "trackingNumber": f"JD01460000{self.seq * 100 + index:010d}"}
            for index in range(1, len(request.content.packages) + 1)
        ]
        details = request.customerDetails
        booking: dict[str, Any] = {
            "shipmentTrackingNumber": number,
            "trackingUrl": f"{base_url}/tracking/{number}",
            "packages": packages,
            "documents": [_label(number, request)],
            "status": "booked",
            "bookedAt": iso_now(),
            "customerReferences": [r.value for r in request.customerReferences],
            "origin": _location(details.shipperDetails),
            "destination": _location(details.receiverDetails),
            "events": [],
            "request": request.model_dump(mode="json"),
        }
        self.bookings[number] = booking
        return booking

    def search(self, reference: str) -> list[dict[str, Any]]:
        """Live bookings carrying customer reference ``reference``, oldest first."""
        return [
            b
            for b in self.bookings.values()
            if b["status"] == "booked" and reference in b["customerReferences"]
        ]

    def cancel(self, number: str) -> bool | None:
        """Cancel: ``True`` done (or already), ``False`` too late (picked up), ``None`` unknown."""
        booking = self.bookings.get(number)
        if booking is None:
            return None
        if booking["status"] == "cancelled":
            return True
        if len(booking["events"]) >= PICKED_UP:
            return False
        booking["status"] = "cancelled"
        return True

    def next_step(self, number: str) -> DhlStep | None:
        """The next story event, or ``None`` (delivered or cancelled)."""
        booking = self.bookings[number]
        return step_after(STORY, len(booking["events"]), stopped=booking["status"] != "booked")

    def unfinished(self) -> list[str]:
        """Bookings whose story has events left."""
        return [n for n in self.bookings if self.next_step(n) is not None]

    def advance(self, number: str, step: DhlStep) -> dict[str, Any]:
        """Append ``step``'s event (timestamped now) and return it."""
        booking = self.bookings[number]
        event = {
            "timestamp": iso_now(),
            "location": booking["destination" if step.at_destination else "origin"],
            "statusCode": step.status_code,
            "status": step.status,
            "description": step.description,
        }
        booking["events"].append(event)
        return event

    def delivered(self, number: str) -> dict[str, Any] | None:
        """The delivery event, or ``None`` when not delivered yet."""
        events = self.bookings[number]["events"]
        return events[-1] if events and events[-1]["statusCode"] == "delivered" else None

    def tracking(self, number: str, base_url: str) -> dict[str, Any]:
        """The Unified tracking ``shipments[]`` entry."""
        booking = self.bookings[number]
        events = list(reversed(booking["events"]))
        status = (
            events[0]
            if events
            else {
                "timestamp": booking["bookedAt"],
                "location": booking["origin"],
                "statusCode": "unknown",
                "status": "Booked",
                "description": "Shipment booked; awaiting the first scan",
            }
        )
        details: dict[str, Any] = {}
        delivery = self.delivered(number)
        if delivery is not None:
            details["proofOfDelivery"] = {
                "timestamp": delivery["timestamp"],
                "signedBy": {"name": SIGNED_BY},
                "documentUrl": f"{base_url}/pod/{number}.pdf",
            }
        return {"id": number, "service": "express", "status": status, "events": events,
                "details": details}  # fmt: skip

    def dump(self) -> dict[str, Any]:
        """Everything as JSON-ready data."""
        return {"bookings": self.bookings, "seq": self.seq}

    def load(self, data: dict[str, Any]) -> None:
        """Replace the state with :meth:`dump`'s data."""
        self.bookings = data["bookings"]
        self.seq = int(data["seq"])
