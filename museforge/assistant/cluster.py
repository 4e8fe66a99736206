"""The cluster queue (``MUSEFORGE_QUEUE=celery``): turns run on ``museforge worker``
processes, on this machine or others, carried by Celery over Redis; front-ends and
workers share PostgreSQL (and an object store for the assets).

Who goes next is decided in PostgreSQL, where every front-end sees it (``storage/
turn_jobs.py``): a submitted turn is a queued row; a dispatcher thread in each front-end
process, one at a time under an advisory lock, hands Celery only as many jobs as there
are free worker slots, round-robin by person, so a flood of one person's turns from any
number of front-ends delays another person's one turn by at most one turn. Celery then
only carries a job id to the free worker whose slot it took (that worker's own queue,
``worker_queue``), a worker of the job's route, so that it keeps its models warm: the
route follows what the turn will run, planned on the front-end before it is queued
(``turn_route``: ``museforge.images.<preset>``, ``museforge.music``, ``museforge.audio``,
or any worker for a turn that loads no model), and that plan is stored with the job for
its worker to run (``planned.py``). A job cancelled while it waits is cancelled in its
row: it never runs.

Progress travels back on Redis pub/sub, one channel per job (``museforge:job:<id>``);
the cancel of a running job is a Redis key the worker looks at between steps. The end
of a job is its row (state and result JSON): each front-end resolves its handles from
the rows, so a pub/sub message lost while Redis blinked loses nothing.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import Any

from museforge.assistant.jobs import (
    WAITING_PER_WORKER,
    ProgressFn,
    QueueFull,
    QueueUnavailable,
    TurnRequest,
    TurnRunner,
    report_progress,
)
from museforge.assistant.planned import PlannedTurn
from museforge.assistant.routes import (
    ANY_ROUTE,
    FAMILIES,
    family_route,
    no_worker,
    route_for,
    turn_route,
    worker_queue,
)
from museforge.assistant.turn import CallRecord, TurnResult
from museforge.config import Settings
from museforge.storage.assets import ASSET_DIR, AssetStore
from museforge.storage.db import safe_url
from museforge.storage.store import Store
from museforge.storage.turn_jobs import JobRow, TooManyJobs
from museforge.tools.base import Artifact, Change

log = logging.getLogger(__name__)
TASK = "museforge.run_turn"
DISPATCH_WAKE = "museforge:dispatch"  # a worker finished: a slot is free
JOB_CHANNELS = "museforge:job:*"
POLL_S = 0.2  # the dispatcher's round when nothing wakes it
ORDER_TTL_S = 0.5  # places in the line are read at most this often
PRUNE_EVERY_S = 600.0
CANCEL_TTL_S = 3600
# A job's request JSON may carry its attached files as assets under this key, beside the
# TurnRequest's own fields: [[the front-end's path, the asset's logical path], ...].
UPLOADS = "uploads"
# A result JSON may carry the files the turn exported on the worker (scores), as assets:
# [[the worker's path, the asset's logical path, the path under the data dir], ...].
EXPORTED = "exported"


def job_channel(key: str) -> str:
    """Where a job's progress is published (``key``: ``JobRow.key``)."""
    return f"museforge:job:{key}"


def cancel_key(key: str) -> str:
    """The Redis key whose presence cancels a running job."""
    return f"museforge:cancel:{key}"


def celery_app(broker_url: str) -> Any:
    """The Celery app front-ends send with and workers consume with: late acks (a job
    whose worker dies is delivered again), one message at a time per worker, JSON only,
    no result backend (results are rows in PostgreSQL)."""
    from celery import Celery

    app = Celery("museforge", broker=broker_url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_serializer="json", accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        # A dead broker must not hold a front-end's dispatcher for long: it tries again
        # on its next round anyway.
        task_publish_retry_policy={"max_retries": 1, "interval_start": 0,
                                   "interval_step": 0.2, "interval_max": 0.5},
        worker_hijack_root_logger=False,
        worker_cancel_long_running_tasks_on_connection_loss=False,
    )
    return app


