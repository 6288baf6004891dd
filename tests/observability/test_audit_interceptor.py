"""The audit interceptor's guarantees, on the dev server: every attempt recorded, none lost."""

import json
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from observed_lifecycle import Lifecycle
from pydantic import BaseModel
from sqlmodel import create_engine
from temporalio import activity, workflow
from temporalio.client import Client, WorkflowFailureError
from temporalio.common import RetryPolicy
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from observability.masking import summarize
from store.audit import list_entries
from store.migrate import upgrade
from workers.audit import AuditInterceptor, _summary

QUEUE = "audit-interceptor-test"


class Call(BaseModel):
    shipment_id: str
    refuse: bool = False
    email: str = "jane@example.com"


class Partner:
    """An activity whose first audit write fails: the store gets its table on attempt 2."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.attempts = 0

    @activity.defn
    async def call_partner(self, call: Call) -> str:
        self.attempts += 1
        if activity.info().attempt == 2:
            upgrade(self.url)  # `borderflow db upgrade`
        if call.refuse:
            raise ApplicationError("no", type="PartnerRejected", non_retryable=True)
        return "done"


@workflow.defn(sandboxed=False)
class CallPartner:
    @workflow.run
    async def run(self, call: Call) -> str:
        return str(await workflow.execute_activity(
            "call_partner", call, task_queue=QUEUE, start_to_close_timeout=timedelta(seconds=10),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100),
                                     non_retryable_error_types=["PartnerRejected"]),
        ))  # fmt: skip


async def test_a_success_is_recorded_before_it_counts_and_a_refusal_with_its_type(
    lifecycle: Lifecycle, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    store = create_engine(url)  # no tables yet: the first audit write fails
    partner = Partner(url)
    client = await Client.connect(
        lifecycle.temporal_address, data_converter=pydantic_data_converter
    )
    async with Worker(client, task_queue=QUEUE, workflows=[CallPartner],
                      activities=[partner.call_partner],
                      interceptors=[AuditInterceptor(store)]):  # fmt: skip
        done = await client.execute_workflow(
            CallPartner.run, Call(shipment_id="shipment-A1"), id=f"audit-{uuid.uuid4()}",
            task_queue=QUEUE,
        )  # fmt: skip
        assert done == "done"
        # The partner call succeeded twice (safe: activities are idempotent); the first
        # success could not be recorded, so it did not count, and the retry was recorded.
        assert partner.attempts == 2
        (entry,) = list_entries(store, shipment_id="shipment-A1")
        assert (entry.attempt, entry.outcome, entry.partner) == (2, "ok", QUEUE)
        assert entry.request_summary is not None and "jane@" not in entry.request_summary

        with pytest.raises(WorkflowFailureError):
            await client.execute_workflow(
                CallPartner.run, Call(shipment_id="shipment-A2", refuse=True),
                id=f"audit-{uuid.uuid4()}", task_queue=QUEUE,
            )  # fmt: skip
        (refused,) = list_entries(store, shipment_id="shipment-A2")
        assert (refused.attempt, refused.outcome) == (1, "PartnerRejected")
        assert refused.idempotency_key is not None
        assert refused.idempotency_key.endswith(":call_partner")


class Party(BaseModel):
    name: str = "Jane Doe"
    phone: str = "+49 40 555 0100"
    country: str = "DE"


class Booking(BaseModel):
    shipment_id: str = "shipment-A3"
    consignee: Party = Party()
    parties: list[Party] = [Party(), Party()]
    api_key: dict[str, str] = {"value": "sk_live_1"}
    note: str = "call jane@example.com"


def test_an_input_is_summarized_as_summarize_does_it_nested_values_unread() -> None:
    args = [Booking()]
    summary = _summary(args)
    assert summary == summarize(Booking())
    assert json.loads(summary) == {
        "shipment_id": "shipment-A3", "consignee": "{…}", "parties": "[2 item(s)]",
        "api_key": "***", "note": "call ***",
    }  # fmt: skip
    several = [Booking(), {"email": "x@example.com", "items": (1, 2)}, "ok"]
    assert _summary(several) == summarize(several)
