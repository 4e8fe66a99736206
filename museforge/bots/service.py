"""The one door for a turn. Every front-end (``ask``, the terminal chat, the web chat,
Discord) hands a ``TurnRequest`` to ``Studio.submit`` (or ``ask``/``turn``, which wait for
it) and renders the ``TurnResult`` that comes back; it never builds an assistant nor
touches a queue itself. Behind the door: the settings, the store, the assistant (one more
per other image preset) and the fair queue that ``open_queue`` chose."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from museforge.assistant import make_planner
from museforge.assistant.jobs import (
    ProgressFn,
    QueueFull,
    TurnHandle,
    TurnQueue,
    TurnRequest,
    open_queue,
)
from museforge.assistant.planned import PlannedTurn
from museforge.assistant.turn import Assistant, TurnResult
from museforge.config import Settings, load_settings
from museforge.storage.models import Actor, SessionInfo, UserRef
from museforge.storage.store import Store
from museforge.tools.base import Services


def turn_request(actor: Actor, session: SessionInfo, message: str,
                 attachments: Sequence[Path | str] = (), *, front_end: str,
                 plan_only: bool = False, image_model: str | None = None) -> TurnRequest:
    """The request for one turn by ``actor`` in ``session``, as plain data."""
    user = actor.user
    return TurnRequest(user.id, user.platform, user.external_id, session.key, message,
                       tuple(str(p) for p in attachments), user.display_name,
                       actor.guild_id, plan_only, image_model, front_end)


class Studio:
    """The door, and what stands behind it in one process."""

    def __init__(self, store: Store, assistant: Assistant, *, settings: Settings | None = None,
                 queue: TurnQueue | None = None):
        self.settings = settings or load_settings()
        self.store = store
        self.assistant = assistant
        self.queue = queue or open_queue(self.run, workers=self.settings.workers,
                                         settings=self.settings, store=store)
        self.served: Counter[str] = Counter()  # turns let in, by front-end
        self._assistants: dict[str, Assistant] = {}
        self._lock = threading.Lock()
        self._active: Counter[tuple[str, str | None]] = Counter()  # (person, guild) -> turns
        self._entering = threading.Condition(self._lock)
        self._lines: dict[str, list[int]] = {}  # person -> their tickets (``_in_order``)

    @classmethod
    def open(cls, settings: Settings, *, store: Store | None = None, workers: int | None = None,
             services: Services | None = None) -> Studio:
        """The studio over ``settings`` (or over ``store``, already open). Raises
        ``PlannerUnavailable`` when the configured planner cannot load."""
        from museforge.models.image.pipeline_cache import set_budget  # light: no torch

        if workers is not None:
            settings = settings.model_copy(update={"workers": workers})
        set_budget(settings.pipeline_cache_bytes)
        store = store or Store.open(settings)
        assistant = Assistant(store, make_planner(settings), settings=settings,
                              services=services)
        return cls(store, assistant, settings=settings)

    def close(self) -> None:
        self.queue.close()
        self.store.close()

    def __enter__(self) -> Studio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the door ---------------------------------------------------------------------------

    def submit(self, request: TurnRequest, *, on_progress: ProgressFn | None = None,
               on_start: Callable[[], None] | None = None, limit: int | None = None
               ) -> TurnHandle:
        """Queue one turn; ``QueueFull`` with a sentence for the person when it cannot
        wait. ``limit``: the most turns this person may have in progress in this place (a
        Discord server's own setting), below the queue's cap per person.

        The queue's own submit may take a while (the cluster queue plans the turn first,
        with the LLM planner a model request): it runs outside the door's lock, so that
        nobody waits for another person's plan. One person's turns still enter the queue
        one at a time, in the order they came to the door (``_in_order``), so that their
        places in the line are the order they were sent in."""
        slot = (request.queue_key, request.guild_id)
        with self._lock:
            if limit is not None and self._active[slot] >= limit:
                raise QueueFull(f"you already have {self._active[slot]} request(s) in "
                                "progress here; wait for one to finish (or cancel it)")
            self._active[slot] += 1  # held while the turn is queued: the limit sees it
        try:
            with self._in_order(request.queue_key):
                handle = self.queue.submit(request, on_progress, on_start)
        except BaseException:
            self._release(slot)
            raise
        with self._lock:
            self.served[request.front_end] += 1
        handle.future.add_done_callback(lambda _: self._release(slot))
        return handle

    @contextmanager
    def _in_order(self, person: str) -> Iterator[None]:
        """One of ``person``'s turns at a time, first come first served (a ticket each)."""
        with self._entering:
            line = self._lines.setdefault(person, [0, 0])  # [next ticket, now serving]
            ticket = line[0]
            line[0] += 1
            while line[1] != ticket:
                self._entering.wait()
        try:
            yield
        finally:
            with self._entering:
                line[1] += 1
                if line[1] == line[0]:  # nobody of theirs is waiting
                    del self._lines[person]
                self._entering.notify_all()

    def _release(self, slot: tuple[str, str | None]) -> None:
        with self._lock:
            self._active[slot] -= 1
            if self._active[slot] <= 0:
                del self._active[slot]

    def ask(self, request: TurnRequest, *, on_progress: ProgressFn | None = None,
            on_cancel: Callable[[], None] | None = None) -> TurnResult:
        """Queue one turn and wait for it. Ctrl-C cancels it (the running tool stops at its
        next step) and the wait goes on, so nothing of it lands after the caller moves on;
        a second Ctrl-C is no different. ``on_cancel`` is told once.

        On the main thread Ctrl-C is taken by a handler of our own for the whole call, so
        one pressed while the turn is still being queued (its tool may already be running)
        cancels it as surely as one pressed while waiting; elsewhere a KeyboardInterrupt
        is caught between short waits."""
        pressed = threading.Event()
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGINT, lambda *_: pressed.set())
        try:
            handle = self.submit(request, on_progress=on_progress)
            # Short waits on an event: a Ctrl-C lands between them, never inside a wait that
            # it could leave in a wrong state (the old terminal chat's bpo-45274 lesson).
            done = threading.Event()
            handle.future.add_done_callback(lambda _: done.set())
            told = False
            while True:
                try:
                    while not done.wait(0.1):
                        if pressed.is_set():
                            raise KeyboardInterrupt
                    break
                except KeyboardInterrupt:
                    pressed.clear()
                    handle.cancel()
                    if not told and on_cancel is not None:
                        told = True
                        on_cancel()
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        if pressed.is_set() and not told:  # pressed as it finished: too late, said so
            if on_cancel is not None:
                on_cancel()
        result: TurnResult = handle.future.result()
        return result

    async def turn(self, request: TurnRequest, *, on_progress: ProgressFn | None = None
                   ) -> TurnResult:
        """Queue one turn and wait for it without blocking the event loop. Progress
        callbacks are delivered on the loop's thread."""
        loop = asyncio.get_running_loop()

        def progress(what: str, step: int, total: int) -> None:
            if on_progress is not None:
                loop.call_soon_threadsafe(on_progress, what, step, total)

        handle = self.submit(request, on_progress=progress)
        result: TurnResult = await asyncio.wrap_future(handle.future)
        return result

    # -- behind the door: where the queue's worker runs a turn ------------------------------

    def run(self, request: TurnRequest, progress: ProgressFn | None = None,
            cancel: threading.Event | None = None, *, planned: PlannedTurn | None = None
            ) -> TurnResult:
        """Run one turn now, on this thread (the queue's worker calls this). ``planned``:
        the plan a front-end made for it (``assistant/planned.py``)."""
        actor = Actor(UserRef(request.user_id, request.platform, request.external_id,
                              request.display_name), guild_id=request.guild_id)
        session = self.store.find_session(actor, request.session_key)
        return self.assistant_for(request.image_model).turn(
            actor, session, request.message, [Path(p) for p in request.attachments],
            plan_only=request.plan_only, progress=progress, cancel=cancel, planned=planned)

    def assistant_for(self, image_model: str | None) -> Assistant:
        """The assistant that paints with ``image_model``: the shared one for the host's
        default model, one more per other preset (same store, planner and queue)."""
        base, settings = self.assistant, self.settings
        if (not image_model or image_model == settings.image_model
                or settings.image_backend not in ("auto", "diffusers")):
            return base
        with self._lock:
            if image_model not in self._assistants:
                self._assistants[image_model] = Assistant(
                    self.store, base.planner, services=base.services.without_image(),
                    settings=settings.model_copy(update={"image_model": image_model}))
            return self._assistants[image_model]


__all__ = ["QueueFull", "Studio", "TurnRequest", "turn_request"]
