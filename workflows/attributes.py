"""Search attributes merged per workflow task, and only when a value changes.

The workflow says what an attribute should be (``set``) as often as it likes; a small task of
its own (``flush``) upserts what changed once the rest of the workflow task has run, so several
changes in one task are one ``UpsertWorkflowSearchAttributes`` event, and a value that is
already indexed (``OrderRef``, set by the API at start) is never written again.
"""

from collections.abc import Sequence

from temporalio import workflow
from temporalio.common import SearchAttributeKey, SearchAttributeUpdate


class SearchAttributes:
    def __init__(self) -> None:
        known = workflow.info().typed_search_attributes
        self._values: dict[str, object] = {pair.key.name: pair.value for pair in known}
        self._pending: dict[str, SearchAttributeUpdate] = {}

    def set(self, key: SearchAttributeKey[str] | SearchAttributeKey[bool], value: object) -> None:
        if self._values.get(key.name) == value:
            self._pending.pop(key.name, None)
            return
        self._pending[key.name] = key.value_set(value)  # type: ignore[arg-type]

    def set_all(self, pairs: Sequence[tuple[SearchAttributeKey[str], str]]) -> None:
        for key, value in pairs:
            self.set(key, value)

    @property
    def settled(self) -> bool:
        """Nothing left to upsert (checked before the workflow ends or continues as new)."""
        return not self._pending

    async def flush(self) -> None:
        """Runs for the workflow's life: wakes at the end of any task that changed a value."""
        while True:
            await workflow.wait_condition(lambda: bool(self._pending))
            updates = list(self._pending.values())
            self._pending.clear()
            for update in updates:
                self._values[update.key.name] = update.value
            workflow.upsert_search_attributes(updates)
