"""The web's view of the shared job queue: each turn a person sends is one ``Job`` of the
``Studio``'s fair queue; here it also keeps the events the page streams (its place in
the queue and about how long the wait is, then step i/n, then the result) so that a page
that reconnects, or a second tab, sees the same story.

The wait is estimated from the turns this app has run: with W workers, place P starts
after about ceil(P / W) turns of the median length of the last few. Until a turn has
run, no estimate is given."""

from __future__ import annotations

import asyncio
import logging
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from typing import Any

from museforge.bots.service import QueueFull, Studio, turn_request
from museforge.bots.web.limits import queue_capacity
from museforge.bots.web.schemas import JobOut, TurnOut
from museforge.bots.web.uploads import Upload, Uploads
from museforge.bots.web.views import WebOutput, turn_out
from museforge.storage.models import Actor, SessionInfo

log = logging.getLogger(__name__)
KEEP_FINISHED_S = 600
POLL_S = 0.5  # how often a waiting job's place in the queue is looked at
PING_S = 15.0
TIMED_TURNS = 32  # the wait is estimated from the median of this many recent turns


class QueueBusy(QueueFull):
    """The whole queue is full; ``retry_after`` is when a place should be free (s)."""

    def __init__(self, text: str, retry_after: int):
        super().__init__(text)
        self.retry_after = retry_after


@dataclass(eq=False)
class WebJob:
    id: str
    user_id: int
    session: SessionInfo
    message: str
    uploads: list[Upload]
    job: Any = None  # assistant.jobs.TurnHandle, once submitted
    events: list[dict[str, Any]] = field(default_factory=list)
    result: TurnOut | None = None
    error: str | None = None
    finished_at: float | None = None
    final: str | None = None  # done | failed | cancelled
    started_at: float | None = None  # monotonic
    estimate: Callable[[int], int | None] | None = None  # place -> seconds to wait
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=set)

    @property
    def state(self) -> str:
        if self.final is not None:
            return self.final
        return "running" if self.job is not None and self.job.state == "running" else "queued"

    def position(self) -> int:
        return self.job.position() if self.job is not None else 0

    def push(self, event: dict[str, Any], final: str | None = None) -> None:
        """From any thread: record an event (the last one with its ``final`` state) and
        wake whoever streams this job."""
        with self._lock:
            self.events.append(event)
            if final is not None:
                self.final, self.finished_at = final, time.time()
            waiters = list(self._waiters)
        for loop, ready in waiters:
            try:
                loop.call_soon_threadsafe(ready.set)
            except RuntimeError:  # that loop has closed; its listener is gone
                pass

    def out(self) -> JobOut:
        place = self.position()
        wait = self.estimate(place) if self.estimate is not None and place else None
        return JobOut(id=self.id, session=self.session.id, message=self.message,
                      state=self.state, position=place, wait_s=wait,  # type: ignore[arg-type]
                      events=f"/api/jobs/{self.id}/events", result=self.result,
                      error=self.error)

    async def stream(self) -> AsyncIterator[dict[str, Any]]:
        """Every event from the start, then new ones as they come; a waiting job's place
        in the queue whenever it changes; ends after the last event."""
        loop = asyncio.get_running_loop()
        ready = asyncio.Event()
        me = (loop, ready)
        with self._lock:
            self._waiters.add(me)
        try:
            sent, place, quiet = 0, -1, time.monotonic()
            while True:
                ready.clear()
                with self._lock:
                    new, done = self.events[sent:], self.finished_at is not None
                for event in new:
                    yield event
                    place = event.get("position", place)
                    quiet = time.monotonic()
                sent += len(new)
                if done:
                    return
                if self.state == "queued":
                    now = self.position()
                    if now != place and now > 0:
                        place = now
                        yield self.queued(now)
                        quiet = time.monotonic()
                if time.monotonic() - quiet > PING_S:
                    yield {"event": "ping"}
                    quiet = time.monotonic()
                try:
                    await asyncio.wait_for(ready.wait(), POLL_S)
                except TimeoutError:
                    pass
        finally:
            with self._lock:
                self._waiters.discard(me)

    async def wait(self) -> None:
        async for _ in self.stream():
            pass

    def queued(self, position: int) -> dict[str, Any]:
        """The event for place ``position``, with the wait when it can be estimated."""
        text = "next in line" if position == 1 else f"busy, you are number {position}"
        event: dict[str, Any] = {"event": "queued", "position": position, "text": text}
        wait = self.estimate(position) if self.estimate is not None else None
        if wait is not None:
            event["wait_s"] = wait
            event["text"] = f"{text} (about {duration(wait)})"
        return event


def duration(seconds: float) -> str:
    """'40 seconds', '3 minutes', '2 hours'."""
    if seconds < 90:
        n = max(1, round(seconds))
        return f"{n} second" + ("s" if n != 1 else "")
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} minutes"
    return f"{round(seconds / 3600)} hours"


