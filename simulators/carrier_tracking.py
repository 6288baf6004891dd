"""EasyPost-style Shipment/Tracker/Event objects and the tracking story.

Pure state transitions, no I/O: :class:`CarrierState` owns shipments and trackers. A
shipment is created rated (:meth:`CarrierState.create`: ``rates``, no tracking code) and
bought (:meth:`CarrierState.purchase`: label, tracking code, tracker), or both at once
(:meth:`CarrierState.buy`, the one-call buy); :meth:`CarrierState.track` is a tracker by
tracking code (the existing one when there is one). :meth:`CarrierState.next_step` says
what happens next (``None`` once delivered or refunded, or while not purchased) and
:meth:`CarrierState.advance` applies one story step, returning the ``tracker.updated`` Event
to deliver. A refund (``refund_status: "submitted"``) cancels the label: the story
stops. :meth:`CarrierState.dump`/:meth:`CarrierState.load` carry everything across a
restart. Every datetime is ISO 8601 with an explicit offset.
"""

import copy
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from simulators.clock import iso_now, random_id
from simulators.schemas import EasyPostAddress, EasyPostShipment
from simulators.stories import SIGNED_BY, step_after

CARRIER_NAME = "DHLExpress"


@dataclass(frozen=True)
class StoryStep:
    """One tracking milestone: ``status/status_detail`` at the origin or destination."""

    status: str
    status_detail: str
    message: str
    at_destination: bool


STORY: tuple[StoryStep, ...] = (
    StoryStep("pre_transit", "label_created", "Shipping label created", False),
    StoryStep("in_transit", "package_accepted", "Shipment picked up by courier", False),
    StoryStep("in_transit", "departed_facility", "Departed facility", False),
    StoryStep("in_transit", "arrived_at_destination", "Arrived at destination facility", True),
    StoryStep("out_for_delivery", "out_for_delivery", "Out for delivery", True),
    StoryStep("delivered", "arrived_at_destination", "Delivered", True),
)
"""The six steps posted after a purchase, one per ``time_scale`` seconds."""


SERVICES = ("Express", "Standard")
"""The services a shipment created without one is rated for."""


def rate_for(weight_oz: float, service: str = "Express") -> str:
    """The deterministic price in USD for a parcel weight, as EasyPost's string (any service
    but ``Standard`` is priced as Express)."""
    pounds = max(1, math.ceil(weight_oz / 16))
    if service == "Standard":
        return str(Decimal("12.90") + Decimal("1.60") * pounds)
    return str(Decimal("24.50") + Decimal("3.20") * pounds)


def _address(address: EasyPostAddress) -> dict[str, Any]:
    return {"object": "Address", "id": random_id("adr"), **address.model_dump(mode="json")}


def _location(address: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "TrackingLocation",
        "city": address.get("city"),
        "state": address.get("state"),
        "country": address.get("country"),
        "zip": address.get("zip"),
    }


