"""Any Karrio carrier behind :class:`~activities.carriers.port.CarrierPort`, in-process.

One :class:`KarrioCarrier` per :class:`~activities.carriers.karrio_settings.KarrioConnection`
(Karrio's SDK and extensions, LGPL-3.0, used unmodified). Guarantees, beyond the port's:

- every Karrio operation is blocking code run in this connection's own threads
  (``max_threads``) under our deadline (``deadline_s``), each HTTP request with a socket
  timeout (``timeout_s``): Karrio's own default is none. See :mod:`.karrio_transport`;
- errors are ours: transport failures, timeouts, 408/409/429 (its ``Retry-After`` kept) and 5xx
  are retryable; the carrier's refusal (a 4xx, or Karrio's parsed error messages) is a
  non-retryable ``PartnerRejected`` carrying the carrier's code and message; an operation the
  extension does not support is refused the same way (``track`` excepted: no events);
- we call Karrio's mapper and proxy ourselves, as its fluent API does, without its
  ``fail_safe``, which would turn a timeout into an error message indistinguishable from a
  refusal. A fresh gateway per call keeps Karrio's in-memory tracer from growing and its
  settings object from being shared between threads;
- ``book`` is idempotent for one ``idempotency_key``: each POST of the booking carries a key
  derived from it (see :mod:`.karrio_transport`; EasyPost, our simulator and most REST
  carriers honour ``Idempotency-Key``), parcel references are derived from it too (Karrio's
  ``generic`` numbers parcels by them and calls nobody), and the request has no clock in it;
- base URL: Karrio has no setting for it. The seam is each extension's ``Settings.server_url``
  property, which every proxy formats its URLs from: with ``server_url`` configured, the
  settings object is an instance of a subclass whose ``server_url`` returns it (no Karrio code
  patched, nothing global);
- tracking stays ours: the raw answer Karrio's proxy received goes through our dialect
  (``dialect``), raw codes kept, so a poll and a webhook of the same scan share an
  ``event_id``; Karrio's tracking parser is not run (its status mapping is lossier than ours,
  and EasyPost's parser rejects any timestamp not ending in ``Z``). An answer the carrier
  refused (unknown tracking number) is no events; a transient failure is retryable;
- labels: Karrio returns them only at booking, so ``label`` returns the booking's label
  document (the carrier's URL when there is one, with the hash of the bytes Karrio fetched);
- ``cancel`` is Karrio's cancel; ``refund_status`` ``rejected``/``not_applicable`` (EasyPost) or
  an unsuccessful confirmation is the non-retryable "too late to cancel".
"""

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

import karrio.lib as karrio_lib
import karrio.references as karrio_references
import karrio.sdk as karrio_sdk
from karrio.core import models

from activities.carriers import karrio_transport as transport
from activities.carriers import karrio_wire as wire
from activities.carriers.http import contract_error
from activities.carriers.karrio_settings import KarrioConnection
from activities.errors import business_error
from canonical.billing import Charge, ChargeKind
from canonical.booking import CarrierBooking
from canonical.dialects import MalformedPayload, normalize
from canonical.documents import Document
from canonical.events import ShipmentEvent
from canonical.shipment import Shipment

logger = logging.getLogger(__name__)
T = TypeVar("T")
REFUND_REJECTED = frozenset({"rejected", "not_applicable"})


def _settings_class(base: type, server_url: str | None) -> type:
    if server_url is None:
        return base
    url = server_url.rstrip("/")
    # Karrio builds settings from the class's own annotations (jstruct): keep the base's.
    namespace = {"server_url": property(lambda _self: url), "__annotations__": _fields(base)}
    return type(base.__name__, (base,), namespace)


def _fields(settings_class: type) -> dict[str, Any]:
    return dict(getattr(settings_class, "__annotations__", {}))


