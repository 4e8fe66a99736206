"""The cluster queue (MUSEFORGE_QUEUE=celery) on this machine: real PostgreSQL and Redis,
``museforge worker`` subprocesses, one front-end (this process, ``Studio`` over the
Celery queue), the offline planner and the procedural painter, one data dir shared by
all (one machine: the assets folder is the shared store).

    .venv/bin/python bench/cluster.py [--turns N] [--rounds R] [--database URL]
                                      [--broker URL]

1. throughput: N turns from 4 people with 1 worker, then with 2; turns per second,
   printed as the ratio 2 workers ÷ 1.
2. added latency: N turns one after another (each waits for the last) through Celery
   with 1 worker, against the same turns on the local queue in this process; medians and
   the ratio celery ÷ local.
3. fairness: a heavy user queues N turns, then a light user one; how many of the heavy
   user's turns were handed to a worker between the light turn's arrival and its own
   dispatch (in jobs, from the rows; the promise is at most one per worker).
4. routing: what planning a turn on the front-end (to send it to the workers of its
   model family, when the workers serve different families) adds to each turn, median
   over N turns.
Each figure is the median of R rounds (1 and 2 workers alternating; fairness: the worst).

PostgreSQL from --database or MUSEFORGE_TEST_DATABASE_URL (a schema of its own is made
and dropped); Redis from --broker (default redis://127.0.0.1:6379/9).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url

from museforge.assistant.cluster import CeleryTurnQueue
from museforge.assistant.routes import route_for
from museforge.bots.service import Studio, turn_request
from museforge.config import Settings, load_settings
from museforge.storage.db import make_engine
from museforge.storage.models import Actor, Scope

MUSEFORGE = str(Path(sys.executable).with_name("museforge"))
MESSAGE = "paint a 1024x1024 fox number {i}"


def _workers(n: int, env: dict[str, str], preset: str, settings: Settings,
             studio: Studio) -> list[subprocess.Popen[bytes]]:
    procs = [subprocess.Popen([MUSEFORGE, "worker", "--name", f"bench-{i}", "--loglevel",
                               "WARNING"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL) for i in range(n)]
    deadline = time.monotonic() + 120
    while studio.store.live_slots(route_for(preset)) < n:
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not register")
        time.sleep(0.2)
    return procs


def _stop(procs: list[subprocess.Popen[bytes]], studio: Studio) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        proc.wait(30)
    with studio.store.engine.begin() as conn:  # gone at once, not in 10 s
        conn.execute(text("DELETE FROM turn_workers"))


def _people(studio: Studio, n: int) -> list[tuple[Actor, object]]:
    out = []
    for i in range(n):
        name = f"p{i}-{uuid.uuid4().hex[:6]}"
        actor = Actor(studio.store.user("web", name, name))
        out.append((actor, studio.store.session(actor, Scope.web(name, "bench"))))
    return out


def throughput(studio: Studio, turns: int) -> float:
    people = _people(studio, 4)
    start = time.perf_counter()
    handles = [studio.submit(turn_request(a, s, MESSAGE.format(i=i), front_end="web"))
               for i, (a, s) in ((i, people[i % 4]) for i in range(turns))]
    for h in handles:
        h.future.result(timeout=600)
    return turns / (time.perf_counter() - start)


def sequential(studio: Studio, turns: int) -> float:
    (actor, session), = _people(studio, 1)
    took = []
    for i in range(turns):
        start = time.perf_counter()
        studio.ask(turn_request(actor, session, MESSAGE.format(i=i), front_end="web"))
        took.append(time.perf_counter() - start)
    return statistics.median(took)


def fairness(studio: Studio, turns: int) -> int:
    (heavy, hs), (light, ls) = _people(studio, 2)
    flood = [studio.submit(turn_request(heavy, hs, MESSAGE.format(i=i), front_end="web"))
             for i in range(turns)]
    time.sleep(0.5)  # the flood is under way
    mine = studio.submit(turn_request(light, ls, "paint a heron", front_end="web"))
    for h in [*flood, mine]:
        h.future.result(timeout=600)
    with studio.store.engine.connect() as conn:
        rows = list(conn.execute(text(
            "SELECT id, queue_key, submitted_at, dispatched_at FROM turn_jobs "
            "WHERE id = ANY(:ids)"), {"ids": [h.id for h in [*flood, mine]]}))
    me = next(r for r in rows if r.id == mine.id)
    return sum(1 for r in rows if r.id != mine.id
               and me.submitted_at < r.dispatched_at < me.dispatched_at)


def routing(studio: Studio, turns: int) -> float:
    """Seconds the front-end spends planning a turn to route it (median)."""
    queue = studio.queue
    assert isinstance(queue, CeleryTurnQueue)
    (actor, session), = _people(studio, 1)
    took = []
    for i in range(turns):
        request = turn_request(actor, session, MESSAGE.format(i=i), front_end="web")
        start = time.perf_counter()
        queue.route(request)
        took.append(time.perf_counter() - start)
    return statistics.median(took)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--turns", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database", default=os.environ.get("MUSEFORGE_TEST_DATABASE_URL"))
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/9")
    args = parser.parse_args()
    if not args.database:
        raise SystemExit("give --database postgresql://... (or MUSEFORGE_TEST_DATABASE_URL)")
    schema = f"mf_bench_{os.getpid()}"
    engine = make_engine(args.database)
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(args.database).update_query_dict({"options": f"-csearch_path={schema}"})
    database = url.render_as_string(hide_password=False)
    home = Path(tempfile.mkdtemp(prefix="mf-bench-cluster-"))
    preset = f"bench-{uuid.uuid4().hex[:6]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSEFORGE_")}
    env.update(MUSEFORGE_HOME=str(home), MUSEFORGE_DATABASE_URL=database,
               MUSEFORGE_QUEUE="celery", MUSEFORGE_BROKER_URL=args.broker,
               MUSEFORGE_IMAGE_BACKEND="procedural", MUSEFORGE_PLANNER="offline",
               MUSEFORGE_IMAGE_MODEL=preset, MUSEFORGE_QUEUE_PER_PERSON="1000")
    settings = load_settings(home=home, database_url=database, queue="celery",
                             broker_url=args.broker, image_backend="procedural",
                             planner="offline", image_model=preset, queue_per_person=1000)
    try:
        with Studio.open(settings) as studio:
            rates: dict[int, list[float]] = {1: [], 2: []}
            celery: list[float] = []
            ahead: list[int] = []
            for _ in range(args.rounds):  # 1 worker, 2, 1, 2...: a busy machine drifts
                for n in (1, 2):
                    procs = _workers(n, env, preset, settings, studio)
                    try:
                        throughput(studio, 2)  # warm: each worker's first turn loads more
                        rates[n].append(throughput(studio, args.turns))
                        if n == 1:
                            celery.append(sequential(studio, args.turns))
                        else:
                            ahead.append(fairness(studio, args.turns))
                    finally:
                        _stop(procs, studio)
            route_s = routing(studio, args.turns)
            figures = {n: statistics.median(r) for n, r in rates.items()}
            celery_s, jobs_ahead = statistics.median(celery), max(ahead)
        with Studio.open(settings.model_copy(update={"queue": "local"})) as local:
            sequential(local, 2)
            local_s = sequential(local, args.turns)
        print(f"throughput, {args.turns} turns, 4 people: 1 worker {figures[1]:.2f}/s, "
              f"2 workers {figures[2]:.2f}/s; ratio 2 ÷ 1 = {figures[2] / figures[1]:.2f} "
              f"({os.cpu_count()} CPUs)")
        print(f"one turn at a time: celery {celery_s * 1000:.0f} ms, local "
              f"{local_s * 1000:.0f} ms (medians); ratio celery ÷ local = "
              f"{celery_s / local_s:.2f}")
        print(f"a light user's turn behind a heavy user's {args.turns}, 2 workers: "
              f"at worst {jobs_ahead} of the heavy user's turns dispatched before it (at most 2)")
        print(f"routing, workers of different families: planning a turn on the front-end "
              f"first adds {route_s * 1000:.1f} ms (median; offline planner), "
              f"{route_s / celery_s:.1%} of a turn through celery")
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()
        import redis

        route = route_for(preset)
        redis.Redis.from_url(args.broker).delete(route, f"_kombu.binding.{route}",
                                                 f"_kombu.binding_permanent.{route}")
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
