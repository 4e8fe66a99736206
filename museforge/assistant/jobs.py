"""The job queue every front-end in a process shares: generation runs off the event loop
in a small worker pool, users take turns (round-robin across users, not one global
FIFO), each user may have only a few jobs waiting, and a waiting job knows its place.

Front-ends never submit here themselves: they hand a ``TurnRequest`` to the studio's
door (``bots/service.py``), which queues it on a ``TurnQueue``, here ``LocalTurnQueue``
over ``JobQueue``. They await the handle's ``future`` (or ``asyncio.wrap_future`` it),
show ``position()`` while it waits and the progress events while it runs, and may
``cancel()`` it. GPU work runs one at a time by default.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from dataclasses import fields as dataclass_fields
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from museforge.config import Settings
    from museforge.storage.store import Store

log = logging.getLogger(__name__)
_ids = itertools.count(1)

# A queue holds at most this many waiting jobs per worker, unless told otherwise: with W
# workers the last in line waits about as long as with one (200 jobs' worth), whatever W is.
WAITING_PER_WORKER = 200


class QueueFull(Exception):
    """The user (or the whole queue) has too many jobs waiting; the text says so."""


class QueueUnavailable(Exception):
    """The configured queue cannot open (MUSEFORGE_QUEUE=celery without PostgreSQL or
    without the ``cluster`` extra); the text says what to set."""


def report_progress(on_progress: ProgressFn | None, what: str, step: int, total: int) -> None:
    """Hand a step to a front-end's callback; its display problem must not stop the job."""
    if on_progress is not None:
        try:
            on_progress(what, step, total)
        except Exception:
            log.exception("progress callback failed")


@dataclass(eq=False)  # identity: a job is itself, whatever its fields
class Job:
    user: str
    fn: Callable[[Job], Any]
    label: str = ""
    id: int = field(default_factory=lambda: next(_ids))
    future: Future[Any] = field(default_factory=Future)
    cancel_event: threading.Event = field(default_factory=threading.Event)
    on_progress: Callable[[str, int, int], None] | None = None
    on_start: Callable[[], None] | None = None
    state: str = "queued"  # queued | running | done | failed | cancelled
    submitted: float = field(default_factory=time.monotonic)
    _queue: JobQueue | None = None

    def position(self) -> int:
        """1 while next in line; 0 once running or finished."""
        return self._queue.position(self) if self._queue and self.state == "queued" else 0

    def cancel(self) -> bool:
        """Ask the job to stop: a waiting job never runs; a running one stops at its
        next step (tools check between steps)."""
        self.cancel_event.set()
        if self._queue is not None and self._queue.remove(self):
            self.state = "cancelled"
            self.future.cancel()
            return True
        return self.state == "running"

    def progress(self, what: str, step: int, total: int) -> None:
        report_progress(self.on_progress, what, step, total)


