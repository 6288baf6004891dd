"""The shipment list's visibility query and cursors, without a server."""

import pytest
from pydantic import ValidationError

from api.settings import ApiSettings
from api.shipment_list import Cursors, ShipmentListQuery, literal, visibility_query


def test_every_filter_becomes_one_quoted_clause() -> None:
    filters = ShipmentListQuery.model_validate(
        {"status": "customs", "carrier": "dhl", "lane": "DE-US", "breached": "true",
         "order_ref": "S00042"}
    )  # fmt: skip
    assert visibility_query(filters) == (
        "WorkflowType = 'ShipmentWorkflow' AND ShipmentStatus = 'customs' AND Carrier = 'dhl' "
        "AND Lane = 'DE-US' AND OrderRef = 'S00042' AND SlaBreached = true"
    )
    assert visibility_query(ShipmentListQuery()) == "WorkflowType = 'ShipmentWorkflow'"
    not_breached = visibility_query(ShipmentListQuery(breached=False))
    assert not_breached.endswith("AND (SlaBreached = false OR SlaBreached IS NULL)")


@pytest.mark.parametrize("value", ["a'b", 'a"b', "a\\b", "a`b", "a\nb", ""])
def test_a_value_that_could_leave_its_quotes_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        literal(value)


def test_cursors_open_only_for_the_query_and_key_that_sealed_them() -> None:
    cursors = Cursors(b"k" * 32)
    query = "WorkflowType = 'ShipmentWorkflow'"
    token = b'{"StartTime":"2026-11-20T10:00:00Z","RunID":"r"}'
    sealed = cursors.seal(query, token)
    assert sealed.replace("-", "").replace("_", "").isalnum() and "=" not in sealed
    assert cursors.open(query, sealed) == token
    assert cursors.open(query + " AND Lane = 'DE-US'", sealed) is None
    assert Cursors(b"x" * 32).open(query, sealed) is None
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    assert cursors.open(query, flipped) is None
    assert cursors.open(query, "!!") is None and cursors.open(query, "") is None


def test_an_update_must_time_out_before_the_request_does() -> None:
    with pytest.raises(ValidationError, match="update_timeout_s"):
        ApiSettings(
            _env_file=None,  # type: ignore[call-arg]
            easypost_webhook_secret="s", broker_webhook_secret="s",
            request_timeout_s=10, update_timeout_s=10,
        )  # fmt: skip