class KarrioCarrier:
    """:class:`~activities.carriers.port.CarrierPort` through one Karrio connection."""

    def __init__(self, connection: KarrioConnection) -> None:
        transport.install()
        self.name = connection.name
        self.webhook_partner = connection.dialect or connection.name
        self._connection = connection
        provider = karrio_sdk.gateway.providers.get(connection.carrier)
        if provider is None:
            raise ValueError(f"karrio has no extension {connection.carrier!r} installed")
        unknown = set(connection.karrio_settings()) - set(_fields(provider.Settings))
        if unknown:  # Karrio would log them, values (secrets) included, and drop them
            raise ValueError(f"karrio {connection.carrier} has no settings {sorted(unknown)}")
        self._settings_class = _settings_class(provider.Settings, connection.server_url)
        self._operations = frozenset(karrio_references.detect_proxy_methods(provider.Proxy))
        self._executor = ThreadPoolExecutor(
            max_workers=connection.max_threads, thread_name_prefix=f"karrio-{connection.name}"
        )

    async def aclose(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- the port -----------------------------------------------------------------------------
    async def book(
        self, reference: str, shipment: Shipment, *, idempotency_key: str
    ) -> CarrierBooking:
        """Create (buy) the shipment once per ``idempotency_key`` (see the module docstring)."""
        request = wire.shipment_request(
            self._connection, reference, shipment, idempotency_key=idempotency_key
        )

        def create(gateway: Any) -> tuple[Any, list[Any], Any]:
            response = gateway.proxy.create_shipment(
                gateway.mapper.create_shipment_request(request)
            )
            details, messages = gateway.mapper.parse_shipment_response(response)
            return details, messages, response.deserialize()

        details, raw = await self._call("create_shipment", create, idempotency_key)
        booking = wire.booking_of(self._connection, details, raw)
        logger.info("%s: %s booked as %s (%s)", self.name, reference,
                    booking.booking_reference, booking.tracking_number)  # fmt: skip
        return booking

    async def cancel(self, booking: CarrierBooking) -> None:
        """Karrio's cancel; cancelling a cancelled booking succeeds where the carrier's does."""
        request = models.ShipmentCancelRequest(shipment_identifier=booking.booking_reference)

        def cancel(gateway: Any) -> tuple[Any, list[Any], Any]:
            response = gateway.proxy.cancel_shipment(
                gateway.mapper.create_cancel_shipment_request(request)
            )
            details, messages = gateway.mapper.parse_cancel_shipment_response(response)
            return details, messages, response.deserialize()

        details, raw = await self._call("cancel_shipment", cancel)
        refund = raw.get("refund_status") if isinstance(raw, dict) else None
        if refund in REFUND_REJECTED or not details.success:
            raise business_error(
                self.name, f"too late to cancel {booking.booking_reference}: refund {refund}"
            )
        logger.info("%s: %s cancelled (refund %s)", self.name, booking.booking_reference, refund)

    async def label(self, booking: CarrierBooking) -> Document:
        """The label the carrier returned at booking (Karrio fetches labels only then)."""
        if booking.label is None:
            raise contract_error(self.name, "booking", "the carrier returned no usable label")
        return booking.label

    async def track(self, booking: CarrierBooking, *, received_at: datetime) -> list[ShipmentEvent]:
        """Every scan so far, oldest first, through our dialect (none without a dialect)."""
        dialect = self._connection.dialect
        if dialect is None or not self._supports("get_tracking"):
            return []
        request = wire.tracking_request(self._connection, booking.tracking_number)

        def fetch(gateway: Any) -> tuple[Any, list[Any], Any]:
            response = gateway.proxy.get_tracking(gateway.mapper.create_tracking_request(request))
            raw = response.deserialize()  # Karrio's own parser (its lossy statuses) not run
            return raw, [], raw

        raw, _ = await self._call("get_tracking", fetch)
        events: list[ShipmentEvent] = []
        for answer in wire.tracking_answers(raw):
            body = wire.dialect_body(dialect, answer)
            try:
                events += normalize(dialect, body, received_at=received_at).events
            except MalformedPayload as err:
                raise contract_error(self.name, "tracking", str(err)) from err
        return events

    async def final_charges(self, booking: CarrierBooking) -> list[Charge] | None:
        """The charge the carrier stated at booking; ``None`` when it stated none."""
        return list(booking.charges) or None

    # -- beyond the port ------------------------------------------------------------------------
    async def rate(self, shipment: Shipment) -> list[tuple[str, Charge]]:
        """The carrier's rates for the services this connection books: (service, charge)."""
        request = wire.rate_request(self._connection, shipment)

        def fetch(gateway: Any) -> tuple[Any, list[Any], Any]:
            response = gateway.proxy.get_rates(gateway.mapper.create_rate_request(request))
            rates, messages = gateway.mapper.parse_rate_response(response)
            return rates, messages, None

        rates, _ = await self._call("get_rates", fetch)
        quoted = [(r.service, wire.money(r.total_charge, r.currency)) for r in rates or []]
        return [
            (service, Charge(kind=ChargeKind.FREIGHT, amount=amount))
            for service, amount in quoted
            if amount is not None
        ]

    # -- plumbing -------------------------------------------------------------------------------
    def _gateway(self) -> Any:
        settings = karrio_lib.to_object(self._settings_class, self._connection.karrio_settings())
        return karrio_sdk.gateway[self._connection.carrier].create(settings)

    def _supports(self, operation: str) -> bool:
        return operation in self._operations

    async def _call(
        self,
        operation: str,
        step: Callable[[Any], tuple[T, list[Any], Any]],
        idempotency_key: str | None = None,
    ) -> tuple[T, Any]:
        """``step(gateway)`` in a thread, classified: its result and the raw answer."""
        if not self._supports(operation):
            raise business_error(
                self.name, f"{self._connection.carrier} cannot {operation} through karrio"
            )
        connection = self._connection
        call = transport.KarrioCall(
            timeout_s=connection.timeout_s,
            deadline=time.monotonic() + connection.deadline_s,
            idempotency_header=connection.idempotency_header,
            idempotency_key=idempotency_key,
        )
        result, messages, raw = await transport.run(
            self.name,
            self._executor,
            call,
            lambda: step(self._gateway()),
            deadline_s=connection.deadline_s,
        )
        produced = bool(result) if isinstance(result, list) else result is not None
        error = transport.failure(self.name, call, messages or [], produced=produced)
        if error is not None:
            raise error
        return result, raw


__all__ = ["KarrioCarrier"]
