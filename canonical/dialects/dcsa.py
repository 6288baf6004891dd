"""DCSA Track & Trace events (v2.2 flat, v3 ``metadata``/``payload``) → canonical events.

- The payload is one event or a list of events. Payload dedupe key: the event's ``eventID``
  for a single event, a hash of the body for a list.
- Each event's dedupe key is its ``eventID``. Events come out oldest first by
  ``eventCreatedDateTime`` (an estimate may be about the future: its creation orders it).
- ``eventClassifierCode`` ACT/EST/PLN → ACTUAL/ESTIMATED/PLANNED; only ACTUAL events move a
  shipment, the others update its ETA.
- ``retractedEventID`` → ``retracts_event_id = event_id_for("dcsa", retractedEventID)``; a v3
  retraction without payload is an UNKNOWN event at its ``eventCreatedDateTime``.
- Milestones come from the type code (ARRI/DEPA, LOAD…CUSR, CONF…RELS) refined by the
  equipment's ``emptyIndicatorCode`` or the shipment event's ``documentTypeCode``.
- Location: the UN/LOCODE (and name) of the transport call, else of ``eventLocation``.
- References: ``booking_reference`` (carrierBookingReference / BKG) and ``transport_document``
  (transportDocumentReference / TRD), from the fields or the document references.
- Timestamps must carry a UTC offset.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import AliasChoices, AwareDatetime, Field, ValidationError

from canonical.dialects.errors import MalformedPayload
from canonical.dialects.normalized import NormalizedWebhook, PartnerReferences
from canonical.dialects.table import load_table
from canonical.dialects.wire import (
    Draft,
    PartnerId,
    Wire,
    body_key,
    decode,
    location,
    malformed,
    text,
    validate,
    webhook,
)
from canonical.events import EventClassifier

PARTNER = "dcsa"
TABLE = load_table(PARTNER)
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


class V3Event(Wire):
    metadata: dict[str, Any]
    payload: dict[str, Any] | None = None


def _parse(item: Any, where: str) -> tuple[Event, str]:
    """The event at ``where`` in the body, and the path of its business fields."""
    if not (isinstance(item, dict) and "metadata" in item):
        return validate(PARTNER, Event, item, where), where
    v3 = validate(PARTNER, V3Event, item, where)
    try:
        event = Event.model_validate({**(v3.payload or {}), **v3.metadata})
    except ValidationError as err:
        loc = err.errors()[0]["loc"]
        field = str(loc[0]) if loc else ""
        section = "metadata" if field in METADATA or field in v3.metadata else "payload"
        raise malformed(PARTNER, err, _join(where, section)) from err
    return event, _join(where, "payload")


def _join(*parts: str) -> str:
    return ".".join(part for part in parts if part)


def _draft(event: Event, where: str) -> Draft:
    if event.retractedEventID is None:
        for field in ("eventDateTime", "eventClassifierCode"):
            if getattr(event, field) is None:
                raise MalformedPayload(
                    PARTNER, _join(where, field), "required unless the event retracts another"
                )
    code, sub_code = event.code()
    call = event.transportCall or TransportCall()
    place = call.location or event.eventLocation or Place()
    return Draft(
        occurred_at=event.eventDateTime or event.eventCreatedDateTime,
        resolution=TABLE.resolve(code, sub_code),
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


def normalize(body: bytes, *, received_at: datetime) -> NormalizedWebhook:
    """One DCSA event or a list of them; raises MalformedPayload for anything else."""
    data = decode(PARTNER, body)
    items = data if isinstance(data, list) else [data]
    wheres = [f"[{index}]" for index in range(len(items))] if isinstance(data, list) else [""]
    parsed = [_parse(item, where) for item, where in zip(items, wheres, strict=True)]
    events = [event for event, _ in parsed]
    booking = next(filter(None, (event.reference(BOOKING) for event in events)), None)
    document = next(filter(None, (event.reference(TRANSPORT_DOCUMENT) for event in events)), None)
    return webhook(
        PARTNER,
        dedupe_key=body_key(body) if isinstance(data, list) else events[0].eventID,
        drafts=[_draft(event, where) for event, where in parsed],
        references=PartnerReferences(booking_reference=booking, transport_document=document),
        received_at=received_at,
        subject=booking or document or "",
    )
