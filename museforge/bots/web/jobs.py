"""The web's view of the shared job queue: each turn a person sends is one ``Job`` of the
``Studio``'s fair queue; here it also keeps the events the page streams (its place in
the queue, then step i/n, then the result) so that a page that reconnects, or a second
tab, sees the same story."""

from __future__ import annotations

import asyncio
import logging
import secrets
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import CancelledError, Future
from dataclasses import dataclass, field
from typing import Any

from museforge.bots.service import Studio
from museforge.bots.web.schemas import JobOut, TurnOut
from museforge.bots.web.uploads import Upload, Uploads
from museforge.bots.web.views import WebOutput, turn_out
from museforge.storage.models import Actor, SessionInfo

log = logging.getLogger(__name__)
KEEP_FINISHED_S = 600
POLL_S = 0.5  # how often a waiting job's place in the queue is looked at
PING_S = 15.0


@dataclass(eq=False)
class WebJob:
    id: str
    user_id: int
    session: SessionInfo
    message: str
    uploads: list[Upload]
    job: Any = None  # assistant.jobs.Job, once submitted
    events: list[dict[str, Any]] = field(default_factory=list)
    result: TurnOut | None = None
    error: str | None = None
    finished_at: float | None = None
    final: str | None = None  # done | failed | cancelled
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
        return JobOut(id=self.id, session=self.session.id, message=self.message,
                      state=self.state, position=self.position(),  # type: ignore[arg-type]
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
                        yield _queued(now)
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


def _queued(position: int) -> dict[str, Any]:
    text = "next in line" if position == 1 else f"busy, you are number {position}"
    return {"event": "queued", "position": position, "text": text}


class WebJobs:
    """The turns this app has sent to the studio's queue, by id."""

    def __init__(self, studio: Studio, uploads: Uploads):
        self.studio = studio
        self.uploads = uploads
        self._jobs: dict[str, WebJob] = {}
        self._lock = threading.Lock()

    def submit(self, actor: Actor, session: SessionInfo, message: str,
               uploads: list[Upload]) -> WebJob:
        """Queue one turn; ``QueueFull`` (with its sentence) when the queue is full."""
        self.prune()
        wj = WebJob(secrets.token_urlsafe(9), actor.user.id, session, message, uploads)
        out = WebOutput(session.id, wj.push)
        wj.job = self.studio.submit(
            actor, session, message, [u.path for u in uploads],
            on_progress=out.progress, on_start=lambda: wj.push({"event": "started"}))
        with self._lock:
            self._jobs[wj.id] = wj
        position = wj.position()
        if position:
            wj.push(_queued(position))
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
                wj.result = turn_out(wj.session.id, result, names)
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
        wj.push(event, final)
