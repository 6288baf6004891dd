"""The workflow sandbox passes our own packages through (``workers/sandbox.py``): safe only
while workflow modules keep no state at module level, and while the sandbox's runtime
restrictions still refuse what a workflow must not do. Both are checked here."""

import importlib
import pkgutil
import uuid
from datetime import UTC, datetime

import pytest
from temporalio import workflow
from temporalio.client import WorkflowFailureError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import workflows
from workers.sandbox import workflow_runner

MUTABLE = (list, dict, set, bytearray)


def test_workflow_modules_hold_no_mutable_state_at_module_level() -> None:
    found = []
    for module_info in pkgutil.iter_modules(workflows.__path__):
        module = importlib.import_module(f"workflows.{module_info.name}")
        for name, value in vars(module).items():
            if name.startswith("__") or not isinstance(value, MUTABLE):
                continue
            if not name.isupper():  # a constant is named in capitals and never changed
                found.append(f"{module.__name__}.{name}")
    assert found == []


@workflow.defn(sandboxed=True)
class ReadsTheClock:
    @workflow.run
    async def run(self) -> str:
        return datetime.now(UTC).isoformat()  # not allowed: workflow.now() is


async def test_the_sandbox_still_refuses_a_nondeterministic_call(env: WorkflowEnvironment) -> None:
    queue = f"sandbox-{uuid.uuid4().hex[:6]}"
    async with Worker(env.client, task_queue=queue, workflows=[ReadsTheClock],
                      workflow_runner=workflow_runner(),
                      workflow_failure_exception_types=[Exception]):  # fmt: skip
        with pytest.raises(WorkflowFailureError) as failed:
            await env.client.execute_workflow(
                ReadsTheClock.run, id=f"clock-{uuid.uuid4().hex[:6]}", task_queue=queue
            )
    assert "datetime.datetime.now" in str(failed.value.cause)
