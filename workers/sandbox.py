"""How the worker runs workflow code: Temporal's sandbox, with our own packages passed through.

The sandbox re-imports, for every workflow run, each module the workflow imports that is not
passed through, so that module-level state cannot leak from one run into another. Our packages
hold no such state (only constants and definitions; ``tests/workflow/test_sandbox.py`` checks),
so for them the re-import guarded nothing and cost memory: with it, a cached shipment cost the
worker about twice as much. The standard library stays sandboxed, so the runtime restrictions
hold (a workflow that calls ``datetime.now()``, ``random`` or reads the environment fails its
task); passing everything through would lift those too (the same test checks they hold).
"""

from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

__all__ = ["OUR_PACKAGES", "workflow_runner"]

OUR_PACKAGES = ("workflows", "activities", "canonical", "workers", "store", "observability")
"""Imported once per worker process, shared by every workflow run."""


def workflow_runner() -> SandboxedWorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*OUR_PACKAGES)
    )