class JobQueue:
    def __init__(self, workers: int = 1, per_user_limit: int = 3,
                 max_waiting: int | None = None):
        if workers < 1:
            raise ValueError("at least one worker")
        self.workers = workers  # the pool's size: a crashed worker is replaced
        self.per_user_limit = per_user_limit
        self.max_waiting = WAITING_PER_WORKER * workers if max_waiting is None else max_waiting
        self._lock = threading.Condition()
        self._waiting: OrderedDict[str, deque[Job]] = OrderedDict()  # user -> their jobs
        self._running: set[Job] = set()
        self._closed = False
        self._workers: list[threading.Thread] = []
        self.crashes = 0
        for _ in range(workers):
            self._spawn()

    # -- submitting -----------------------------------------------------------------------

    def submit(self, user: str, fn: Callable[[Job], Any], *, label: str = "",
               on_progress: Callable[[str, int, int], None] | None = None,
               on_start: Callable[[], None] | None = None) -> Job:
        job = Job(user, fn, label, on_progress=on_progress, on_start=on_start)
        with self._lock:
            if self._closed:
                raise QueueFull("the assistant is shutting down")
            mine = len(self._waiting.get(user, ())) + sum(j.user == user for j in self._running)
            if mine >= self.per_user_limit:
                raise QueueFull(f"you already have {mine} requests in progress; wait for one "
                                "to finish (or cancel it)")
            if self.waiting() >= self.max_waiting:
                raise QueueFull("the queue is full; try again in a minute")
            job._queue = self
            self._waiting.setdefault(user, deque()).append(job)
            self._lock.notify()
        return job

    def waiting(self) -> int:
        return sum(len(q) for q in self._waiting.values())

    def position(self, job: Job) -> int:
        """Where ``job`` stands, following the round-robin order the workers will use."""
        with self._lock:
            order = self._order()
        try:
            return order.index(job) + 1
        except ValueError:
            return 0

    def _order(self) -> list[Job]:
        queues = [list(q) for q in self._waiting.values()]
        out: list[Job] = []
        for rank in range(max((len(q) for q in queues), default=0)):
            out.extend(q[rank] for q in queues if rank < len(q))
        return out

    def remove(self, job: Job) -> bool:
        with self._lock:
            queue = self._waiting.get(job.user)
            if queue is None or job not in queue:
                return False
            queue.remove(job)
            if not queue:
                del self._waiting[job.user]
            return True

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._closed = True
            for queue in self._waiting.values():
                for job in queue:
                    job.state = "cancelled"
                    job.future.cancel()
            self._waiting.clear()
            self._lock.notify_all()
        for worker in list(self._workers):
            worker.join(timeout)

    # -- working ----------------------------------------------------------------------------

    def _next(self) -> Job | None:
        """The next job round-robin: the first user in line gives one job, then goes to
        the back of the line."""
        with self._lock:
            while not self._waiting and not self._closed:
                self._lock.wait()
            if self._closed:
                return None
            user, queue = next(iter(self._waiting.items()))
            job = queue.popleft()
            del self._waiting[user]
            if queue:
                self._waiting[user] = queue  # back of the line
            job.state = "running"
            self._running.add(job)
            return job

    def _spawn(self) -> None:
        worker = threading.Thread(target=self._work, name=f"museforge-worker-{len(self._workers)}",
                                  daemon=True)
        self._workers.append(worker)
        worker.start()

    def _work(self) -> None:
        while True:
            job = self._next()
            if job is None:
                return
            crashed = False
            try:
                if job.on_start is not None:
                    job.on_start()
                result = job.fn(job)
            except Exception as exc:
                job.state = "failed"
                job.future.set_exception(exc)
            except BaseException as exc:  # the worker itself dies: report, replace
                crashed = True
                with self._lock:  # counted before the job's caller hears of it
                    self.crashes += 1
                job.state = "failed"
                job.future.set_exception(RuntimeError(f"the worker running this job "
                                                      f"crashed ({type(exc).__name__})"))
            else:
                job.state = "cancelled" if job.cancel_event.is_set() else "done"
                job.future.set_result(result)
            finally:
                with self._lock:
                    self._running.discard(job)
            if crashed:
                log.error("worker crashed on job %s; starting a new one", job.id)
                with self._lock:
                    self._workers.remove(threading.current_thread())
                    if not self._closed:
                        self._spawn()
                return


# -- the queue behind the door ------------------------------------------------------------
# What a front-end hands the door is plain data (``TurnRequest``), so that a queue which
# carries it to another process (Celery: ``assistant/cluster.py``) needs nothing but its
# JSON; the door picks the queue in one place (``open_queue``).

ProgressFn = Callable[[str, int, int], None]


