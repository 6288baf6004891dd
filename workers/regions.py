"""Regional partner task queues: ``borderflow-<partner>`` becomes ``borderflow-<partner>-<region>``.

A worker started with ``BORDERFLOW_REGION=eu`` polls the partner queues of its region
(``borderflow-odoo-eu``, ``borderflow-carrier-eu``, …) instead of the global ones, so partner
calls for a region's shipments leave from that region (data residency, latency to the partner,
a partner's IP allow-list). The workflow queue (``borderflow-shipments``) stays global: workflow
tasks make no partner call.

:func:`regional_task_queue` is pure (no I/O, no settings, no clock), so workflow code may call it
to pick the queue of an activity; the region itself must come from the workflow's input, never
from the environment of the worker that happens to replay it.
"""

import re

REGION_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$"
_REGION = re.compile(REGION_PATTERN)


def check_region(region: str) -> str:
    """``region`` if it is a valid queue suffix (lowercase letters, digits, inner dashes)."""
    if not _REGION.match(region):
        raise ValueError(
            f"region {region!r}: use 1-32 lowercase letters, digits or inner dashes (e.g. eu-west)"
        )
    return region


def regional_task_queue(task_queue: str, region: str | None) -> str:
    """The task queue of ``task_queue`` in ``region``; unchanged when ``region`` is ``None``."""
    if region is None:
        return task_queue
    return f"{task_queue}-{check_region(region)}"
