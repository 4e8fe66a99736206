"""The plan a cluster front-end makes of a turn (to route it) against the real PostgreSQL
and Redis on 127.0.0.1: it is made outside the door's lock (one person's slow plan does
not hold another person's submit, one person's turns still queue in the order sent), it
is stored with the job, and the worker runs it as it is, planning again only when it is
missing, of an older format, or made for a conversation that has changed since.

Workers here are ``TurnWorker``s in this process fed by hand (as in test_cluster.py), but
for one test with a real ``museforge worker`` process. Redis database 12: this file's
alone."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

redis = pytest.importorskip("redis")
pytest.importorskip("celery")

from sqlalchemy import update  # noqa: E402
from test_cluster import _request, _worker, pg_url  # noqa: E402, F401

from museforge.assistant.cluster import CeleryTurnQueue  # noqa: E402
from museforge.assistant.jobs import QueueFull, TurnRequest  # noqa: E402
from museforge.assistant.offline import OfflinePlanner  # noqa: E402
from museforge.assistant.planned import PLAN_FORMAT, PlannedTurn  # noqa: E402
from museforge.assistant.planning import Plan, PlanContext  # noqa: E402
from museforge.assistant.routes import MUSIC_ROUTE, route_for  # noqa: E402
from museforge.assistant.turn import Assistant  # noqa: E402
from museforge.bots.service import Studio  # noqa: E402
from museforge.bots.worker import TurnWorker  # noqa: E402
from museforge.config import Settings, load_settings  # noqa: E402
from museforge.storage.models import Actor  # noqa: E402
from museforge.storage.schema import TurnJob  # noqa: E402
from museforge.storage.store import Store  # noqa: E402

BROKER = os.environ.get("MUSEFORGE_TEST_PLANS_BROKER_URL", "redis://127.0.0.1:6379/12")
WAIT_S = 60  # how long a test waits for what must happen before calling it stuck


@pytest.fixture
def settings(pg_url: str, museforge_home: Path) -> Iterator[Settings]:  # noqa: F811
    try:
        redis.Redis.from_url(BROKER, socket_connect_timeout=1).ping()
    except Exception as exc:
        pytest.skip(f"Redis is not reachable at {BROKER} ({exc})")
    preset = f"test-{uuid.uuid4().hex[:8]}"
    yield load_settings(database_url=pg_url, queue="celery", broker_url=BROKER,
                        image_backend="procedural", planner="offline", image_model=preset)
    redis.Redis.from_url(BROKER).flushdb()


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store.open(settings) as store:
        yield store


class CountingPlanner:
    """The offline planner, counting the turns it plans (``refuse``: a planner that must
    not be asked at all)."""

    name = "offline"

    def __init__(self, refuse: bool = False):
        self.inner = OfflinePlanner()
        self.refuse = refuse
        self.asked: list[str] = []

    def plan(self, message: str, context: PlanContext) -> Plan:
        self.asked.append(message)
        if self.refuse:
            raise AssertionError(f"planned again: {message!r}")
        return self.inner.plan(message, context)


_made: list[Studio] = []


def _studio(store: Store, settings: Settings, planner: CountingPlanner) -> Studio:
    """A worker's studio (its queue local, and empty) with ``planner``."""
    local = settings.model_copy(update={"queue": "local"})
    studio = Studio(store, Assistant(store, planner, settings=local), settings=local)
    _made.append(studio)
    return studio


@pytest.fixture(autouse=True)
def _close_studios() -> Iterator[None]:
    yield
    while _made:
        _made.pop().queue.close()


@pytest.fixture
def planner() -> CountingPlanner:
    return CountingPlanner()


@pytest.fixture
def front(store: Store, settings: Settings, planner: CountingPlanner
          ) -> Iterator[CeleryTurnQueue]:
    """A front-end's queue (its dispatcher turned by the test) that plans with ``planner``,
    over an image worker and a music worker: turns are planned ahead to be routed."""
    _worker(store, settings, "gpu-0", queues="images")
    _worker(store, settings, "cpu-0", queues="music,audio")
    planning = _studio(store, settings, planner)
    queue = CeleryTurnQueue(store, settings, plan=planning.run, per_user_limit=100,
                            dispatch=False)
    yield queue
    queue.close()


def _runner(store: Store, settings: Settings, name: str, planner: CountingPlanner
            ) -> TurnWorker:
    return TurnWorker(_studio(store, settings, planner), redis.Redis.from_url(BROKER),
                      store.live_workers()[name], name)


def _versions(store: Store, request: TurnRequest) -> list[tuple[int, int]]:
    actor = Actor(store.user(request.platform, request.external_id))
    session = store.find_session(actor, request.session_key)
    return [(a.number, v.number) for a in store.list_artworks(actor, session)
            for v in store.versions(actor, session, a.number)]


def _set_plan(store: Store, job_id: int, plan: dict | None) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(TurnJob).where(TurnJob.id == job_id).values(plan=plan))