class CarrierState:
    """Shipments and trackers by id."""

    def __init__(self) -> None:
        self.shipments: dict[str, dict[str, Any]] = {}
        self.trackers: dict[str, dict[str, Any]] = {}
        self._tracking_seq = 0

    def buy(self, request: EasyPostShipment, base_url: str) -> dict[str, Any]:
        """A one-call buy: :meth:`create` with the requested service's rate, then
        :meth:`purchase` of that rate."""
        shipment = self.create(request, services=(request.service,))
        return self.purchase(shipment["id"], shipment["rates"][0]["id"], base_url)

    def create(
        self, request: EasyPostShipment, services: tuple[str, ...] = SERVICES
    ) -> dict[str, Any]:
        """An unpurchased shipment (no tracking code, label or tracker) rated for ``services``."""
        now = iso_now()
        shipment_id = random_id("shp")
        customs = None
        if request.customs_info is not None:
            customs = {"object": "CustomsInfo", "id": random_id("cstinfo"), **request.customs_info}
        shipment: dict[str, Any] = {
            "object": "Shipment",
            "id": shipment_id,
            "mode": "test",
            "reference": request.reference,
            "created_at": now,
            "updated_at": now,
            "tracking_code": None,
            "status": "unknown",
            "to_address": _address(request.to_address),
            "from_address": _address(request.from_address),
            "parcel": {
                "object": "Parcel",
                "id": random_id("prcl"),
                **request.parcel.model_dump(mode="json"),
            },
            "customs_info": customs,
            "rates": [
                {
                    "object": "Rate",
                    "id": random_id("rate"),
                    "carrier": CARRIER_NAME,
                    "service": service,
                    "rate": rate_for(request.parcel.weight, service),
                    "currency": "USD",
                    "shipment_id": shipment_id,
                }
                for service in services
            ],
            "selected_rate": None,
            "postage_label": None,
            "tracker": None,
            "refund_status": None,
        }
        self.shipments[shipment_id] = shipment
        return shipment

    def purchase(self, shipment_id: str, rate_id: str, base_url: str) -> dict[str, Any]:
        """Buy ``rate_id`` of the shipment: tracking code, label and ``pre_transit`` tracker.

        Raises ``LookupError`` for a rate the shipment does not have, ``ValueError`` when it
        was purchased already.
        """
        shipment = self.shipments[shipment_id]
        if shipment["selected_rate"] is not None:
            raise ValueError(f"shipment {shipment_id} is already purchased")
        rate = next((r for r in shipment["rates"] if r["id"] == rate_id), None)
        if rate is None:
            raise LookupError(rate_id)
        self._tracking_seq += 1
        now = iso_now()
        tracking_code = f"EZ{9_000_000_000 + self._tracking_seq}"
        tracker = self.track(tracking_code, CARRIER_NAME, base_url, shipment_id=shipment_id)
        shipment.update(
            updated_at=now,
            tracking_code=tracking_code,
            selected_rate=copy.deepcopy(rate),
            postage_label={
                "object": "PostageLabel",
                "id": random_id("pl"),
                "label_url": f"{base_url}/labels/{shipment_id}.png",
                "label_file_type": "image/png",
            },
            tracker=copy.deepcopy(tracker),
        )
        return shipment

    def track(
        self, tracking_code: str, carrier: str, base_url: str, *, shipment_id: str | None = None
    ) -> dict[str, Any]:
        """The tracker of ``tracking_code`` (an existing one is returned, as EasyPost does)."""
        for tracker in self.trackers.values():
            if tracker["tracking_code"] == tracking_code:
                return tracker
        now = iso_now()
        tracker = {
            "object": "Tracker",
            "id": random_id("trk"),
            "mode": "test",
            "tracking_code": tracking_code,
            "shipment_id": shipment_id,
            "status": "pre_transit" if shipment_id else "unknown",
            "status_detail": "unknown",
            "signed_by": None,
            "carrier": carrier,
            "public_url": f"{base_url}/track/{tracking_code}",
            "created_at": now,
            "updated_at": now,
            "tracking_details": [],
        }
        self.trackers[tracker["id"]] = tracker
        return tracker

    def next_step(self, shipment_id: str) -> StoryStep | None:
        """The story step still to come for the shipment, or ``None`` (done or refunded)."""
        shipment = self.shipments[shipment_id]
        if shipment["tracker"] is None:  # not purchased: no story
            return None
        done = len(self.trackers[shipment["tracker"]["id"]]["tracking_details"])
        return step_after(STORY, done, stopped=shipment["refund_status"] is not None)

    def unfinished(self) -> list[str]:
        """Shipments whose story has steps left, in purchase order."""
        return [sid for sid in self.shipments if self.next_step(sid) is not None]

    def refund(self, shipment_id: str) -> dict[str, Any]:
        """Mark the label refunded (``submitted``; repeat-safe) and return the shipment."""
        shipment = self.shipments[shipment_id]
        if shipment["refund_status"] is None:
            shipment["refund_status"] = "submitted"
            shipment["updated_at"] = iso_now()
        return shipment

    def dump(self) -> dict[str, Any]:
        """Everything as JSON-ready data."""
        return {
            "shipments": self.shipments,
            "trackers": self.trackers,
            "tracking_seq": self._tracking_seq,
        }

    def load(self, data: dict[str, Any]) -> None:
        """Replace the state with :meth:`dump`'s data."""
        self.shipments = data["shipments"]
        self.trackers = data["trackers"]
        self._tracking_seq = int(data["tracking_seq"])

    def advance(self, shipment_id: str, step: StoryStep) -> dict[str, Any]:
        """Apply ``step`` to the shipment's tracker and return the ``tracker.updated`` Event.

        The Event's ``result`` carries the whole ``tracking_details`` history so far.
        """
        shipment = self.shipments[shipment_id]
        tracker = self.trackers[shipment["tracker"]["id"]]
        now = iso_now()
        previous_status = tracker["status"]
        address = shipment["to_address"] if step.at_destination else shipment["from_address"]
        tracker["tracking_details"].append(
            {
                "object": "TrackingDetail",
                "message": step.message,
                "status": step.status,
                "status_detail": step.status_detail,
                "datetime": now,
                "source": CARRIER_NAME,
                "tracking_location": _location(address),
            }
        )
        tracker["status"] = step.status
        tracker["status_detail"] = step.status_detail
        tracker["updated_at"] = now
        if step.status == "delivered":
            tracker["signed_by"] = SIGNED_BY
        shipment["status"] = step.status
        shipment["updated_at"] = now
        shipment["tracker"] = copy.deepcopy(tracker)
        return {
            "object": "Event",
            "id": random_id("evt"),
            "description": "tracker.updated",
            "mode": "test",
            "created_at": now,
            "updated_at": now,
            "previous_attributes": {"status": previous_status},
            "result": copy.deepcopy(tracker),
        }
