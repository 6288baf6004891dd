"""Which shipment a partner's payload may reach, from the tracking links in the store.

The PostgreSQL database is shared by the session: every test uses names of its own (``_``).
"""

import uuid

import pytest
from sqlalchemy.engine import Engine

from api.partner_scope import UNKNOWN, PartnerScope, Route, route
from canonical.dialects.normalized import PartnerReferences as Refs
from store.tracking import link_tracking, links_for_shipment, links_for_tracking


@pytest.fixture
def _() -> str:
    return uuid.uuid4().hex[:8]


def test_links_are_found_by_number_and_by_shipment(engine: Engine, _: str) -> None:
    link_tracking(engine, "easypost", f"EZ1{_}", f"shipment-A{_}")
    link_tracking(engine, "dhl", f"EZ1{_}", f"shipment-B{_}")  # the same number at two carriers
    link_tracking(engine, "dhl", f"JD2{_}", f"shipment-B{_}")
    assert links_for_tracking(engine, f"EZ1{_}") == {
        "easypost": f"shipment-A{_}",
        "dhl": f"shipment-B{_}",
    }
    assert links_for_tracking(engine, "nope") == {}
    assert links_for_shipment(engine, f"shipment-B{_}") == {f"EZ1{_}": "dhl", f"JD2{_}": "dhl"}
    assert links_for_shipment(engine, f"shipment-C{_}") == {}


def test_a_carrier_reaches_only_shipments_it_holds_a_tracking_number_of(
    engine: Engine, _: str
) -> None:
    link_tracking(engine, "easypost", f"EZ1{_}", f"shipment-A{_}")
    link_tracking(engine, "dhl", f"JD2{_}", f"shipment-B{_}")
    assert route(engine, "easypost", Refs(tracking_number=f"EZ1{_}")) == Route(f"shipment-A{_}")
    other = route(engine, "easypost", Refs(tracking_number=f"JD2{_}"))
    assert other.shipment_id is None
    assert (
        other.refused
        == f"tracking number JD2{_} is not easypost's: it is linked to dhl (shipment-B{_})"
    )
    assert route(engine, "easypost", Refs(tracking_number=f"EZ9{_}")) == UNKNOWN  # not linked yet
    # naming our shipment id directly is only as good as a tracking number of its own
    assert route(engine, "easypost", Refs(shipment_id=f"shipment-A{_}")) == Route(f"shipment-A{_}")
    refused = route(engine, "easypost", Refs(shipment_id=f"shipment-B{_}"))
    assert (
        refused.refused == f"easypost holds no tracking number of shipment-B{_} (its carriers: dhl)"
    )
    assert route(engine, "easypost", Refs(shipment_id=f"shipment-C{_}")) == UNKNOWN
    mixed = route(engine, "easypost", Refs(tracking_number=f"EZ1{_}", shipment_id=f"shipment-B{_}"))
    assert mixed.refused == (
        f"easypost tracking number EZ1{_} belongs to shipment-A{_}, not to shipment-B{_}"
    )


def test_the_broker_names_shipments_by_our_reference(engine: Engine, _: str) -> None:
    link_tracking(engine, "dhl", f"JD2{_}", f"shipment-B{_}")
    assert route(engine, "broker", Refs(shipment_id=f"shipment-Z{_}")) == Route(f"shipment-Z{_}")
    assert route(engine, "broker", Refs(tracking_number=f"JD2{_}")) == Route(f"shipment-B{_}")
    assert route(engine, "broker", Refs(tracking_number=f"JD9{_}")) == UNKNOWN
    assert route(engine, "broker", Refs()) == UNKNOWN


def test_the_scope_remembers_what_links_prove_and_reads_the_store_for_the_rest(
    engine: Engine, _: str
) -> None:
    scope = PartnerScope(engine, max_links=3)
    link_tracking(engine, "easypost", f"EZ1{_}", f"shipment-A{_}")
    mine, named = Refs(tracking_number=f"EZ1{_}"), Refs(shipment_id=f"shipment-A{_}")
    assert scope.cached("easypost", mine) is None  # nothing read yet
    assert scope.route("easypost", mine) == Route(f"shipment-A{_}")
    assert scope.cached("easypost", mine) == Route(f"shipment-A{_}")
    crossed = Refs(tracking_number=f"EZ1{_}", shipment_id=f"shipment-B{_}")
    assert scope.cached("easypost", crossed) == route(engine, "easypost", crossed)
    assert scope.route("easypost", named) == Route(f"shipment-A{_}")
    assert scope.cached("easypost", named) == Route(f"shipment-A{_}")
    # an unknown or refused reference is never remembered: a link written since changes it
    later = Refs(tracking_number=f"EZ2{_}")
    assert scope.route("easypost", later) == UNKNOWN and scope.cached("easypost", later) is None
    link_tracking(engine, "dhl", f"JD3{_}", f"shipment-C{_}")
    theirs = Refs(tracking_number=f"JD3{_}")
    assert scope.route("easypost", theirs).refused and scope.cached("easypost", theirs) is None
    link_tracking(engine, "easypost", f"EZ2{_}", f"shipment-D{_}")
    assert scope.route("easypost", later) == Route(f"shipment-D{_}")
    assert len(scope) == 3  # bounded: the least recently used fact went first
    assert scope.cached("easypost", mine) is None
    assert scope.cached("broker", Refs(shipment_id="shipment-Z")) == Route("shipment-Z")
