"""What every network front-end shares in one process: the settings, the store, one
assistant and one fair job queue. A front-end translates its events into ``turn`` calls
and renders the ``TurnResult`` it gets back; it never decides anything itself."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from museforge.assistant import make_planner
from museforge.assistant.jobs import Job, JobQueue, QueueFull
from museforge.assistant.turn import Assistant, TurnResult
from museforge.config import Settings
from museforge.storage.models import Actor, SessionInfo
from museforge.storage.store import Store

Progress = Callable[[str, int, int], None]


@dataclass
class Studio:
    settings: Settings
    store: Store
    assistant: Assistant
    queue: JobQueue

    @classmethod
    def open(cls, settings: Settings, *, workers: int | None = None,
             services: dict[str, Any] | None = None) -> Studio:
        store = Store.open(settings)
        assistant = Assistant(store, make_planner(settings), settings=settings,
                              services=services)
        return cls(settings, store, assistant,
                   JobQueue(workers=workers or getattr(settings, "workers", 1)))

    def close(self) -> None:
        self.queue.close()
        self.store.close()

    def submit(self, actor: Actor, session: SessionInfo, message: str,
               attachments: Sequence[Path] = (), *, on_progress: Progress | None = None,
               on_start: Callable[[], None] | None = None) -> Job:
        """Queue one turn; raises ``QueueFull`` with a sentence for the user."""
        user_key = f"{actor.user.platform}:{actor.user.external_id}"

        def run(job: Job) -> TurnResult:
            return self.assistant.turn(actor, session, message, attachments,
                                       progress=job.progress, cancel=job.cancel_event)

        return self.queue.submit(user_key, run, label=message[:60], on_progress=on_progress,
                                 on_start=on_start)

    async def turn(self, actor: Actor, session: SessionInfo, message: str,
                   attachments: Sequence[Path] = (), *,
                   on_progress: Progress | None = None) -> TurnResult:
        """Queue one turn and wait for it without blocking the event loop. Progress
        callbacks are delivered on the loop's thread."""
        loop = asyncio.get_running_loop()

        def progress(what: str, step: int, total: int) -> None:
            if on_progress is not None:
                loop.call_soon_threadsafe(on_progress, what, step, total)

        job = self.submit(actor, session, message, attachments, on_progress=progress)
        return await asyncio.wrap_future(job.future)  # type: ignore[no-any-return]


__all__ = ["Studio", "QueueFull"]
