"""The cluster queue's shared state (``MUSEFORGE_QUEUE=celery``): a part of ``Store``, kept
apart from the queries the conversation makes. PostgreSQL only: every front-end and
worker reads the same rows, times are the database's clock (``now()``), and one advisory
lock makes one dispatcher at a time decide who goes next.

A job is a row of ``turn_jobs``: queued -> dispatched (handed to Celery, for a free
worker slot) -> running (a worker claimed it) -> done | failed; or cancelled while it
waits. A job's route is the Celery queue of the workers whose models it needs (or
``ANY_ROUTE``: it loads none). A worker is a row of ``turn_workers`` with the queues it
consumes and a heartbeat; the slots of live workers less the jobs running on them or sent
to them are the free slots the dispatcher may fill, each with a job of a queue its worker
consumes (``fill``), and a job dispatched names the worker whose slot it took (``worker``:
it is sent to that worker's own Celery queue, not to its family's, where another worker
of the family could take it and leave the one job only the first could run waiting).
Fairness is round-robin by person: of the people with queued jobs, the one whose last job
was dispatched longest ago (never: first) gives their oldest one that a free slot can
take.

Claims are atomic (``UPDATE ... WHERE state = 'dispatched'``, by the worker it was sent
to), so a message Celery delivers twice, or a job dispatched again after its worker died,
runs once at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from museforge.storage.schema import Artwork, Message, TurnJob, TurnWorker, Version

ACTIVE = ("queued", "dispatched", "running")
FINISHED = ("done", "failed", "cancelled")
# A worker beats every HEARTBEAT_S; one silent for LIVE_S is gone, its running job queued
# again. A job dispatched but not claimed for DISPATCH_STALE_S lost its message (a
# front-end died between the commit and the send, the broker lost it): queued again.
HEARTBEAT_S = 2.0
LIVE_S = 10.0
DISPATCH_STALE_S = 30.0
KEEP_FINISHED_S = 24 * 3600
ANY_ROUTE = ""  # the route of a job that loads no model: any worker's slot takes it
_DISPATCH_LOCK = 0x6D7573_6601  # pg_advisory_xact_lock keys: "mus" + 0x66 + n
_SUBMIT_LOCK = 0x6D7573_6602

# The job whose turn runs on this thread (the worker sets it): what the turn writes is
# tagged with it (``Message.job_id``).
current_job: ContextVar[int | None] = ContextVar("museforge_current_job", default=None)


def mark_changed(s: Session, job_id: int) -> None:
    """Note, in the transaction ``s`` of a write that changed the work, that the job's
    turn has changed something (the first time only)."""
    s.execute(update(TurnJob).where(TurnJob.id == job_id, TurnJob.changed_at.is_(None))
              .values(changed_at=func.now()))


class TooManyJobs(Exception):
    """The person, or everyone together, has too many jobs waiting; the text says so."""


@dataclass(frozen=True)
class JobRow:
    id: int
    queue_key: str
    route: str
    request: dict[str, Any]
    state: str
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    origin: str
    worker: str | None
    submitted_at: datetime
    changed: bool  # the turn (a run of it) changed the work: made a version, moved a head
    plan: dict[str, Any] | None = None  # the front-end's plan of it (assistant/planned.py)

    @property
    def key(self) -> str:
        """The job's name outside the database (Redis channels and keys): its id and
        when it was submitted, so that jobs of two databases on one Redis never meet."""
        return job_key(self.id, self.submitted_at)


def job_key(job_id: int, submitted_at: datetime) -> str:
    return f"{job_id}-{int(submitted_at.timestamp() * 1_000_000)}"


def _row(r: TurnJob) -> JobRow:
    return JobRow(r.id, r.queue_key, r.route, dict(r.request), r.state,
                  dict(r.result) if r.result is not None else None, r.error, r.attempts,
                  r.origin, r.worker, r.submitted_at, r.changed_at is not None,
                  dict(r.plan) if r.plan is not None else None)


def round_robin(queued: list[tuple[int, str]], last_served: dict[str, datetime]
                ) -> list[int]:
    """The order ``queued`` jobs ((id, person), oldest first) will be dispatched in: the
    person served longest ago (never: first, oldest job first among those) gives their
    oldest job, and is then the one served last."""
    mine: dict[str, list[int]] = {}
    for job_id, person in queued:
        mine.setdefault(person, []).append(job_id)
    never = datetime.min.replace(tzinfo=UTC)
    # (when last served, their oldest waiting job) -> the next person; ties by arrival
    line = sorted(mine, key=lambda p: (last_served.get(p, never), mine[p][0]))
    order: list[int] = []
    while line:
        person = line.pop(0)
        order.append(mine[person].pop(0))
        if mine[person]:
            line.append(person)
    return order


def fill(units: list[set[str]], pending: list[str], queued: list[tuple[int, str]]
         ) -> dict[int, int]:
    """Which ``queued`` jobs ((id, route), in fairness order) the free slots ``units``
    (each the queues its worker consumes) take, once the ``pending`` ones (routes of jobs
    already handed to Celery, not yet claimed) have theirs: job id -> the unit it takes.
    A bipartite matching grown one job at a time along augmenting paths, so a job is
    passed over only when no rearrangement of the earlier ones leaves it a slot (a
    light job that fits anywhere never takes the one slot a music job needs)."""
    owner: dict[int, int] = {}  # unit -> index into ``routes``
    routes: list[str] = []

    def fits(route: str, unit: int) -> bool:
        return route == ANY_ROUTE or route in units[unit]

    def place(job: int, seen: set[int]) -> bool:
        for unit in range(len(units)):
            if unit in seen or not fits(routes[job], unit):
                continue
            seen.add(unit)
            if unit not in owner or place(owner[unit], seen):
                owner[unit] = job
                return True
        return False

    for route in pending:
        routes.append(route)
        if not place(len(routes) - 1, set()):
            routes.pop()  # no slot left for it: it waits in Celery for whichever frees
    first = len(routes)
    ids: list[int] = []
    for job_id, route in queued:
        if len(owner) == len(units):
            break
        routes.append(route)
        if place(len(routes) - 1, set()):
            ids.append(job_id)
        else:
            routes.pop()
    return {ids[job - first]: unit for unit, job in owner.items() if job >= first}


class TurnJobs:
    engine: Engine
    _read: Callable[[Callable[[Session], Any]], Any]
    _write: Callable[[Callable[[Session], Any]], Any]

    @property
    def cluster_ready(self) -> bool:
        """Whether this database can hold the cluster queue (PostgreSQL)."""
        return self.engine.dialect.name == "postgresql"

    # -- front-ends -------------------------------------------------------------------

    def job_submit(self, request: dict[str, Any], queue_key: str, route: str, origin: str,
                   *, per_person: int, max_waiting: int,
                   plan: dict[str, Any] | None = None) -> JobRow:
        """A new queued job (``plan``: the front-end's plan of it, for its worker to run);
        ``TooManyJobs`` when the person already has ``per_person``
        in progress or ``max_waiting`` jobs wait in all (checked under one lock, so two
        front-ends cannot both let in the last place)."""

        def op(s: Session) -> JobRow:
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SUBMIT_LOCK})
            mine = s.scalar(select(func.count()).select_from(TurnJob).where(
                TurnJob.queue_key == queue_key, TurnJob.state.in_(ACTIVE))) or 0
            if mine >= per_person:
                raise TooManyJobs(f"you already have {mine} requests in progress; wait for "
                                  "one to finish (or cancel it)")
            waiting = s.scalar(select(func.count()).select_from(TurnJob).where(
                TurnJob.state == "queued")) or 0
            if waiting >= max_waiting:
                raise TooManyJobs("the queue is full; try again in a minute")
            row = TurnJob(queue_key=queue_key, route=route, request=request, state="queued",
                          attempts=0, origin=origin, submitted_at=func.now(), plan=plan)
            s.add(row)
            s.flush()
            s.refresh(row)  # the database's submitted_at
            return _row(row)

        made: JobRow = self._write(op)
        return made

    def job_cancel_waiting(self, job_id: int) -> str | None:
        """Cancel the job if it has not started (queued, or dispatched and not claimed:
        its message then finds it cancelled and runs nothing); its state after."""

        def op(s: Session) -> str | None:
            done = s.execute(update(TurnJob).where(
                TurnJob.id == job_id, TurnJob.state.in_(("queued", "dispatched")))
                .values(state="cancelled", finished_at=func.now(), worker=None))
            if done.rowcount:  # type: ignore[attr-defined]
                return "cancelled"
            state: str | None = s.scalar(select(TurnJob.state).where(TurnJob.id == job_id))
            return state

        result: str | None = self._write(op)
        return result

    def jobs(self, ids: list[int]) -> list[JobRow]:
        if not ids:
            return []
        return list(self._read(lambda s: [_row(r) for r in s.scalars(
            select(TurnJob).where(TurnJob.id.in_(ids)))]))

    def jobs_waiting(self) -> int:
        return int(self._read(lambda s: s.scalar(select(func.count()).select_from(TurnJob)
                                                 .where(TurnJob.state == "queued")) or 0))

    def job_order(self) -> dict[int, int]:
        """Each queued job's place (1: next) in its route's line, as the dispatcher will
        take them if nobody else arrives."""

        def op(s: Session) -> dict[int, int]:
            places: dict[int, int] = {}
            by_route: dict[str, list[tuple[int, str]]] = {}
            for job_id, person, route in s.execute(
                    select(TurnJob.id, TurnJob.queue_key, TurnJob.route)
                    .where(TurnJob.state == "queued").order_by(TurnJob.id)):
                by_route.setdefault(route, []).append((job_id, person))
            served = self._last_served(s, {p for q in by_route.values() for _, p in q})
            for queued in by_route.values():
                for place, job_id in enumerate(round_robin(queued, served), 1):
                    places[job_id] = place
            return places

        return dict(self._read(op))

    def dispatch(self) -> list[JobRow]:
        """Choose the jobs to hand Celery now, one per free worker slot, round-robin by
        person, and mark them dispatched; return them (the caller sends them, and puts
        back with ``job_undispatch`` any it could not send). First queues again the jobs
        of workers that are gone and dispatched jobs nobody claimed. [] when another
        dispatcher holds the lock this moment."""

        def op(s: Session) -> list[JobRow]:
            got = s.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _DISPATCH_LOCK})
            if not got:
                return []
            live = self._live_workers(s)
            # Running on, or sent to, a worker that is gone: back in line (a message in a
            # gone worker's own queue is never read).
            s.execute(update(TurnJob).where(
                TurnJob.state.in_(("running", "dispatched")), TurnJob.worker.is_not(None),
                TurnJob.worker.not_in(live or [""]))
                .values(state="queued", worker=None))
            s.execute(update(TurnJob).where(
                TurnJob.state == "dispatched",
                TurnJob.dispatched_at < func.now() - timedelta(seconds=DISPATCH_STALE_S))
                .values(state="queued", worker=None))
            free: dict[str, int] = {}
            takes: dict[str, set[str]] = {}
            for name, routes, n in s.execute(
                    select(TurnWorker.name, TurnWorker.route, TurnWorker.slots)
                    .where(TurnWorker.name.in_(live or [""])).order_by(TurnWorker.name)):
                free[name], takes[name] = int(n), set(routes.split())
            # A slot is taken by the job running there and by one sent there, not yet
            # claimed (each job is sent to its worker's own queue).
            for holder, n in s.execute(select(TurnJob.worker, func.count())
                                       .where(TurnJob.state.in_(("running", "dispatched")),
                                              TurnJob.worker.is_not(None))
                                       .group_by(TurnJob.worker)):
                if holder in free:
                    free[holder] -= int(n)
            # A worker of fewer queues first: a job that fits several goes where it keeps
            # the others free for what only they take.
            workers = sorted((w for w in free if free[w] > 0),
                             key=lambda w: (len(takes[w]), w))
            owners = [w for w in workers for _ in range(free[w])]
            units = [takes[w] for w in owners]
            if not units:
                return []
            # Sent on a family queue (by a front-end of before the workers' own queues):
            # whichever worker of that queue takes it.
            pending = list(s.scalars(select(TurnJob.route)
                                     .where(TurnJob.state == "dispatched",
                                            TurnJob.worker.is_(None))
                                     .order_by(TurnJob.id)))
            queued = {j: (p, r) for j, p, r in s.execute(
                select(TurnJob.id, TurnJob.queue_key, TurnJob.route)
                .where(TurnJob.state == "queued").order_by(TurnJob.id))}
            if not queued:
                return []
            served = self._last_served(s, {p for p, _ in queued.values()})
            order = round_robin([(j, p) for j, (p, _) in queued.items()], served)
            taken = fill(units, pending, [(j, queued[j][1]) for j in order])
            chosen = [j for j in order if j in taken]
            if not chosen:
                return []
            # One transaction, so the batch shares one dispatched_at (now() is the
            # transaction's start): the order within it is by id below, and the next
            # round sees these people as just served. Each job names the worker whose
            # slot it took: it is sent to that worker's own queue, so no other worker of
            # its family takes it while a job only that other one can run waits.
            for job_id in chosen:
                s.execute(update(TurnJob).where(TurnJob.id == job_id).values(
                    state="dispatched", dispatched_at=func.now(),
                    worker=owners[taken[job_id]]))
            rows = {r.id: _row(r) for r in s.scalars(
                select(TurnJob).where(TurnJob.id.in_(chosen)))}
            return [rows[j] for j in chosen]

        return list(self._write(op))

    def job_undispatch(self, job_id: int) -> None:
        """Put a job whose message could not be sent back in the line."""
        self._write(lambda s: s.execute(update(TurnJob).where(
            TurnJob.id == job_id, TurnJob.state == "dispatched")
            .values(state="queued", dispatched_at=None, worker=None)))

    def _last_served(self, s: Session, people: set[str]) -> dict[str, datetime]:
        if not people:
            return {}
        rows = s.execute(select(TurnJob.queue_key, func.max(TurnJob.dispatched_at))
                         .where(TurnJob.queue_key.in_(people),
                                TurnJob.dispatched_at.is_not(None))
                         .group_by(TurnJob.queue_key))
        return {p: t for p, t in rows if t is not None}

    def _live_workers(self, s: Session) -> list[str]:
        return list(s.scalars(select(TurnWorker.name).where(
            TurnWorker.heartbeat_at > func.now() - timedelta(seconds=LIVE_S))))

    def live_slots(self, route: str | None = None) -> int:
        """Turns the live workers (those that consume ``route``) run at once."""

        def op(s: Session) -> int:
            return sum(int(n) for routes, n in s.execute(
                select(TurnWorker.route, TurnWorker.slots).where(
                    TurnWorker.heartbeat_at > func.now() - timedelta(seconds=LIVE_S)))
                if route in (None, ANY_ROUTE) or route in routes.split())

        return int(self._read(op))

    def live_workers(self) -> dict[str, list[str]]:
        """Each live worker's name -> the Celery queues it consumes."""
        return dict(self._read(lambda s: {name: routes.split() for name, routes in s.execute(
            select(TurnWorker.name, TurnWorker.route).where(
                TurnWorker.heartbeat_at > func.now() - timedelta(seconds=LIVE_S)))}))

    def jobs_prune(self, older_than_s: float = KEEP_FINISHED_S) -> int:
        def op(s: Session) -> int:
            gone = s.execute(delete(TurnJob).where(
                TurnJob.state.in_(FINISHED),
                TurnJob.finished_at < func.now() - timedelta(seconds=older_than_s)))
            return int(gone.rowcount)  # type: ignore[attr-defined]

        return int(self._write(op))

    # -- workers ----------------------------------------------------------------------

    def worker_beat(self, name: str, routes: str | list[str], slots: int = 1) -> None:
        """This worker, consuming the Celery queue(s) ``routes``, is alive (first call: it
        is here)."""
        route = routes if isinstance(routes, str) else " ".join(routes)
        stmt = pg_insert(TurnWorker).values(name=name, route=route, slots=slots,
                                            started_at=func.now(), heartbeat_at=func.now())
        stmt = stmt.on_conflict_do_update(index_elements=["name"], set_={
            "heartbeat_at": func.now(), "route": route, "slots": slots})
        self._write(lambda s: s.execute(stmt))

    def worker_gone(self, name: str) -> None:
        self._write(lambda s: s.execute(delete(TurnWorker).where(TurnWorker.name == name)))

    def job_claim(self, job_id: int, worker: str) -> JobRow | None:
        """Take a dispatched job to run; None when it is not there to take (done,
        cancelled, queued again, sent to another worker, or another worker has it)."""

        def op(s: Session) -> JobRow | None:
            s.execute(update(TurnJob).where(TurnJob.id == job_id,
                                            TurnJob.state == "dispatched",
                                            or_(TurnJob.worker.is_(None),
                                                TurnJob.worker == worker))
                      .values(state="running", worker=worker, started_at=func.now(),
                              attempts=TurnJob.attempts + 1))
            row = s.get(TurnJob, job_id)
            if row is None or row.state != "running" or row.worker != worker:
                return None
            return _row(row)

        found: JobRow | None = self._write(op)
        return found

    def jobs_release(self, worker: str) -> int:
        """Put back in line the jobs ``worker`` holds as running (called when it runs
        none: an end it could not record, with the database away); how many."""

        def op(s: Session) -> int:
            done = s.execute(update(TurnJob).where(
                TurnJob.worker == worker, TurnJob.state == "running")
                .values(state="queued", worker=None))
            return int(done.rowcount)  # type: ignore[attr-defined]

        return int(self._write(op))

    def job_finish(self, job_id: int, worker: str, state: str, *,
                   result: dict[str, Any] | None = None, error: str | None = None) -> bool:
        """Record how the job ended, if this worker still holds it."""
        assert state in ("done", "failed")

        def op(s: Session) -> bool:
            done = s.execute(update(TurnJob).where(
                TurnJob.id == job_id, TurnJob.state == "running", TurnJob.worker == worker)
                .values(state=state, result=result, error=error, finished_at=func.now()))
            return bool(done.rowcount)  # type: ignore[attr-defined]

        return bool(self._write(op))

    # -- what a job's turn wrote ------------------------------------------------------

    @contextmanager
    def for_job(self, job_id: int) -> Iterator[None]:
        """Tag what the turn run inside writes with ``job_id`` (its messages); a user
        message the job already wrote is found, not written again."""
        token = current_job.set(job_id)
        try:
            yield
        finally:
            current_job.reset(token)

    def job_messages(self, job_id: int) -> list[tuple[int, str, str, list[Any]]]:
        """(id, role, text, tool_calls) of each message the job's turn wrote, oldest
        first."""
        return list(self._read(lambda s: [
            (r.id, r.role, r.text, list(r.tool_calls or []))
            for r in s.scalars(select(Message).where(Message.job_id == job_id)
                               .order_by(Message.id))]))

    def versions_of_message(self, message_id: int) -> list[tuple[int, int]]:
        """(artwork number, version number) of each version made for that message."""
        return list(self._read(lambda s: [tuple(r) for r in s.execute(
            select(Artwork.number, Version.number)
            .join(Artwork, Artwork.id == Version.artwork_id)
            .where(Version.message_id == message_id).order_by(Version.id))]))