class WebJobs:
    """The turns this app has sent to the studio's queue, by id."""

    def __init__(self, studio: Studio, uploads: Uploads):
        self.studio = studio
        self.uploads = uploads
        self._jobs: dict[str, WebJob] = {}
        self._lock = threading.Lock()
        self._took: deque[float] = deque(maxlen=TIMED_TURNS)  # seconds, recent turns

    @property
    def workers(self) -> int:
        return self.studio.queue.workers

    def capacity(self) -> int:
        """How many turns may wait: ``limits.queue_capacity`` of the workers."""
        return queue_capacity(self.workers)

    def typical_s(self) -> float | None:
        """The median run time of the recent turns; None before the first."""
        with self._lock:
            took = sorted(self._took)
        return took[len(took) // 2] if took else None

    def wait_s(self, position: int) -> int | None:
        """About how long place ``position`` waits before it starts."""
        typical = self.typical_s()
        if typical is None or position < 1:
            return None
        return math.ceil(math.ceil(position / self.workers) * typical)

    def _queue_full(self) -> QueueBusy:
        waiting, workers = self.studio.queue.waiting(), self.workers
        text = (f"the queue is full: {waiting} turns are waiting for {workers} worker"
                + ("s" if workers != 1 else ""))
        typical = self.typical_s()
        if typical is None:
            return QueueBusy(text + "; try again in a minute", 60)
        free = max(1, math.ceil(typical / workers))
        return QueueBusy(f"{text}; a place should free up in about {duration(free)}", free)

    def submit(self, actor: Actor, session: SessionInfo, message: str,
               uploads: list[Upload]) -> WebJob:
        """Queue one turn; ``QueueFull`` (with its sentence) when the queue is full."""
        self.prune()
        wj = WebJob(secrets.token_urlsafe(9), actor.user.id, session, message, uploads,
                    estimate=self.wait_s)
        out = WebOutput(session.id, wj.push)

        def started() -> None:
            wj.started_at = time.monotonic()
            wj.push({"event": "started"})

        queue = self.studio.queue
        try:
            wj.job = self.studio.submit(
                turn_request(actor, session, message, [u.path for u in uploads],
                             front_end="web"),
                on_progress=out.progress, on_start=started)
        except QueueFull as exc:
            if queue.waiting() >= queue.max_waiting:  # everyone's queue, not this person's
                raise self._queue_full() from exc
            raise
        with self._lock:
            self._jobs[wj.id] = wj
        position = wj.position()
        if position:
            wj.push(wj.queued(position))
        wj.job.future.add_done_callback(lambda fut: self._finish(wj, fut))
        return wj

    def get(self, job_id: str, actor: Actor) -> WebJob | None:
        with self._lock:
            wj = self._jobs.get(job_id)
        return wj if wj is not None and wj.user_id == actor.user.id else None

    def active(self, actor: Actor, session_id: int) -> list[WebJob]:
        with self._lock:
            jobs = list(self._jobs.values())
        return [j for j in jobs if j.user_id == actor.user.id and j.session.id == session_id
                and j.finished_at is None]

    def prune(self) -> None:
        cutoff = time.time() - KEEP_FINISHED_S
        with self._lock:
            for key in [k for k, j in self._jobs.items()
                        if j.finished_at is not None and j.finished_at < cutoff]:
                del self._jobs[key]

    def _finish(self, wj: WebJob, fut: Future[Any]) -> None:
        """Runs on the worker thread (or the canceller's) when the turn ends."""
        names = {str(u.path): u.name for u in wj.uploads}
        final = "done"
        try:
            result = fut.result()
        except CancelledError:
            final, wj.error = "cancelled", "cancelled"
            event: dict[str, Any] = {"event": "cancelled", "text": "cancelled"}
        except Exception as exc:  # the queue reports a crashed worker this way
            log.warning("web turn %s failed: %s", wj.id, exc)
            final, wj.error = "failed", str(exc) or type(exc).__name__
            event = {"event": "failed", "error": wj.error}
        else:
            try:
                wj.result = turn_out(wj.session.id, result, names, self.studio.store.home)
            except Exception as exc:  # a page that never hears the end would wait forever
                log.exception("web turn %s: could not show the result", wj.id)
                final, wj.error = "failed", f"could not show the result ({exc})"
                event = {"event": "failed", "error": wj.error}
            else:
                if result.cancelled:  # it stopped at a step; its reply says what was kept
                    final, wj.error = "cancelled", "cancelled"
                # a turn cancelled half-way still shows what it made before the cancel
                event = {"event": "done", "result": wj.result.model_dump(mode="json")}
        finally:
            self.uploads.discard(wj.uploads)
        if final == "done" and wj.started_at is not None:
            with self._lock:
                self._took.append(time.monotonic() - wj.started_at)
        wj.push(event, final)