@dataclass(frozen=True)
class TurnRequest:
    """One turn as asked: who (the store's user and, from Discord, the guild the request
    came from), where (the session's scope key), what (the message, attached files), and
    how (``plan_only``: plan, run nothing, write nothing; ``image_model``: a preset other
    than the host's). ``front_end`` says which door-keeper let it in."""

    user_id: int
    platform: str
    external_id: str
    session_key: str
    message: str
    attachments: tuple[str, ...] = ()
    display_name: str = ""
    guild_id: str | None = None
    plan_only: bool = False
    image_model: str | None = None
    front_end: str = "cli"  # cli | terminal | web | discord

    @property
    def queue_key(self) -> str:
        """Whose turn it is, for the queue's fairness and per-person limit."""
        return f"{self.platform}:{self.external_id}"

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["attachments"] = list(self.attachments)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TurnRequest:
        fields = {f.name for f in dataclass_fields(cls)}
        unknown = set(data) - fields
        if unknown:
            raise ValueError(f"unknown turn request fields: {', '.join(sorted(unknown))}")
        return cls(**{**data, "attachments": tuple(data.get("attachments", ()))})


class TurnHandle(Protocol):
    """A queued turn, as a front-end follows it."""

    id: int
    state: str  # queued | running | done | failed | cancelled
    future: Future[Any]  # the TurnResult

    def position(self) -> int: ...

    def cancel(self) -> bool: ...


class TurnQueue(Protocol):
    """What the door needs of a queue: fair across people, a cap per person and in all,
    progress and cancel carried back. ``QueueFull`` (with a sentence) when it refuses."""

    max_waiting: int  # turns that may wait, all people together

    @property
    def workers(self) -> int:
        """Turns run at once."""

    def submit(self, request: TurnRequest, on_progress: ProgressFn | None = None,
               on_start: Callable[[], None] | None = None) -> TurnHandle: ...

    def waiting(self) -> int: ...

    def close(self) -> None: ...


# Runs one turn where the queue's worker is: (request, progress, cancel) -> TurnResult.
TurnRunner = Callable[[TurnRequest, ProgressFn, threading.Event], Any]


class LocalTurnQueue:
    """Turns run in this process, on the fair ``JobQueue`` (``jobs``)."""

    def __init__(self, run: TurnRunner, *, workers: int = 1, per_user_limit: int = 3,
                 max_waiting: int | None = None):
        self.run = run
        self.jobs = JobQueue(workers, per_user_limit, max_waiting)

    @property
    def workers(self) -> int:
        return self.jobs.workers

    @property
    def max_waiting(self) -> int:
        return self.jobs.max_waiting

    @max_waiting.setter
    def max_waiting(self, value: int) -> None:
        self.jobs.max_waiting = value

    def submit(self, request: TurnRequest, on_progress: ProgressFn | None = None,
               on_start: Callable[[], None] | None = None) -> Job:
        def work(job: Job) -> Any:
            return self.run(request, job.progress, job.cancel_event)

        return self.jobs.submit(request.queue_key, work, label=request.message[:60],
                                on_progress=on_progress, on_start=on_start)

    def waiting(self) -> int:
        return self.jobs.waiting()

    def close(self) -> None:
        self.jobs.close()


def open_queue(run: TurnRunner, *, workers: int = 1, settings: Settings | None = None,
               store: Store | None = None) -> TurnQueue:
    """The queue behind the door, the one place it is chosen: ``settings.queue`` "local"
    (the default, and without settings) runs turns in this process with ``run``;
    "celery" sends them to ``museforge worker`` processes (``cluster.py``), sharing the
    database of ``store``. ``QueueUnavailable`` when that cannot be."""
    if settings is None:
        return LocalTurnQueue(run, workers=workers)
    if settings.queue == "local":
        return LocalTurnQueue(run, workers=workers, per_user_limit=settings.queue_per_person)
    if store is None:
        raise ValueError("the celery queue needs the store")
    from museforge.assistant.cluster import CeleryTurnQueue

    return CeleryTurnQueue(store, settings, plan=run, per_user_limit=settings.queue_per_person)
