"""DCSA Track & Trace 3.0 (released January 2026: ``{"events": [...]}``) → drafts.

Read by :mod:`canonical.dialects.dcsa`, which decides the version from the payload's shape.
Schema: ``TNT_v3.0.0.yaml`` (components ``PostEventsRequest``, ``Event``, ``EventClassification``).

- An event's kind is ``eventClassification``: ``eventType`` (SHIPMENT, TRANSPORT, EQUIPMENT, IOT,
  REEFER), ``eventClassifier`` (ACTUAL/ESTIMATED/PLANNED) and the subtype of its type
  (``shipmentEventType``, ``transportEventType``…). The drafts of the standard spelled them as
  codes (``eventTypeCode``, ``eventClassifierCode`` ACT/EST/PLN, ``transportEventTypeCode``
  ARRI…, document ``typeCode`` BKG/TRD): both spellings are read, the codes kept verbatim.
- The code is the subtype, refined by the equipment's ``emptyIndicator`` (EQUIPMENT) or the
  type of the shipment's primary ``documentReference`` (SHIPMENT).
- Identity: "an event overrides any other event that has the same ``eventID`` and an earlier
  ``eventUpdatedDateTime``". An ACTUAL event's dedupe key is its ``eventID`` (what happened,
  happened once: a later version of it is a repeat); an ESTIMATED or PLANNED one is keyed by
  ``eventID@eventUpdatedDateTime`` (UTC), so each new estimate is a new event and moves the ETA.
- ``isRetracted: true`` retracts the event ``eventID`` (its ACTUAL version, or one sent without
  ``eventUpdatedDateTime``); the retraction itself is keyed ``eventID#retracted@<updated>`` at
  its ``eventUpdatedDateTime`` (else ``eventDateTime``, else when it is received: the schema
  says any data of a retraction other than ``eventID`` is irrelevant).
- ``sort_at`` is ``eventUpdatedDateTime`` (the order of the producer's updates).
- Required, although the schema marks nothing required: ``eventID``; unless retracted, also
  ``eventDateTime`` and ``eventClassification.eventType`` / ``eventClassifier``. Timestamps
  are RFC 3339 date-times: an offset is required. Every refusal starts with ``TNT 3.0``.
"""

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AliasChoices, AwareDatetime, Field, ValidationError

from canonical.dialects.errors import MalformedPayload
from canonical.dialects.table import DialectTable
from canonical.dialects.wire import Draft, PartnerId, Wire, location, malformed, text
from canonical.events import EventClassifier

__all__ = ["V3", "Event", "draft", "is_event", "parse"]

V3 = "TNT 3.0"
CLASSIFIERS = {
    "ACTUAL": EventClassifier.ACTUAL,
    "ACT": EventClassifier.ACTUAL,
    "ESTIMATED": EventClassifier.ESTIMATED,
    "EST": EventClassifier.ESTIMATED,
    "PLANNED": EventClassifier.PLANNED,
    "PLN": EventClassifier.PLANNED,
}
BOOKING = frozenset({"BOOKING", "BKG"})
TRANSPORT_DOCUMENT = frozenset({"TRANSPORT_DOCUMENT", "TRD"})


def _either(name: str) -> Any:
    """A field read under its 3.0 name or the draft's ``…Code`` name."""
    return Field(None, validation_alias=AliasChoices(name, f"{name}Code"))


class Classification(Wire):
    eventType: str | None = _either("eventType")
    eventClassifier: Literal["ACTUAL", "ESTIMATED", "PLANNED", "ACT", "EST", "PLN"] | None = (
        _either("eventClassifier")
    )
    shipmentEventType: str | None = _either("shipmentEventType")
    transportEventType: str | None = _either("transportEventType")
    equipmentEventType: str | None = _either("equipmentEventType")
    iotEventType: str | None = _either("iotEventType")
    reeferEventType: str | None = _either("reeferEventType")

    def subtype(self) -> str | None:
        """The subtype of ``eventType`` (any subtype given when the type names none)."""
        by_type = {
            "SHIPMENT": self.shipmentEventType,
            "TRANSPORT": self.transportEventType,
            "EQUIPMENT": self.equipmentEventType,
            "IOT": self.iotEventType,
            "REEFER": self.reeferEventType,
        }
        subtypes = [by_type.get(self.eventType or ""), *by_type.values()]
        return next(filter(None, map(text, subtypes)), None)


class DocumentReference(Wire):
    type: str | None = _either("type")
    reference: str | None = None


class ShipmentDetails(Wire):
    documentReference: DocumentReference | None = None
    additionalDocumentReferences: tuple[DocumentReference, ...] = ()


class EquipmentDetails(Wire):
    emptyIndicator: str | None = _either("emptyIndicator")


class Address(Wire):
    city: str | None = None
    postCode: str | None = None
    countryCode: str | None = None


class Location(Wire):
    locationName: str | None = None
    UNLocationCode: str | None = None
    address: Address | None = None


