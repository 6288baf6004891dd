"""Replay committed histories of real runs through today's ShipmentWorkflow.

A change to released workflow code that would break running shipments fails here. Each
history is replayed in a fresh interpreter, as a freshly started worker would, so that code
which only works after something else warmed up the process (a lazily loaded data file, say)
fails too.

To add a history: run the platform (`make run`), then
`.venv/bin/temporal workflow show --workflow-id shipment-S00001 --output json >
tests/histories/shipment-S00001__<what it shows>.json` (the workflow id, two underscores, what
it shows), and check it holds no secret. A customs declaration's
history (``shipment-S00001-customs-export``) replays the same way.
"""

import subprocess
import sys
from pathlib import Path

import pytest

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))

REPLAY = """
import asyncio, sys
from pathlib import Path
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from workers.lifetime import exit_process
from workers.sandbox import workflow_runner
from workflows.shipment import ShipmentWorkflow

async def main() -> None:
    path = Path(sys.argv[1])
    # <workflow id>__<what it shows>.json: the id matters since v3 (it names the children)
    workflow_id = path.stem.split("__")[0]
    history = WorkflowHistory.from_json(workflow_id, path.read_text())
    workflows = [ShipmentWorkflow]
    # The worker's own sandbox (our packages passed through): with the default one every
    # package is imported again inside the first workflow task, which under load can outlast
    # the SDK's 2 s deadlock detector and fail a replay that is deterministic.
    replayer = Replayer(workflows=workflows, data_converter=pydantic_data_converter,
                        workflow_runner=workflow_runner())
    await replayer.replay_workflow(history)

asyncio.run(main())
exit_process(0)  # the SDK's runtime can abort CPython's teardown (sdk-python#300)
"""


def test_there_are_histories_to_replay() -> None:
    assert HISTORIES, "tests/histories/ holds no recorded history"


@pytest.mark.parametrize("history", HISTORIES, ids=lambda path: path.stem)
def test_history_replays_in_a_fresh_worker(history: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", REPLAY, str(history)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