# -- a TurnResult as JSON, both ways --------------------------------------------------------
# ``TurnResult.to_json`` is the ``ask --json`` contract (it leaves out what a front-end
# also renders: each call's sentence, the cancel, what was kept), so the wire form is
# its own. A file travels as its asset's logical path: the front-end reads it through
# its own asset store (a bucket's local cache, on another machine).

_ASSET_NAME = re.compile(r"^([0-9a-f]{64})\.[A-Za-z0-9]+$")


def _file_out(path: Path) -> str:
    m = _ASSET_NAME.match(path.name)
    if m:
        sha = m[1]
        return f"{ASSET_DIR}/{sha[:2]}/{sha[2:4]}/{path.name}"
    return str(path)  # not an asset (an upload, an export): only this machine has it


def _file_in(text: str, assets: AssetStore) -> Path:
    if text.startswith(f"{ASSET_DIR}/"):
        return assets.abspath(text)
    return Path(text)


def _artifact_out(a: Artifact) -> dict[str, Any]:
    return {"artwork": a.artwork, "version": a.version, "kind": a.kind, "title": a.title,
            "files": {role: _file_out(p) for role, p in a.files.items()}, "recipe": a.recipe}


def _artifact_in(d: dict[str, Any], assets: AssetStore) -> Artifact:
    return Artifact(d["artwork"], d["version"], d["kind"], d["title"],
                    {role: _file_in(p, assets) for role, p in d["files"].items()},
                    dict(d["recipe"]))


def result_to_wire(result: TurnResult) -> dict[str, Any]:
    return {
        "session": result.session, "planner": result.planner, "reply": result.reply,
        "calls": [{"name": c.name, "args": c.args, "ok": c.ok, "error": c.error,
                   "message": c.message, "ms": c.ms,
                   "artifacts": [_artifact_out(a) for a in c.artifacts],
                   "touched": [list(t) for t in c.touched], "ran": c.ran,
                   "cancelled": c.cancelled} for c in result.calls],
        "errors": result.errors,
        "imported": [_artifact_out(a) for a in result.imported],
        "answer": result.answer, "cancelled": result.cancelled,
        "kept": [[k.what, k.artwork, k.version] for k in result.kept],
    }


def result_from_wire(data: dict[str, Any], assets: AssetStore) -> TurnResult:
    calls = [CallRecord(c["name"], c["args"], c["ok"], c["error"], c["message"], c["ms"],
                        [_artifact_in(a, assets) for a in c["artifacts"]],
                        [(int(n), str(k)) for n, k in c["touched"]], c["ran"],
                        c["cancelled"]) for c in data["calls"]]
    return TurnResult(data["session"], data["planner"], data["reply"], calls,
                      list(data["errors"]),
                      [_artifact_in(a, assets) for a in data["imported"]], data["answer"],
                      data["cancelled"], [Change(w, n, v) for w, n, v in data["kept"]])


def exports_here(wire: dict[str, Any], assets: AssetStore, home: Path) -> dict[str, Any]:
    """The result with the files the worker exported copied under this data dir (where
    the front-ends look for them) and named by their paths here."""
    exported = wire.get(EXPORTED) or []
    text = json.dumps({k: v for k, v in wire.items() if k != EXPORTED})
    for theirs, rel, under in exported:
        mine = home / under
        if ".." in Path(under).parts or Path(under).is_absolute():
            continue  # not a path under a data dir
        if str(mine) != theirs:  # one data dir for both: it is there already
            mine.parent.mkdir(parents=True, exist_ok=True)
            tmp = mine.with_name(f".{mine.name}.part")
            shutil.copyfile(assets.abspath(rel), tmp)
            os.replace(tmp, mine)
        text = text.replace(json.dumps(theirs)[1:-1], json.dumps(str(mine))[1:-1])
    here: dict[str, Any] = json.loads(text)
    return here


# -- the front-end's side ----------------------------------------------------------------------