class TransportCall(Wire):
    UNLocationCode: str | None = None
    """Only in the drafts of 3.0; the release puts the place in ``eventLocation``."""


class TransportDetails(Wire):
    transportCall: TransportCall | None = None


class Event(Wire):
    eventID: PartnerId
    isRetracted: bool = False
    eventDateTime: AwareDatetime | None = None
    eventUpdatedDateTime: AwareDatetime | None = None
    eventLocation: Location | None = None
    reason: str | None = None
    eventClassification: Classification | None = None
    shipmentDetails: ShipmentDetails | None = None
    transportDetails: TransportDetails | None = None
    equipmentDetails: EquipmentDetails | None = None

    def code(self) -> tuple[str, str | None]:
        """The subtype and its refinement (emptyIndicator / primary document type)."""
        kind = self.eventClassification or Classification()
        code = kind.subtype() or text(kind.eventType) or "RETRACTED"
        if kind.eventType == "EQUIPMENT" and self.equipmentDetails:
            return code, text(self.equipmentDetails.emptyIndicator)
        primary = self.shipmentDetails.documentReference if self.shipmentDetails else None
        if kind.eventType == "SHIPMENT" and primary:
            return code, text(primary.type)
        return code, None

    def references(self) -> tuple[str | None, str | None]:
        """The booking and the transport document this event names."""
        details = self.shipmentDetails or ShipmentDetails()
        listed = [details.documentReference, *details.additionalDocumentReferences]
        pairs = [(ref.type, text(ref.reference)) for ref in listed if ref is not None]

        def first(kinds: frozenset[str]) -> str | None:
            return next((value for kind, value in pairs if kind in kinds and value), None)

        return first(BOOKING), first(TRANSPORT_DOCUMENT)

    def key(self) -> str:
        """The dedupe key of this version of the event (see the module docstring)."""
        updated = self.eventUpdatedDateTime
        stamp = f"@{updated.astimezone(UTC).isoformat()}" if updated else ""
        if self.isRetracted:
            return f"{self.eventID}#retracted{stamp}"
        kind = self.eventClassification or Classification()
        actual = CLASSIFIERS[kind.eventClassifier or "ACTUAL"] is EventClassifier.ACTUAL
        return self.eventID if actual else f"{self.eventID}{stamp}"


class Envelope(Wire):
    events: list[Any]


def is_event(item: Any) -> bool:
    """Whether ``item`` has the shape of one 3.0 event (an ``eventClassification``)."""
    return isinstance(item, dict) and "eventClassification" in item


def _refused(partner: str, err: ValidationError, where: str) -> MalformedPayload:
    plain = malformed(partner, err, where)
    return MalformedPayload(partner, plain.field, f"{V3}: {plain.problem}")


def envelope(partner: str, data: Any) -> list[Any]:
    """The events of a 3.0 ``PostEventsRequest`` / ``GetEventsResponse``."""
    try:
        return Envelope.model_validate(data).events
    except ValidationError as err:
        raise _refused(partner, err, "") from err


def parse(partner: str, item: Any, where: str) -> Event:
    """The 3.0 event at ``where`` in the body."""
    try:
        event = Event.model_validate(item)
    except ValidationError as err:
        raise _refused(partner, err, where) from err
    if not event.isRetracted:
        kind = event.eventClassification
        required = {
            "eventDateTime": event.eventDateTime,
            "eventClassification": kind,
            "eventClassification.eventType": kind and kind.eventType,
            "eventClassification.eventClassifier": kind and kind.eventClassifier,
        }
        for field, value in required.items():
            if not value:
                path = f"{where}.{field}" if where else field
                problem = f"{V3}: required unless the event is retracted (isRetracted)"
                raise MalformedPayload(partner, path, problem)
    return event


def _occurred(event: Event, received_at: datetime) -> datetime:
    if not event.isRetracted and event.eventDateTime is not None:
        return event.eventDateTime
    return event.eventUpdatedDateTime or event.eventDateTime or received_at


def draft(event: Event, table: DialectTable, received_at: datetime) -> Draft:
    """The draft of one parsed 3.0 event; a bare retraction happens when it is received."""
    code, sub_code = event.code()
    kind = event.eventClassification or Classification()
    place = event.eventLocation or Location()
    address = place.address or Address()
    call = event.transportDetails.transportCall if event.transportDetails else None
    return Draft(
        occurred_at=_occurred(event, received_at),
        resolution=table.resolve(code, sub_code),
        raw_status=code,
        raw_sub_status=sub_code,
        partner_event_id=event.key(),
        classifier=CLASSIFIERS[kind.eventClassifier or "ACTUAL"],
        location=location(
            name=place.locationName,
            city=address.city,
            postal_code=address.postCode,
            country_code=address.countryCode,
            un_locode=place.UNLocationCode or (call.UNLocationCode if call else None),
        ),
        reason=event.reason,
        retracts=event.eventID if event.isRetracted else None,
        sort_at=event.eventUpdatedDateTime,
    )