# -- planning outside the door's lock --------------------------------------------------

class SlowPlans:
    """The door's plan-ahead, held for the people in ``hold`` until ``go`` is set."""

    def __init__(self, run, hold: set[str]):  # type: ignore[no-untyped-def]
        self.run, self.hold = run, hold
        self.go = threading.Event()
        self.planning = threading.Event()  # a held plan has begun
        self.begun: list[str] = []

    def __call__(self, request, progress, cancel):  # type: ignore[no-untyped-def]
        self.begun.append(request.message)
        if request.external_id in self.hold:
            self.planning.set()
            assert self.go.wait(WAIT_S), "the held plan was never let go"
        return self.run(request, progress, cancel)


@pytest.fixture
def door(store: Store, settings: Settings, planner: CountingPlanner
         ) -> Iterator[tuple[Studio, SlowPlans]]:
    """The door of a front-end process whose plan-ahead for ann is slow."""
    _worker(store, settings, "gpu-0", queues="images")
    _worker(store, settings, "cpu-0", queues="music,audio")
    planning = _studio(store, settings, planner)
    slow = SlowPlans(planning.run, {"ann"})
    queue = CeleryTurnQueue(store, settings, plan=slow, per_user_limit=100, dispatch=False)
    studio = Studio(store, planning.assistant, settings=settings, queue=queue)
    yield studio, slow
    slow.go.set()
    queue.close()


def _in_thread(fn) -> tuple[threading.Thread, dict]:  # type: ignore[no-untyped-def]
    out: dict = {}

    def body() -> None:
        try:
            out["handle"] = fn()
        except BaseException as exc:  # the test reads it
            out["error"] = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, out


def test_a_slow_plan_for_one_person_does_not_hold_another_persons_submit(store, door):
    studio, slow = door
    ann, asked = _in_thread(lambda: studio.submit(_request(store, "ann", "paint a fox")))
    assert slow.planning.wait(WAIT_S)  # ann's turn is being planned, and stays so
    bob, queued = _in_thread(lambda: studio.submit(_request(store, "bob", "compose a jig")))
    bob.join(WAIT_S)
    assert not bob.is_alive() and "error" not in queued  # bob's turn is in the line...
    assert ann.is_alive() and asked == {}  # ...while ann's is still being planned
    assert [r.route for r in store.jobs([queued["handle"].id])] == [MUSIC_ROUTE]
    slow.go.set()
    ann.join(WAIT_S)
    assert "handle" in asked
    assert [r.route for r in store.jobs([asked["handle"].id])] == [
        route_for(studio.settings.image_model)]


def test_one_persons_turns_enter_the_line_in_the_order_they_were_sent(store, door):
    studio, slow = door
    first, one = _in_thread(lambda: studio.submit(_request(store, "ann", "paint a fox")))
    assert slow.planning.wait(WAIT_S)
    second, two = _in_thread(lambda: studio.submit(_request(store, "ann", "compose a jig")))
    deadline = time.monotonic() + WAIT_S
    while studio._lines.get("web:ann", [0])[0] < 2:  # the second waits its turn at the door
        assert time.monotonic() < deadline
        time.sleep(0.01)
    # A place held while a turn is planned counts toward a server's limit.
    with pytest.raises(QueueFull, match="you already have 2 request"):
        studio.submit(_request(store, "ann", "paint a heron"), limit=2)
    assert slow.begun == ["paint a fox"]  # the second is not planned before the first...
    slow.go.set()
    first.join(WAIT_S)
    second.join(WAIT_S)
    assert slow.begun == ["paint a fox", "compose a jig"]
    assert one["handle"].id < two["handle"].id  # ...and takes the place after it
    assert studio._lines == {} and sum(studio._active.values()) == 2


# -- the plan travels with the job -----------------------------------------------------

def test_the_worker_runs_the_plan_its_front_end_made(store, settings, front, planner):
    job = front.submit(_request(store, "ann", "paint a fox"))
    assert planner.asked == ["paint a fox"]  # planned once, on the front-end, to route it
    (row,) = store.jobs([job.id])
    assert row.plan is not None and row.plan["format"] == PLAN_FORMAT
    assert row.plan["calls"] == [{"name": "generate_image", "args": {"prompt": "a fox"}}]
    assert [r.id for r in front.dispatch_once()] == [job.id]
    worker = _runner(store, settings, "gpu-0", CountingPlanner(refuse=True))
    assert worker.run_job(job.id) == "done"
    assert worker.run_job(job.id) == "skipped"  # delivered again: the row is done
    assert _versions(store, job.request) == [(1, 1)]
    front.follow_once()
    result = job.future.result(timeout=5)
    assert result.reply.startswith("Painted a picture: #1")


