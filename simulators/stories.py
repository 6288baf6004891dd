"""Stories: what a simulator does by itself after a write, one step per ``sim_time_scale``.

A carrier's tracking story after a booking, the broker's declaration story after a filing: the
state says which step comes next (:class:`Storyline`), the simulator says what taking it means
(:data:`TakeStep`: change the state, push a webhook, save). :class:`Stories` runs one
background task per subject: wait one time scale, ask again for the next step (a cancel or
refund may have stopped the story meanwhile), take it; until there is none. Unfinished
stories are resumed after a restart; :meth:`Stories.close` stops every one of them.
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from aiohttp import web

from simulators.background import BackgroundTasks

SIGNED_BY = "J. SMITH"
"""Who signs for every simulated delivery."""

StepT = TypeVar("StepT")
StepT_co = TypeVar("StepT_co", covariant=True)

TakeStep = Callable[[web.Application, str, StepT], None]
"""``(app, subject, step)``: apply one story step of ``subject`` (an id the story is about)."""


class Storyline(Protocol[StepT_co]):
    """The state behind a story: what comes next for a subject, and who is not done yet."""

    def next_step(self, subject: str) -> StepT_co | None:
        """The step still to come, or ``None`` once the story is over or stopped."""
        ...

    def unfinished(self) -> list[str]:
        """The subjects whose story has steps left, oldest first."""
        ...


def step_after(story: Sequence[StepT], done: int, *, stopped: bool = False) -> StepT | None:
    """The step that follows ``done`` steps of ``story``; ``None`` when stopped or all done."""
    if stopped or done >= len(story):
        return None
    return story[done]


@dataclass(frozen=True)
class Story(Generic[StepT]):
    """The stories of one simulator: its state says what comes next, ``take_step`` takes it."""

    storyline: Storyline[StepT]
    take_step: TakeStep[StepT]
    label: str
    """Names the stories in logs (``"<label>: resuming the story of …"``) and their tasks."""
    logger: logging.Logger
    task_prefix: str = "story:"


class Stories:
    """The running stories of one simulator app, one background task per subject."""

    def __init__(self, app: web.Application, story: Story[Any], *, time_scale: float) -> None:
        self._app = app
        self._story = story
        self._time_scale = time_scale
        self._tasks = BackgroundTasks(f"{story.label}-stories")

    def start(self, subject: str) -> None:
        """Tell the story of ``subject`` in the background."""
        self._tasks.spawn(self._tell(subject), name=f"{self._story.task_prefix}{subject}")

    def resume(self) -> None:
        """Start the stories left unfinished (after a restart)."""
        for subject in self._story.storyline.unfinished():
            self._story.logger.info("%s: resuming the story of %s", self._story.label, subject)
            self.start(subject)

    async def close(self) -> None:
        """Stop every story and wait until it has stopped."""
        await self._tasks.close()

    async def _tell(self, subject: str) -> None:
        storyline = self._story.storyline
        while storyline.next_step(subject) is not None:
            await asyncio.sleep(self._time_scale)
            step = storyline.next_step(subject)  # stopped meanwhile (cancel, refund)?
            if step is None:
                return
            self._story.take_step(self._app, subject, step)
