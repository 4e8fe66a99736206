"""``museforge worker``: one Celery worker process, one turn at a time (one per GPU),
consuming the queues of the model families it was started for (``--queues``: an image
preset's ``museforge.images.<preset>``, ``museforge.music``, ``museforge.audio``) so that
its models stay loaded between turns. A turn runs through ``Studio.run``, the code path of
the local queue, inside ``Store.for_job`` so that what it writes is tagged with its job,
with the plan its front-end made of it (stored with the job: ``assistant/planned.py``),
planned again only when that plan is missing, of an older format, or made for a
conversation that has changed since.

Exactly once, as far as a person can tell: a job is claimed atomically in PostgreSQL
before it runs (a message delivered twice, or a job dispatched again after its worker
died, finds it taken or finished and does nothing). A job run again because its worker
died looks at what the first run wrote before it runs anything: if that run had already
answered, made versions or changed anything else (a head moved: ``turn_jobs.changed_at``,
marked by the store in the same transaction as the change), the turn is not run again
(that would make a second version, or undo twice): its result is rebuilt from the store;
otherwise it runs again, and its request message, already stored, is not stored twice."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from museforge.assistant.cluster import (
    DISPATCH_WAKE,
    EXPORTED,
    TASK,
    UPLOADS,
    cancel_key,
    celery_app,
    job_channel,
    result_to_wire,
)
from museforge.assistant.jobs import QueueUnavailable, TurnRequest
from museforge.assistant.planned import PlannedTurn
from museforge.assistant.routes import worker_queue
from museforge.assistant.turn import CallRecord, TurnResult
from museforge.bots.exports import exports
from museforge.bots.service import Studio
from museforge.config import Settings
from museforge.storage.errors import StorageError
from museforge.storage.models import Actor, UserRef
from museforge.storage.turn_jobs import HEARTBEAT_S, JobRow
from museforge.tools.base import Artifact

log = logging.getLogger(__name__)
CANCEL_POLL_S = 0.25
HOLD_CHECK_POLLS = 4  # every second, whether this worker still holds its job
FINISH_TRIES = 8  # about 10 s of retries to record a job's end
RESUMED = ("the worker that began this turn stopped before it finished; what it had made "
           "is kept")
CHANGED = ("The worker that began this turn stopped after it had changed something (an "
           "undo, a redo, a revert...), before it could answer; that change is kept, so "
           "look at the artworks before asking again")


class TurnWorker:
    """What one worker process does with the jobs Celery hands it."""

    def __init__(self, studio: Studio, redis: Any, routes: list[str], name: str):
        self.studio = studio
        self.store = studio.store
        self.redis = redis
        self.routes = routes
        self.name = name
        self._busy = False
        self._busy_lock = threading.Lock()

    def run_job(self, job_id: int) -> str:
        """Run job ``job_id`` if it is there to run; what became of it."""
        with self._busy_lock:
            self._busy = True
        try:
            return self._run_job(job_id)
        finally:
            with self._busy_lock:
                self._busy = False

    def tidy(self) -> int:
        """Between turns: put back in line any job still marked as running here (its end
        could not be recorded: the database was away); how many."""
        with self._busy_lock:
            if self._busy:
                return 0
            return self.store.jobs_release(self.name)

    def _run_job(self, job_id: int) -> str:
        row = self.store.job_claim(job_id, self.name)
        if row is None:
            log.info("job %s is not there to run (finished, cancelled or taken)", job_id)
            return "skipped"
        key = row.key
        self._publish(key, {"event": "start", "worker": self.name})
        cancel = threading.Event()
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch_cancel, args=(key, cancel, stop),
                                   daemon=True)
        watcher.start()
        try:
            fields = {k: v for k, v in row.request.items() if k != UPLOADS}
            request = TurnRequest.from_json(fields)
            with self.store.for_job(job_id), tempfile.TemporaryDirectory(
                    prefix="museforge-uploads-") as folder:
                here = self._fetch_uploads(row.request.get(UPLOADS, []), Path(folder))
                result = self._resume(row, request) if row.attempts > 1 else None
                if result is None:
                    attached = tuple(here.get(a, a) for a in request.attachments)
                    planned = self._planned(row)
                    result = self.studio.run(replace(request, attachments=attached),
                                             self._progress(key), cancel, planned=planned)
                    if planned is not None and not result.ran_planned:
                        log.info("job %s: the conversation changed since its front-end "
                                 "planned it; planned again", job_id)
                wire = _paths_back(result_to_wire(result), here)
            wire[EXPORTED] = self._share_exports(result)
        except Exception as exc:
            log.exception("job %s failed", job_id)
            text = " ".join(str(exc).split()) or type(exc).__name__
            self._finish(job_id, "failed", error=f"the turn failed on a worker: {text}")
            return "failed"
        else:
            self._finish(job_id, "done", result=wire)
            return "done"
        finally:
            stop.set()
            self._publish(key, {"event": "end"})
            self._publish_raw(DISPATCH_WAKE, "{}")

    def _planned(self, row: JobRow) -> PlannedTurn | None:
        """The plan the front-end stored with the job, if this worker's planner can run
        it (None: none stored, or of an older format or another planner: it plans)."""
        if row.plan is None:
            return None
        planned = PlannedTurn.from_json(row.plan, self.studio.assistant.planner)
        if planned is None:
            log.info("job %s: its stored plan is of another format or planner; planning "
                     "it again", row.id)
        return planned

    def _finish(self, job_id: int, state: str, **end: Any) -> None:
        """Record the end; a database that is away is waited for a little (then ``tidy``
        puts the job back in line, and its second run finds what the first wrote)."""
        for attempt in range(FINISH_TRIES):
            try:
                if not self.store.job_finish(job_id, self.name, state, **end):
                    log.warning("job %s was no longer this worker's", job_id)
                return
            except Exception as exc:
                log.warning("cannot record the end of job %s (%s); trying again", job_id,
                            exc)
                time.sleep(min(2.0, 0.1 * 2 ** attempt))

    def _share_exports(self, result: TurnResult) -> list[list[str]]:
        """The scores the turn's export_music calls wrote here, into the asset store, so
        that the front-end (elsewhere) can hand them over: [this path, the asset's logical
        path, the path under the data dir]."""
        out = []
        for found in exports(result.calls, self.store.home):
            put = self.store.assets.put(found.path.read_bytes(), "application/octet-stream")
            out.append([str(found.path), put.path,
                        found.path.relative_to(self.store.home).as_posix()])
        return out

    def _fetch_uploads(self, uploads: list[list[str]], folder: Path) -> dict[str, str]:
        """The attached files, from the asset store into ``folder`` under their own names
        (the turn reads a file's kind from its name): the front-end's path -> here."""
        here = {}
        for i, (theirs, rel) in enumerate(uploads):
            local = folder / str(i) / Path(theirs).name
            local.parent.mkdir()
            shutil.copyfile(self.store.assets.abspath(rel), local)
            here[theirs] = str(local)
        return here

    def _resume(self, row: JobRow, request: TurnRequest) -> TurnResult | None:
        """The result of a first run that had written something that must not be
        written twice; None when the turn may simply run (again)."""
        written = self.store.job_messages(row.id)
        asked = next((m for m in written if m[1] == "user"), None)
        answered = next((m for m in written if m[1] == "assistant"), None)
        if asked is None:
            return None
        made = self.store.versions_of_message(asked[0])
        if answered is None and not made and not row.changed:
            return None  # it died before changing anything: run it (its request is kept)
        actor = Actor(UserRef(request.user_id, request.platform, request.external_id,
                              request.display_name), guild_id=request.guild_id)
        session = self.store.find_session(actor, request.session_key)
        artifacts = []
        for number, version in made:
            art, ver = self.store.resolve(actor, session, f"#{number} v{version}")
            artifacts.append((ver.operation, Artifact.of(art, ver)))
        calls = [CallRecord(op, {}, True, artifacts=[a]) for op, a in artifacts]
        if answered is not None:
            reply = answered[2]
        else:
            if artifacts:
                refs = ", ".join(f"#{a.artwork} v{a.version}" for _, a in artifacts)
                reply = f"{refs}: {RESUMED}."
            else:  # an undo, a redo, a revert, a style...: done once is enough
                reply = f"{CHANGED}."
            self.store.add_message(actor, session, "assistant", reply)
        return TurnResult(session.name, self.studio.assistant.planner.name, reply, calls)

    def _progress(self, key: str) -> Any:
        def progress(what: str, step: int, total: int) -> None:
            self._publish(key, {"event": "progress", "what": what, "step": step,
                                "total": total})

        return progress

    def _publish(self, key: str, event: dict[str, Any]) -> None:
        self._publish_raw(job_channel(key), json.dumps(event))

    def _publish_raw(self, channel: str, data: str) -> None:
        try:
            self.redis.publish(channel, data)
        except Exception as exc:  # progress is a nicety; the row carries the end
            log.warning("cannot publish on %s: %s", channel, exc)

    def _watch_cancel(self, key: str, cancel: threading.Event,
                      stop: threading.Event) -> None:
        """Set ``cancel`` when the person cancels (a Redis key), or when this worker no
        longer holds the job (its heartbeat stalled so long that the job was given to
        another): the turn then stops at its next step, and writes nothing more."""
        job_id = int(key.split("-", 1)[0])
        polls = 0
        while not stop.wait(CANCEL_POLL_S):
            polls += 1
            try:
                if self.redis.exists(cancel_key(key)):
                    cancel.set()
                    return
            except Exception as exc:
                log.warning("cannot look for a cancel of job %s: %s", key, exc)
            if polls % HOLD_CHECK_POLLS == 0:
                try:
                    rows = self.store.jobs([job_id])
                except Exception as exc:
                    log.warning("cannot look at job %s: %s", key, exc)
                    continue
                if not rows or rows[0].state != "running" or rows[0].worker != self.name:
                    log.error("job %s was given to another worker; stopping it here", key)
                    cancel.set()
                    return


def _paths_back(wire: dict[str, Any], here: dict[str, str]) -> dict[str, Any]:
    """The result with this worker's copies of the attached files named as the
    front-end knows them (a file's error is shown by the name the person gave it)."""
    if not here:
        return wire
    text = json.dumps(wire)
    for theirs, local in here.items():
        text = text.replace(json.dumps(local)[1:-1], json.dumps(theirs)[1:-1])
    back: dict[str, Any] = json.loads(text)
    return back


def run_worker(settings: Settings, routes: list[str], *, preset: str | None = None,
               name: str | None = None, loglevel: str = "INFO") -> None:
    """Serve the turns of the Celery queues ``routes`` (``cluster.worker_routes``) until
    stopped (Ctrl-C, SIGTERM: the running turn finishes first)."""
    try:
        import celery  # noqa: F401
        import redis
    except ImportError as exc:  # the `cluster` extra
        raise QueueUnavailable(f"museforge worker needs celery and redis ({exc.name} is "
                               "not installed): pip install 'museforge[cluster]'") from exc

    if preset:
        settings = settings.model_copy(update={"image_model": preset})
    # The worker runs turns itself (Studio.run): its studio's own queue is the local one,
    # and stays empty.
    studio = Studio.open(settings.model_copy(update={"queue": "local"}))
    if not studio.store.cluster_ready:
        studio.close()
        raise StorageError("museforge worker needs the PostgreSQL database the front-ends "
                           "use: set MUSEFORGE_DATABASE_URL=postgresql://...")
    name = name or f"{socket.gethostname()}:{os.getpid()}"
    worker = TurnWorker(studio, redis.Redis.from_url(settings.broker_url, socket_timeout=5,
                                                     socket_connect_timeout=3), routes, name)
    app = celery_app(settings.broker_url)

    @app.task(name=TASK, acks_late=True, ignore_result=True)  # type: ignore[untyped-decorator]
    def run_turn(job_id: int) -> str:
        return worker.run_job(int(job_id))

    stop = threading.Event()

    def beat() -> None:
        while True:
            try:
                studio.store.worker_beat(name, routes, 1)
                if worker.tidy():
                    log.warning("put back in line a job whose end was not recorded")
            except Exception as exc:
                log.warning("heartbeat failed: %s", exc)
            if stop.wait(HEARTBEAT_S):
                return

    studio.store.worker_beat(name, routes, 1)
    # What it consumes, said where a person starting it reads it (the same list is the
    # row the dispatchers read, and Celery's -Q).
    print(f"museforge worker {name} listens to: {', '.join(routes)}", file=sys.stderr,
          flush=True)
    heart = threading.Thread(target=beat, name="museforge-heartbeat", daemon=True)
    heart.start()
    # Its own queue is where the dispatchers send its jobs; its families' queues take the
    # jobs of front-ends of before the workers' own queues.
    own = worker_queue(name)
    try:
        app.worker_main(["worker", "--pool=solo", "--concurrency=1",
                         "--prefetch-multiplier=1", "-Q", ",".join([*routes, own]),
                         "-n", f"museforge-{os.getpid()}@{socket.gethostname()}",
                         "--without-gossip", "--without-mingle", "--without-heartbeat",
                         f"--loglevel={loglevel}"])
    finally:
        stop.set()
        heart.join(5)
        try:
            studio.store.worker_gone(name)  # what was sent here goes back in line
            worker.redis.delete(own, f"_kombu.binding.{own}")
        except Exception as exc:
            log.warning("cannot say this worker is gone: %s", exc)
        finally:
            studio.close()
