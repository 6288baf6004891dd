"""DCSA Track & Trace 2.2 (flat events) and 3.0.0-Beta (``metadata``/``payload``) → drafts.

Read by :mod:`canonical.dialects.dcsa`, which decides the version from the payload's shape.
Both versions share one set of event fields; 3.0.0-Beta only splits them into ``metadata``
(``eventID``, ``eventCreatedDateTime``, ``eventType``, ``retractedEventID``) and ``payload``.

- Each event's dedupe key is its ``eventID``; ``sort_at`` is its ``eventCreatedDateTime`` (an
  estimate may be about the future: its creation orders it).
- ``eventClassifierCode`` ACT/EST/PLN → ACTUAL/ESTIMATED/PLANNED.
- ``retractedEventID`` → ``retracts``; a Beta retraction without payload is an event of its
  ``eventType`` code at its ``eventCreatedDateTime``.
- The code is the type code (transport/equipment/shipment), refined by the equipment's
  ``emptyIndicatorCode`` or the shipment event's ``documentTypeCode``.
- Every refusal names the version it tried (``TNT 2.2`` or ``TNT 3.0.0-Beta``) and the field.
"""

from typing import Any, Literal

from pydantic import AliasChoices, AwareDatetime, Field, ValidationError

from canonical.dialects.errors import MalformedPayload
from canonical.dialects.table import DialectTable
from canonical.dialects.wire import Draft, PartnerId, Wire, location, malformed, text
from canonical.events import EventClassifier

__all__ = ["BETA", "V2_2", "Event", "draft", "is_beta", "parse"]

V2_2 = "TNT 2.2"
BETA = "TNT 3.0.0-Beta"
V2_2_SHAPE = "TNT 2.2 (a flat event: no events, metadata or eventClassification)"
CLASSIFIERS = {
    "ACT": EventClassifier.ACTUAL,
    "EST": EventClassifier.ESTIMATED,
    "PLN": EventClassifier.PLANNED,
}
METADATA = frozenset({"eventID", "eventCreatedDateTime", "retractedEventID", "eventType"})
BOOKING, TRANSPORT_DOCUMENT = "BKG", "TRD"


class Place(Wire):
    UNLocationCode: str | None = None
    locationName: str | None = None


class TransportCall(Wire):
    UNLocationCode: str | None = None
    location: Place | None = None


class DocumentReference(Wire):
    type: str | None = Field(None, validation_alias=AliasChoices("type", "documentReferenceType"))
    value: str | None = Field(
        None, validation_alias=AliasChoices("value", "documentReferenceValue")
    )


class Event(Wire):
    eventID: PartnerId
    eventType: PartnerId
    eventCreatedDateTime: AwareDatetime
    eventDateTime: AwareDatetime | None = None
    eventClassifierCode: Literal["ACT", "EST", "PLN"] | None = None
    retractedEventID: PartnerId | None = None
    transportEventTypeCode: str | None = None
    equipmentEventTypeCode: str | None = None
    shipmentEventTypeCode: str | None = None
    emptyIndicatorCode: str | None = None
    documentTypeCode: str | None = None
    documentID: str | None = None
    documentReference: str | None = None
    reason: str | None = None
    changeRemark: str | None = None
    transportCall: TransportCall | None = None
    eventLocation: Place | None = None
    documentReferences: tuple[DocumentReference, ...] = ()
    relatedDocumentReferences: tuple[DocumentReference, ...] = ()
    carrierBookingReference: str | None = None
    transportDocumentReference: str | None = None

    def code(self) -> tuple[str, str | None]:
        """The type code and its refinement (documentTypeCode / emptyIndicatorCode)."""
        if self.shipmentEventTypeCode:
            return self.shipmentEventTypeCode, self.documentTypeCode
        if self.equipmentEventTypeCode:
            return self.equipmentEventTypeCode, self.emptyIndicatorCode
        return self.transportEventTypeCode or self.eventType, None

    def reference(self, kind: str) -> str | None:
        """The booking (BKG) or transport document (TRD) this event names."""
        own = self.carrierBookingReference if kind == BOOKING else self.transportDocumentReference
        listed = self.documentReferences + self.relatedDocumentReferences
        candidates = [own, *(ref.value for ref in listed if ref.type == kind)]
        if self.documentTypeCode == kind:
            candidates.append(self.documentReference or self.documentID)
        return next(filter(None, map(text, candidates)), None)

    def references(self) -> tuple[str | None, str | None]:
        """The booking and the transport document this event names."""
        return self.reference(BOOKING), self.reference(TRANSPORT_DOCUMENT)


class BetaEvent(Wire):
    metadata: dict[str, Any]
    payload: dict[str, Any] | None = None


def is_beta(item: Any) -> bool:
    """Whether ``item`` has the 3.0.0-Beta shape (a ``metadata`` section)."""
    return isinstance(item, dict) and "metadata" in item


def _join(*parts: str) -> str:
    return ".".join(part for part in parts if part)


def _refused(partner: str, version: str, err: ValidationError, where: str) -> MalformedPayload:
    plain = malformed(partner, err, where)
    return MalformedPayload(partner, plain.field, f"{version}: {plain.problem}")


def parse(partner: str, item: Any, where: str) -> tuple[Event, str, str]:
    """The event at ``where``, the path of its business fields, and the version it is in."""
    if not is_beta(item):
        try:
            return Event.model_validate(item), where, V2_2
        except ValidationError as err:
            raise _refused(partner, V2_2_SHAPE, err, where) from err
    try:
        beta = BetaEvent.model_validate(item)
        event = Event.model_validate({**(beta.payload or {}), **beta.metadata})
    except ValidationError as err:
        loc = err.errors()[0]["loc"]
        field = str(loc[0]) if loc else ""
        if field in ("metadata", "payload"):
            raise _refused(partner, BETA, err, where) from err
        in_metadata = field in METADATA or field in item["metadata"]
        section = "metadata" if in_metadata else "payload"
        raise _refused(partner, BETA, err, _join(where, section)) from err
    return event, _join(where, "payload"), BETA


def draft(event: Event, where: str, version: str, table: DialectTable) -> Draft:
    """The draft of one parsed 2.2 / Beta event; ``where`` is the path of its business fields."""
    if event.retractedEventID is None:
        for field in ("eventDateTime", "eventClassifierCode"):
            if getattr(event, field) is None:
                raise MalformedPayload(
                    table.partner,
                    _join(where, field),
                    f"{version}: required unless the event retracts another",
                )
    code, sub_code = event.code()
    call = event.transportCall or TransportCall()
    place = call.location or event.eventLocation or Place()
    return Draft(
        occurred_at=event.eventDateTime or event.eventCreatedDateTime,
        resolution=table.resolve(code, sub_code),
        raw_status=code,
        raw_sub_status=sub_code,
        partner_event_id=event.eventID,
        classifier=CLASSIFIERS[event.eventClassifierCode or "ACT"],
        location=location(
            name=place.locationName, un_locode=place.UNLocationCode or call.UNLocationCode
        ),
        reason=event.reason or event.changeRemark,
        retracts=event.retractedEventID,
        sort_at=event.eventCreatedDateTime,
    )