def test_a_plan_made_before_an_earlier_turn_ran_is_made_again(store, settings, front,
                                                              planner):
    """"paint a fox" then "make it brighter", both sent before either ran: the second
    was planned for a conversation with no picture in it, so its worker plans it again
    against the one it finds (with the fox)."""
    fox = front.submit(_request(store, "ann", "paint a fox"))
    brighter = front.submit(_request(store, "ann", "make it brighter"))
    assert all(r.plan is not None for r in store.jobs([fox.id, brighter.id]))
    worker_planner = CountingPlanner()
    worker = _runner(store, settings, "gpu-0", worker_planner)
    for job in (fox, brighter):
        assert [r.id for r in front.dispatch_once()] == [job.id]
        assert worker.run_job(job.id) == "done"
    assert worker_planner.asked == ["make it brighter"]  # the fox ran as planned
    assert _versions(store, fox.request) == [(1, 1), (1, 2)]


@pytest.mark.parametrize("stored", [None, "older"])
def test_a_job_without_a_plan_it_can_run_is_planned_by_its_worker(store, settings, front,
                                                                  stored):
    job = front.submit(_request(store, "ann", "paint a fox"))
    (row,) = store.jobs([job.id])
    if stored == "older":  # a job queued by a front-end of before the format changed
        _set_plan(store, job.id, {**row.plan, "format": PLAN_FORMAT - 1,
                                  "calls": [{"name": "compose_music", "args": {}}]})
    else:
        _set_plan(store, job.id, None)
    front.dispatch_once()
    worker_planner = CountingPlanner()
    assert _runner(store, settings, "gpu-0", worker_planner).run_job(job.id) == "done"
    assert worker_planner.asked == ["paint a fox"]
    front.follow_once()
    assert [a.kind for a in job.future.result(timeout=5).artifacts] == ["image"]


def test_a_turn_run_again_after_its_worker_died_runs_its_plan_once(store, settings, front):
    job = front.submit(_request(store, "ann", "paint a fox"))
    front.dispatch_once()
    assert store.job_claim(job.id, "gpu-0") is not None
    request = job.request
    actor = Actor(store.user(request.platform, request.external_id))
    session = store.find_session(actor, request.session_key)
    with store.for_job(job.id):  # it died after storing the request, before painting
        store.add_message(actor, session, "user", request.message)
    assert store.jobs_release("gpu-0") == 1
    assert [r.id for r in front.dispatch_once()] == [job.id]
    worker = _runner(store, settings, "gpu-0", CountingPlanner(refuse=True))
    assert worker.run_job(job.id) == "done"
    assert worker.run_job(job.id) == "skipped"
    assert _versions(store, request) == [(1, 1)]
    assert [r.attempts for r in store.jobs([job.id])] == [2]


def test_a_plan_travels_as_json_and_another_planners_is_not_taken():
    plan = Plan(calls=[], reply="hello!", answer="chat", planner="offline")
    offline = OfflinePlanner()
    shipped = PlannedTurn.of(offline, "abc", plan)
    assert shipped is not None
    back = PlannedTurn.from_json(shipped.to_json(), offline)
    assert back == shipped
    other = CountingPlanner()
    other.name = "llm"
    assert PlannedTurn.from_json(shipped.to_json(), other) is None
    assert PlannedTurn.from_json({"format": PLAN_FORMAT}, offline) is None
    # a planner's state that cannot travel: no plan is stored, the worker plans
    assert PlannedTurn.of(offline, "abc", Plan(state=object())) is None


def test_a_museforge_worker_process_runs_the_stored_plan(store, settings, front, tmp_path):
    """A real ``museforge worker``: the plan stored with the job is what it runs (here
    altered after it was stored, to tell it from a plan the worker would make)."""
    job = front.submit(_request(store, "ann", "paint a fox"))
    (row,) = store.jobs([job.id])
    _set_plan(store, job.id, {**row.plan, "calls": [
        {"name": "generate_image", "args": {"prompt": "a heron"}}]})
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSEFORGE_")}
    env.update(MUSEFORGE_DATABASE_URL=settings.database_url, MUSEFORGE_QUEUE="celery",
               MUSEFORGE_BROKER_URL=BROKER, MUSEFORGE_IMAGE_BACKEND="procedural",
               MUSEFORGE_PLANNER="offline", MUSEFORGE_IMAGE_MODEL=settings.image_model,
               MUSEFORGE_HOME=str(store.home))
    exe = str(Path(sys.executable).with_name("museforge"))
    log = tmp_path / "w1.log"
    proc = subprocess.Popen([exe, "worker", "--queues", "images", "--name", "w1",
                             "--loglevel", "WARNING"], env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while not job.future.done():
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            assert proc.poll() is None, log.read_text()[-3000:]
            front.dispatch_once()
            front.follow_once()
            time.sleep(0.2)
        result = job.future.result()
        assert [(a.kind, a.title) for a in result.artifacts] == [("image", "a heron")]
        assert [r.worker for r in store.jobs([job.id])] == ["w1"]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