class ClusterJob:
    """A turn in the cluster queue, as the front-end that sent it follows it."""

    def __init__(self, queue: CeleryTurnQueue, row: JobRow, request: TurnRequest,
                 on_progress: ProgressFn | None, on_start: Callable[[], None] | None):
        self.id = row.id
        self.key = row.key
        self.request = request
        self.state = "queued"  # queued | running | done | failed | cancelled
        self.future: Future[Any] = Future()
        self.on_progress = on_progress
        self.on_start = on_start
        self.started = False
        self._queue = queue

    def position(self) -> int:
        """1 while next in line (on its route); 0 once running or finished."""
        return self._queue.position(self) if self.state == "queued" else 0

    def cancel(self) -> bool:
        """A waiting turn never runs; a running one stops at its next step."""
        return self._queue.cancel(self)

    def _start(self) -> None:
        self.state = "running"
        if self.started:
            return
        self.started = True
        if self.on_start is not None:
            try:
                self.on_start()
            except Exception:
                log.exception("on_start callback failed")

    def _progress(self, what: str, step: int, total: int) -> None:
        report_progress(self.on_progress, what, step, total)


class CeleryTurnQueue:
    """The ``TurnQueue`` of a front-end process in the cluster (see the module's text)."""

    def __init__(self, store: Store, settings: Settings, *, plan: TurnRunner,
                 per_user_limit: int = 3, max_waiting: int | None = None,
                 dispatch: bool = True):
        if not store.cluster_ready:
            raise QueueUnavailable(
                "MUSEFORGE_QUEUE=celery needs a PostgreSQL database that front-ends and "
                "workers share: set MUSEFORGE_DATABASE_URL=postgresql://...")
        try:
            import redis
        except ImportError as exc:  # the `cluster` extra
            raise QueueUnavailable(f"MUSEFORGE_QUEUE=celery needs celery and redis "
                                   f"({exc.name} is not installed): pip install "
                                   "'museforge[cluster]'") from exc
        self.store = store
        self.settings = settings
        self._plan = plan  # the door's runner: a plan-only turn here says the route
        self.per_user_limit = per_user_limit
        self._max_waiting = max_waiting
        self.broker = safe_url(settings.broker_url)
        self.app = celery_app(settings.broker_url)
        self.redis = redis.Redis.from_url(settings.broker_url, socket_timeout=3,
                                          socket_connect_timeout=2)
        self.origin = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._handles: dict[int, ClusterJob] = {}
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._order: tuple[float, dict[int, int]] = (0.0, {})
        self._slots: tuple[float, int] = (0.0, 0)
        self.broker_error: str | None = None  # the last failure to send, for messages
        self._threads = [threading.Thread(target=self._listen, name="museforge-cluster-events",
                                          daemon=True)]
        if dispatch:
            self._threads.append(threading.Thread(target=self._dispatch_loop,
                                                  name="museforge-dispatcher", daemon=True))
        for thread in self._threads:
            thread.start()

    # -- TurnQueue ------------------------------------------------------------------------

    @property
    def workers(self) -> int:
        """Turns the live workers run at once, all routes together (at least 1)."""
        at, n = self._slots
        if time.monotonic() - at > 1.0:
            try:
                n = self.store.live_slots()
            except Exception:
                log.exception("cannot count the live workers")
            self._slots = (time.monotonic(), n)
        return max(1, n)

    @property
    def max_waiting(self) -> int:
        if self._max_waiting is not None:
            return self._max_waiting
        return WAITING_PER_WORKER * self.workers

    @max_waiting.setter
    def max_waiting(self, value: int) -> None:
        self._max_waiting = value

    def submit(self, request: TurnRequest, on_progress: ProgressFn | None = None,
               on_start: Callable[[], None] | None = None) -> ClusterJob:
        if self._closed.is_set():
            raise QueueFull("the assistant is shutting down")
        try:
            self.redis.ping()
        except Exception as exc:
            raise QueueFull(f"the job queue's broker at {self.broker} does not answer "
                            f"({_reason(exc)}); try again in a minute") from exc
        route, planned = self.plan_ahead(request)
        if self.store.live_slots(route) == 0:
            raise QueueFull(no_worker(route))
        payload = request.to_json()
        uploads = self._upload(request)
        if uploads:
            payload[UPLOADS] = uploads
        with self._lock:  # the listener looks up handles under it: none is missed
            try:
                row = self.store.job_submit(
                    payload, request.queue_key, route, self.origin,
                    per_person=self.per_user_limit, max_waiting=self.max_waiting,
                    plan=planned.to_json() if planned is not None else None)
            except TooManyJobs as exc:
                raise QueueFull(str(exc)) from None
            handle = ClusterJob(self, row, request, on_progress, on_start)
            self._handles[row.id] = handle
            self._order = (0.0, {})
        self._wake.set()
        return handle

    def route(self, request: TurnRequest) -> str:
        """The queue of the workers whose models ``request`` needs (``plan_ahead``)."""
        return self.plan_ahead(request)[0]

    def plan_ahead(self, request: TurnRequest) -> tuple[str, PlannedTurn | None]:
        """The queue of the workers whose models ``request`` needs, and the plan it was
        read from: the turn is planned here first (``--plan-only``: nothing runs, nothing
        is written) and routed by its calls' families. The plan travels with the job, and
        its worker runs it as it is, unless the conversation has changed since (an
        earlier turn of it ran in between, and "it" may be another artwork now): then the
        worker plans it again (``planned.py``), and a route that no longer fits costs a
        model load, never a wrong turn. Not planned here (no plan: the worker plans)
        when every live worker serves every family (one machine, or identical GPU
        boxes): the plan would not move the turn, which goes to the image preset's
        queue."""
        preset = request.image_model or self.settings.image_model
        every = {family_route(family, preset) for family in FAMILIES}
        workers = self.store.live_workers()
        if workers and all(every <= set(queues) for queues in workers.values()):
            return route_for(preset), None
        # The host's assistant plans for every preset (the planner does not depend on it).
        ahead = replace(request, plan_only=True, image_model=None)
        try:
            planned = self._plan(ahead, _no_progress, threading.Event())
        except Exception:  # the worker's own run of the turn says what is wrong
            log.exception("cannot plan a turn to route it; any worker takes it")
            return ANY_ROUTE, None
        return (turn_route([(c.name, c.args) for c in planned.calls], preset),
                planned.planned if isinstance(planned, TurnResult) else None)

    def _upload(self, request: TurnRequest) -> list[list[str]]:
        """Each attached file into the asset store, so that a worker on another machine
        reads it: [this machine's path, the asset's logical path]. A file that cannot
        be read is left to the turn to say so."""
        out = []
        for name in request.attachments:
            path = Path(name)
            try:
                data = path.read_bytes()
            except OSError:
                continue
            mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            out.append([name, self.store.assets.put(data, mime).path])
        return out

    def waiting(self) -> int:
        return self.store.jobs_waiting()

    def position(self, handle: ClusterJob) -> int:
        at, order = self._order
        if time.monotonic() - at > ORDER_TTL_S:
            try:
                order = self.store.job_order()
            except Exception:
                log.exception("cannot read the queue's order")
            self._order = (time.monotonic(), order)
        return order.get(handle.id, 0)

    def cancel(self, handle: ClusterJob) -> bool:
        state = self.store.job_cancel_waiting(handle.id)
        if state == "cancelled":
            self._resolve_cancelled(handle)
            return True
        if state == "running":
            try:
                self.redis.set(cancel_key(handle.key), b"1", ex=CANCEL_TTL_S)
            except Exception as exc:
                log.warning("cannot cancel job %s: the broker at %s does not answer (%s)",
                            handle.id, self.broker, _reason(exc))
                return False
            return True
        return False

    def close(self) -> None:
        """Stop following; this process's turns that still wait are cancelled (those
        running finish on their workers, their results stored)."""
        self._closed.set()
        self._wake.set()
        with self._lock:
            handles = list(self._handles.values())
        for handle in handles:
            if handle.state == "queued":
                try:
                    if self.store.job_cancel_waiting(handle.id) == "cancelled":
                        self._resolve_cancelled(handle)
                except Exception:
                    log.exception("cannot cancel job %s at close", handle.id)
        for thread in self._threads:
            thread.join(5)

    # -- dispatching ----------------------------------------------------------------------

    def dispatch_once(self) -> list[JobRow]:
        """One round: hand Celery the jobs the free slots take; return them."""
        sent = []
        for row in self.store.dispatch():
            # To the worker whose slot it took (a row dispatched by a front-end of before
            # the workers' own queues has none: its family's queue).
            queue = worker_queue(row.worker) if row.worker else row.route
            try:
                self.app.send_task(TASK, args=[row.id], queue=queue,
                                   task_id=f"turn-{row.id}-{int(time.time() * 1000)}")
            except Exception as exc:
                self.broker_error = (f"the job queue's broker at {self.broker} does not "
                                     f"answer ({_reason(exc)})")
                log.warning("cannot send job %s: %s; it waits", row.id, self.broker_error)
                self.store.job_undispatch(row.id)
                break
            else:
                self.broker_error = None
                sent.append(row)
        return sent

    def follow_once(self) -> None:
        """Bring this process's handles up to date with their rows."""
        with self._lock:
            ids = list(self._handles)
        for row in self.store.jobs(ids):
            with self._lock:
                handle = self._handles.get(row.id)
            if handle is None:
                continue
            if row.state == "running":
                handle._start()
            elif row.state in ("queued", "dispatched"):
                handle.state = "queued"  # again, when its worker died
            elif row.state == "cancelled":
                self._resolve_cancelled(handle)
            else:
                self._finish(handle, row)

    def _dispatch_loop(self) -> None:
        pruned = time.monotonic()
        while not self._closed.is_set():
            self._wake.wait(POLL_S)
            self._wake.clear()
            if self._closed.is_set():
                return
            try:
                if self.dispatch_once():
                    self._order = (0.0, {})
                self.follow_once()
                if time.monotonic() - pruned > PRUNE_EVERY_S:
                    pruned = time.monotonic()
                    self.store.jobs_prune()
            except Exception:
                log.exception("the cluster dispatcher's round failed; it tries again")
                time.sleep(1.0)

    def _listen(self) -> None:
        """Progress from the workers (pub/sub), reconnecting when Redis comes back."""
        told = False  # said once per outage
        while not self._closed.is_set():
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                pubsub.psubscribe(JOB_CHANNELS)
                pubsub.subscribe(DISPATCH_WAKE)
                told = False
                while not self._closed.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    if message is not None:
                        self._on_message(message)
            except Exception as exc:
                if not self._closed.is_set():
                    if not told:
                        log.warning("no progress events from the broker at %s (%s); "
                                    "trying again every second", self.broker, _reason(exc))
                        told = True
                    self._closed.wait(1.0)
            finally:
                try:
                    pubsub.close()
                except Exception:
                    pass

    def _on_message(self, message: dict[str, Any]) -> None:
        channel = message.get("channel", b"")
        channel = channel.decode() if isinstance(channel, bytes) else str(channel)
        if channel == DISPATCH_WAKE:
            self._wake.set()
            return
        try:
            event = json.loads(message["data"])
            key = channel.rsplit(":", 1)[1]
            job_id = int(key.split("-", 1)[0])
        except (ValueError, KeyError, TypeError, IndexError):
            return
        with self._lock:
            handle = self._handles.get(job_id)
        if handle is None or handle.key != key:  # another front-end's, or database's
            return
        kind = event.get("event")
        if kind == "start":
            handle._start()
        elif kind == "progress":
            handle._progress(str(event["what"]), int(event["step"]), int(event["total"]))
        elif kind == "end":
            self._wake.set()

    def _finish(self, handle: ClusterJob, row: JobRow) -> None:
        with self._lock:
            if self._handles.pop(handle.id, None) is None:
                return
        if row.state == "done" and row.result is not None:
            try:
                result = result_from_wire(exports_here(row.result, self.store.assets,
                                                       self.store.home), self.store.assets)
            except Exception as exc:
                log.exception("job %s: cannot read its result", handle.id)
                handle.state = "failed"
                handle.future.set_exception(RuntimeError(f"cannot read the result ({exc})"))
                return
            handle.state = "cancelled" if result.cancelled else "done"
            handle.future.set_result(result)
        else:
            handle.state = "failed"
            handle.future.set_exception(RuntimeError(row.error or "the turn failed"))

    def _resolve_cancelled(self, handle: ClusterJob) -> None:
        with self._lock:
            self._handles.pop(handle.id, None)
        handle.state = "cancelled"
        handle.future.cancel()


def _no_progress(what: str, step: int, total: int) -> None:
    pass


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:200]
