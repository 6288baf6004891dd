import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.engine import Engine
from tests_support import migrated_engine

from store.tracking import link_tracking, shipment_for_tracking


def tracking() -> str:
    return f"EZ{uuid.uuid4().hex[:12].upper()}"


def test_a_link_routes_a_tracking_number_to_its_shipment(engine: Engine) -> None:
    number = tracking()
    assert shipment_for_tracking(engine, "easypost", number) is None
    link_tracking(engine, "easypost", number, "shipment-S00001")
    assert shipment_for_tracking(engine, "easypost", number) == "shipment-S00001"
    # the same number at another carrier is another parcel
    assert shipment_for_tracking(engine, "dhl", number) is None


def test_linking_again_is_a_no_op_but_stealing_a_number_is_refused(engine: Engine) -> None:
    number = tracking()
    link_tracking(engine, "easypost", number, "shipment-S00001")
    link_tracking(engine, "easypost", number, "shipment-S00001")
    with pytest.raises(ValueError, match="already belongs to shipment-S00001"):
        link_tracking(engine, "easypost", number, "shipment-S00002")
    assert shipment_for_tracking(engine, "easypost", number) == "shipment-S00001"


def test_concurrent_retries_of_the_same_link_all_succeed(engine: Engine) -> None:
    number = tracking()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(
            pool.map(lambda _: link_tracking(engine, "easypost", number, "shipment-S9"), range(16))
        )
    assert results == [None] * 16
    assert shipment_for_tracking(engine, "easypost", number) == "shipment-S9"


def test_migrating_again_keeps_the_rows(engine: Engine) -> None:
    number = tracking()
    link_tracking(engine, "easypost", number, "shipment-S1")
    again = migrated_engine(engine.url.render_as_string(hide_password=False))
    assert shipment_for_tracking(again, "easypost", number) == "shipment-S1"
    again.dispose()
