"""Schemathesis against the live API: no 5xx, and every answer matches the documented schema.

The real app serves on a real port, against the real dev server (with the stand-in worker
answering queries and updates) and the real store: once on SQLite, once on PostgreSQL
(skipped with the reason where no PostgreSQL answers, required in CI). Requests carry an
admin token, so every documented operation is reachable; rate limits are raised out of the
way. Generated ids name nothing, so every other case of an operation on one shipment or inbox
message is sent to one that exists (cancel has a shipment of its own: it ends it), and the
success answers are checked too. ``max_examples`` keeps the whole run short.
"""

import itertools
import json
from dataclasses import dataclass

import pytest
import schemathesis
from api_support import start_shipment
from hypothesis import HealthCheck, settings
from live import LiveApi, Stack
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.openapi import build_document
from store.inbox import store_message
from store.tokens import Role

SCHEMA = schemathesis.openapi.from_dict(build_document())
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
MAX_EXAMPLES = 10
TURNS = itertools.count()


@dataclass
class Target:
    api: LiveApi
    headers: dict[str, str]
    shipment_id: str
    cancel_id: str
    message_id: int

    def existing(self, case: schemathesis.Case) -> None:
        """Point ``case`` at things that exist, every other time."""
        parameters = case.path_parameters or {}
        if next(TURNS) % 2:
            return
        if "shipment_id" in parameters:
            cancel = case.operation.path.endswith("/cancel")
            parameters["shipment_id"] = self.cancel_id if cancel else self.shipment_id
        if "message_id" in parameters:
            parameters["message_id"] = str(self.message_id)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def target(
    request: pytest.FixtureRequest, stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Target:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'store.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    api = stack.serve_api(url, rate_limit_burst=100_000, webhook_rate_limit_burst=100_000,
                          update_timeout_s=5)  # fmt: skip

    async def two_shipments() -> tuple[str, str]:
        client = await stack.client()
        return (await start_shipment(client)).id, (await start_shipment(client)).id

    shipment_id, cancel_id = stack.run(two_shipments())
    body = json.dumps({"object": "Event", "id": "evt_seed", "description": "tracker.updated",
                       "result": {"object": "Tracker", "tracking_code": "EZ000SEED",
                                  "status": "in_transit", "tracking_details": []}})  # fmt: skip
    message, _ = store_message(api.store, partner="easypost", dedupe_key="evt_seed",
                               headers={}, body=body.encode())  # fmt: skip
    assert message.id is not None
    return Target(api, api.headers(Role.ADMIN), shipment_id, cancel_id, message.id)


@SCHEMA.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_live_api_keeps_its_documented_contract(
    case: schemathesis.Case, target: Target
) -> None:
    target.existing(case)
    case.call_and_validate(
        base_url=target.api.url, headers=target.headers, checks=CHECKS, timeout=30
    )
