"""The cluster queue (MUSEFORGE_QUEUE=celery) against the real PostgreSQL and Redis on
127.0.0.1: who goes next, cancels that never reach a worker, jobs delivered twice or run
again after their worker died, and the sentences a front-end says when it cannot queue.

Workers here are ``TurnWorker``s in this process (the code a ``museforge worker`` runs
for each message) fed by hand, so the order is the dispatcher's and nothing else's, but
for one test that starts two real ``museforge worker`` processes to see the queues each
consumes; tests/bots/test_cluster_e2e.py runs the whole cluster."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

redis = pytest.importorskip("redis")
pytest.importorskip("celery")

from sqlalchemy import text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from museforge.assistant.cluster import (  # noqa: E402
    CeleryTurnQueue,
    cancel_key,
    result_from_wire,
    result_to_wire,
)
from museforge.assistant.jobs import (  # noqa: E402
    LocalTurnQueue,
    QueueFull,
    QueueUnavailable,
    TurnRequest,
    open_queue,
)
from museforge.assistant.routes import (  # noqa: E402
    AUDIO_ROUTE,
    MUSIC_ROUTE,
    route_for,
    turn_route,
    worker_queue,
    worker_routes,
)
from museforge.bots.service import Studio, turn_request  # noqa: E402
from museforge.bots.worker import RESUMED, TurnWorker  # noqa: E402
from museforge.config import Settings, load_settings  # noqa: E402
from museforge.storage.db import make_engine  # noqa: E402
from museforge.storage.models import Actor, FileIn, Scope  # noqa: E402
from museforge.storage.schema import TurnJob  # noqa: E402
from museforge.storage.schema import TurnWorker as WorkerRow  # noqa: E402
from museforge.storage.store import Store  # noqa: E402

PG_ENV = "MUSEFORGE_TEST_DATABASE_URL"
BROKER = os.environ.get("MUSEFORGE_TEST_BROKER_URL", "redis://127.0.0.1:6379/7")


def _broker_or_skip() -> None:
    try:
        redis.Redis.from_url(BROKER, socket_connect_timeout=1).ping()
    except Exception as exc:
        pytest.skip(f"Redis is not reachable at {BROKER} ({exc})")


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A schema of its own in the test PostgreSQL (dropped after)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    schema = f"mf_cluster_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    engine = make_engine(base)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:
        pytest.skip(f"PostgreSQL is not reachable at {base} ({exc})")
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


@pytest.fixture
def settings(pg_url: str, museforge_home: Path) -> Iterator[Settings]:
    _broker_or_skip()
    # A preset of its own: its Celery queue (a Redis list) is this test's alone.
    preset = f"test-{uuid.uuid4().hex[:8]}"
    _forget_queues(MUSIC_ROUTE, AUDIO_ROUTE)
    yield load_settings(database_url=pg_url, queue="celery", broker_url=BROKER,
                        image_backend="procedural", planner="offline", image_model=preset)
    _forget_queues(route_for(preset), MUSIC_ROUTE, AUDIO_ROUTE)


def _forget_queues(*routes: str) -> None:
    """Empty the Celery queues (Redis lists) ``routes``: music and audio are one queue
    each for every test on this Redis database; so is each worker's own queue (the
    tests' workers have the same names), emptied too."""
    own = [k.decode() for k in redis.Redis.from_url(BROKER).scan_iter(worker_queue("*"))]
    for route in [*routes, *own]:
        redis.Redis.from_url(BROKER).delete(route, f"_kombu.binding.{route}",
                                            f"_kombu.binding_permanent.{route}")


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    with Store.open(settings) as store:
        yield store


@pytest.fixture
def front_ends(store: Store, settings: Settings, studio: Studio
               ) -> Iterator[list[CeleryTurnQueue]]:
    """Two front-end processes' queues over the same database; their dispatchers are
    turned by the test (``dispatch_once``), not by their threads. They plan each turn
    (to route it) as a front-end does, with the offline planner."""
    queues = [CeleryTurnQueue(store, settings, plan=studio.run, per_user_limit=100,
                              dispatch=False)
              for _ in range(2)]
    yield queues
    for queue in queues:
        queue.close()


@pytest.fixture
def studio(store: Store, settings: Settings) -> Iterator[Studio]:
    """What a worker process runs turns with (offline planner, procedural painter)."""
    local = settings.model_copy(update={"queue": "local"})
    studio = Studio.open(local, store=store)
    yield studio
    studio.queue.close()


def _request(store: Store, person: str, message: str = "paint a fox") -> TurnRequest:
    user = store.user("web", person, person)
    actor = Actor(user)
    session = store.session(actor, Scope.web(person, "studio"))
    return turn_request(actor, session, message, front_end="web")


def _worker(store: Store, settings: Settings, name: str = "gpu-0", slots: int = 1,
            queues: str = "images,music,audio") -> str:
    """A live worker's row, as ``museforge worker --queues QUEUES`` writes it (the
    default: every family, as on one machine)."""
    store.worker_beat(name, worker_routes(queues.split(","), settings.image_model), slots)
    return name


def _routes(store: Store, worker: str) -> list[str]:
    return store.live_workers()[worker]


def _run_by_hand(store: Store, worker: str, job_id: int) -> None:
    """A worker that claims the job and ends it at once (the order is the test)."""
    assert store.job_claim(job_id, worker) is not None
    assert store.job_finish(job_id, worker, "done", result=None)


def _kill(store: Store, worker: str) -> None:
    """The worker's heartbeat stops, as when it is SIGKILLed."""
    with store.engine.begin() as conn:
        conn.execute(update(WorkerRow).where(WorkerRow.name == worker)
                     .values(heartbeat_at=text("now() - interval '1 minute'")))


# -- who goes next ----------------------------------------------------------------------------

def test_a_flood_from_two_front_ends_delays_another_persons_turn_by_one_job(
        store, settings, front_ends):
    gpu = _worker(store, settings)
    one, two = front_ends
    flood = [(one if i % 2 else two).submit(_request(store, "ann", f"paint fox {i}"))
             for i in range(50)]
    first = one.dispatch_once()
    assert [r.id for r in first] == [flood[0].id]  # one slot: one job handed to Celery
    assert two.dispatch_once() == []  # no free slot left, whoever looks

    bob = two.submit(_request(store, "bob", "paint a heron"))
    assert bob.position() == 1  # next, ahead of ann's 49 waiting
    assert flood[1].position() == 2

    order, running = [], first[0]
    for turn in range(51):
        _run_by_hand(store, gpu, running.id)
        sent = (two if turn % 2 else one).dispatch_once()  # whichever front-end looks
        if not sent:
            break
        assert len(sent) == 1
        order.append(running := sent[0])
    ids = [r.id for r in order]
    assert ids[0] == bob.id  # the slot ann's running turn frees goes to bob
    assert ids[1:] == [h.id for h in flood[1:]]  # then ann's, in the order she sent them


def test_people_take_turns_round_robin_across_front_ends(store, settings, front_ends):
    _worker(store, settings, slots=3)
    one, two = front_ends
    ann = [one.submit(_request(store, "ann", f"fox {i}")) for i in range(3)]
    bob = [two.submit(_request(store, "bob", f"heron {i}")) for i in range(3)]
    cat = [one.submit(_request(store, "cat", "owl"))]
    assert [r.id for r in two.dispatch_once()] == [ann[0].id, bob[0].id, cat[0].id]
    assert [h.position() for h in (ann[1], bob[1], ann[2], bob[2])] == [1, 2, 3, 4]


# -- cancel -----------------------------------------------------------------------------------

def test_a_turn_cancelled_while_waiting_never_reaches_a_worker(store, settings, front_ends,
                                                              studio):
    gpu = _worker(store, settings)
    one, two = front_ends
    waiting = one.submit(_request(store, "ann", "paint a fox"))
    assert waiting.cancel() is True
    assert waiting.state == "cancelled" and waiting.future.cancelled()
    assert two.dispatch_once() == []  # a free slot, and nothing to hand it

    # Handed to Celery, then cancelled before a worker took it: its message arrives and
    # the worker runs nothing.
    sent = one.submit(_request(store, "bob", "paint a heron"))
    assert [r.id for r in two.dispatch_once()] == [sent.id]
    assert sent.cancel() is True
    worker = TurnWorker(studio, redis.Redis.from_url(BROKER),
                        _routes(store, gpu), gpu)
    assert worker.run_job(sent.id) == "skipped"
    bob = Actor(store.user("web", "bob"))
    assert store.history(bob, store.find_session(bob, sent.request.session_key)) == []
    rows = {r.id: r for r in store.jobs([waiting.id, sent.id])}
    assert [(rows[i].state, rows[i].worker, rows[i].attempts)
            for i in (waiting.id, sent.id)] == [("cancelled", None, 0)] * 2


def test_a_cancel_of_a_running_turn_is_a_flag_its_worker_sees(store, settings, front_ends):
    gpu = _worker(store, settings)
    one, _ = front_ends
    job = one.submit(_request(store, "ann"))
    one.dispatch_once()
    assert store.job_claim(job.id, gpu) is not None
    assert job.cancel() is True  # running: stops at its next step
    assert redis.Redis.from_url(BROKER).exists(cancel_key(job.key))
    assert store.jobs([job.id])[0].state == "running"


# -- delivered twice, or again after a worker died ----------------------------------------------

def _versions(store: Store, request: TurnRequest) -> list[tuple[int, int]]:
    actor = Actor(store.user(request.platform, request.external_id))
    session = store.find_session(actor, request.session_key)
    return [(a.number, v.number) for a in store.list_artworks(actor, session)
            for v in store.versions(actor, session, a.number)]


def _messages(store: Store, request: TurnRequest) -> list[tuple[str, str]]:
    actor = Actor(store.user(request.platform, request.external_id))
    session = store.find_session(actor, request.session_key)
    return [(m.role, m.text) for m in store.history(actor, session)]


def test_a_message_delivered_twice_runs_the_turn_once(store, settings, front_ends, studio):
    gpu = _worker(store, settings)
    one, _ = front_ends
    job = one.submit(_request(store, "ann", "paint a fox"))
    one.dispatch_once()
    worker = TurnWorker(studio, redis.Redis.from_url(BROKER),
                        _routes(store, gpu), gpu)
    assert worker.run_job(job.id) == "done"
    assert worker.run_job(job.id) == "skipped"  # Celery's redelivery: the row is done
    assert _versions(store, job.request) == [(1, 1)]
    one.follow_once()
    result = job.future.result(timeout=5)
    assert result.reply.startswith("Painted a picture: #1")
    assert [a.files["png"].read_bytes()[:4] for a in result.artifacts] == [b"\x89PNG"]


def _died_after(store, settings, front_ends, studio, write,
                message: str = "paint a fox") -> tuple[TurnRequest, object]:
    """A job whose first worker wrote ``write(job_id, request)`` and was killed; the
    dispatcher queues it again and the second worker runs it."""
    dead, alive = _worker(store, settings, "gpu-0"), _worker(store, settings, "gpu-1")
    one, two = front_ends
    job = one.submit(_request(store, "ann", message))
    two.dispatch_once()
    assert store.job_claim(job.id, dead) is not None
    with store.for_job(job.id):
        write(job.id, job.request)
    _kill(store, dead)
    assert store.worker_beat(alive, route_for(settings.image_model)) is None
    assert [r.id for r in two.dispatch_once()] == [job.id]  # queued again, sent again
    worker = TurnWorker(studio, redis.Redis.from_url(BROKER),
                        _routes(store, alive), alive)
    assert worker.run_job(job.id) == "done"
    one.follow_once()
    return job.request, job.future.result(timeout=5)


def test_a_turn_whose_worker_died_after_answering_is_not_run_again(store, settings,
                                                                  front_ends, studio):
    first = {}

    def whole_turn(job_id, request):
        first["result"] = studio.run(request)

    request, result = _died_after(store, settings, front_ends, studio, whole_turn)
    assert _versions(store, request) == [(1, 1)]  # one version, not two
    assert result.reply == first["result"].reply
    assert [(a.artwork, a.version) for a in result.artifacts] == [(1, 1)]
    assert [m[0] for m in _messages(store, request)] == ["user", "assistant"]


def test_a_turn_whose_worker_died_after_making_a_version_keeps_it(store, settings,
                                                                  front_ends, studio):
    def asked_and_painted(job_id, request):
        actor = Actor(store.user(request.platform, request.external_id))
        session = store.find_session(actor, request.session_key)
        asked = store.add_message(actor, session, "user", request.message)
        store.create_artwork(actor, session, "image", title="a fox", prompt="a fox",
                             operation="generate_image", recipe={},
                             files={"png": FileIn(b"a fox's png", "image/png")},
                             message_id=asked.id)

    request, result = _died_after(store, settings, front_ends, studio, asked_and_painted)
    assert _versions(store, request) == [(1, 1)]
    assert result.reply == f"#1 v1: {RESUMED}."
    assert [(a.artwork, a.version) for a in result.artifacts] == [(1, 1)]
    assert [m[0] for m in _messages(store, request)] == ["user", "assistant"]


def test_a_turn_whose_worker_died_before_painting_runs_again_once(store, settings,
                                                                 front_ends, studio):
    def only_asked(job_id, request):
        actor = Actor(store.user(request.platform, request.external_id))
        store.add_message(actor, store.find_session(actor, request.session_key), "user",
                          request.message)

    request, result = _died_after(store, settings, front_ends, studio, only_asked)
    assert result.reply.startswith("Painted a picture: #1")
    assert _versions(store, request) == [(1, 1)]
    assert _messages(store, request)[0] == ("user", "paint a fox")  # stored once
    assert [m[0] for m in _messages(store, request)] == ["user", "assistant"]


# -- what a front-end says when it cannot queue ------------------------------------------------

def test_each_person_has_a_cap_across_front_ends(store, settings, studio):
    _worker(store, settings)
    one, two = (CeleryTurnQueue(store, settings, plan=studio.run, per_user_limit=3,
                                dispatch=False)
                for _ in range(2))
    try:
        one.submit(_request(store, "ann"))
        two.submit(_request(store, "ann"))
        one.submit(_request(store, "ann"))
        with pytest.raises(QueueFull, match="^you already have 3 requests in progress; "
                                            "wait for one to finish"):
            two.submit(_request(store, "ann"))
        two.submit(_request(store, "bob"))  # another person is let in
    finally:
        one.close()
        two.close()


def test_the_whole_queue_has_a_cap(store, settings, front_ends):
    _worker(store, settings)
    one, two = front_ends
    one.max_waiting = two.max_waiting = 2
    one.submit(_request(store, "ann"))
    two.submit(_request(store, "bob"))
    with pytest.raises(QueueFull, match="^the queue is full; try again in a minute$"):
        one.submit(_request(store, "cat"))


def test_no_worker_for_the_preset_is_said(store, settings, front_ends):
    with pytest.raises(QueueFull) as err:
        front_ends[0].submit(_request(store, "ann"))
    preset = settings.image_model
    assert str(err.value) == (f"no worker is running for the image model {preset} right now "
                              f"(`museforge worker --preset {preset}` starts one); try again "
                              "in a minute")


def test_a_broker_that_does_not_answer_is_said(store, settings, studio):
    _worker(store, settings)
    dead = settings.model_copy(update={"broker_url": "redis://127.0.0.1:1/0"})
    queue = CeleryTurnQueue(store, dead, plan=studio.run, dispatch=False)
    try:
        with pytest.raises(QueueFull, match=r"^the job queue's broker at redis://127.0.0.1:1/0 "
                                             r"does not answer \(.+\); try again in a minute$"):
            queue.submit(_request(store, "ann"))
    finally:
        queue.close()
    with store.engine.connect() as conn:  # nothing was queued
        assert conn.execute(text("SELECT count(*) FROM turn_jobs")).scalar() == 0
    assert TurnJob.__tablename__ == "turn_jobs"


# -- the door's default, and results as JSON ------------------------------------------------------

def test_the_default_queue_is_the_local_one_with_no_broker(museforge_home):
    queue = open_queue(lambda *a: None, settings=load_settings())
    try:
        assert isinstance(queue, LocalTurnQueue)
    finally:
        queue.close()


def test_the_celery_queue_refuses_sqlite_in_one_sentence(museforge_home):
    settings = load_settings(queue="celery")
    with Store.open(settings) as store, pytest.raises(QueueUnavailable) as err:
        open_queue(lambda *a: None, settings=settings, store=store)
    assert str(err.value) == ("MUSEFORGE_QUEUE=celery needs a PostgreSQL database that "
                              "front-ends and workers share: set "
                              "MUSEFORGE_DATABASE_URL=postgresql://...")


def test_a_result_travels_as_json_and_its_files_are_read_where_it_lands(museforge_home):
    settings = load_settings(image_backend="procedural", planner="offline")
    with Studio.open(settings) as studio:
        me = Actor(studio.store.local_user())
        chat = studio.store.session(me, Scope.local("default"))
        result = studio.run(turn_request(me, chat, "paint four foxes", front_end="web"))
        back = result_from_wire(result_to_wire(result), studio.store.assets)
    assert back == result
    assert back.artifacts and all(p.is_file() for a in back.artifacts for p in a.files.values())


def test_a_worker_that_lost_its_job_stops_at_the_next_step(store, settings, front_ends,
                                                           studio):
    """A worker whose heartbeat stalled so long that its job went to another must not
    go on writing: its turn is stopped as by a cancel."""
    slow, other = _worker(store, settings, "gpu-0"), _worker(store, settings, "gpu-1")
    one, _ = front_ends
    job = one.submit(_request(store, "ann", "paint a fox"))
    one.dispatch_once()
    row = store.job_claim(job.id, slow)
    with store.engine.begin() as conn:  # the dispatcher gave it to gpu-1 meanwhile
        conn.execute(update(TurnJob).where(TurnJob.id == job.id).values(worker=other))
    worker = TurnWorker(studio, redis.Redis.from_url(BROKER),
                        _routes(store, slow), slow)
    cancel, stop = threading.Event(), threading.Event()
    watcher = threading.Thread(target=worker._watch_cancel, args=(row.key, cancel, stop))
    watcher.start()
    try:
        assert cancel.wait(30)
    finally:
        stop.set()
        watcher.join()


def test_the_cli_says_in_one_line_why_a_turn_cannot_queue(settings, monkeypatch):
    from cliutil import museforge

    monkeypatch.setenv("MUSEFORGE_QUEUE", "celery")
    monkeypatch.setenv("MUSEFORGE_BROKER_URL", BROKER)
    monkeypatch.setenv("MUSEFORGE_IMAGE_MODEL", settings.image_model)
    done = museforge("ask", "paint a fox", url=settings.database_url)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [
        f"error: no worker is running for the image model {settings.image_model} right now "
        f"(`museforge worker --preset {settings.image_model}` starts one); try again in a "
        "minute"]


def test_attached_files_travel_through_the_asset_store(store, settings, front_ends, studio,
                                                      tmp_path):
    """A worker on another machine cannot read the front-end's upload folder: the files
    go with the job through the asset store, and come back named as the person sent them."""
    from PIL import Image

    gpu = _worker(store, settings)
    one, _ = front_ends
    picture, broken = tmp_path / "uploads" / "my cat.png", tmp_path / "uploads" / "notes.png"
    picture.parent.mkdir()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(picture)
    broken.write_bytes(b"this is no picture")
    request = _request(store, "ann", "")
    job = one.submit(TurnRequest.from_json({**request.to_json(),
                                            "attachments": [str(picture), str(broken)]}))
    picture.unlink()  # not on the worker's machine
    broken.unlink()
    one.dispatch_once()
    worker = TurnWorker(studio, redis.Redis.from_url(BROKER),
                        _routes(store, gpu), gpu)
    assert worker.run_job(job.id) == "done"
    one.follow_once()
    result = job.future.result(timeout=5)
    assert [(a.kind, a.files["png"].is_file()) for a in result.imported] == [("image", True)]
    assert [e["file"] for e in result.errors] == [str(broken)]


def test_two_dispatchers_at_once_never_hand_out_more_than_the_free_slots(store, settings,
                                                                         front_ends):
    _worker(store, settings, slots=2)
    one, two = front_ends
    for i in range(6):
        (one, two)[i % 2].submit(_request(store, f"p{i}"))
    sent: list[list[int]] = []
    barrier = threading.Barrier(4)

    def race(queue: CeleryTurnQueue) -> None:
        barrier.wait()
        sent.append([r.id for r in queue.dispatch_once()])

    threads = [threading.Thread(target=race, args=(q,)) for q in (one, two, one, two)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    handed = [j for batch in sent for j in batch]
    assert len(handed) == len(set(handed)) == 2  # two slots: two jobs, each once
    assert two.dispatch_once() == []


def test_a_job_whose_message_was_lost_is_sent_again(store, settings, front_ends):
    """Dispatched, but no worker ever claimed it (the front-end died between the commit
    and the send, or the broker lost the message): after a while it goes back in line."""
    gpu = _worker(store, settings)
    one, two = front_ends
    job = one.submit(_request(store, "ann"))
    assert [r.id for r in one.dispatch_once()] == [job.id]
    assert two.dispatch_once() == []
    with store.engine.begin() as conn:
        conn.execute(update(TurnJob).where(TurnJob.id == job.id)
                     .values(dispatched_at=text("now() - interval '1 minute'")))
    assert [r.id for r in two.dispatch_once()] == [job.id]
    _run_by_hand(store, gpu, job.id)
    assert store.jobs([job.id])[0].attempts == 1


def test_a_job_whose_end_could_not_be_recorded_goes_back_in_line(store, settings,
                                                                 front_ends, studio):
    """The database was away when the worker finished: between turns the worker puts the
    job back, and its second run answers from what the first wrote (no second version)."""
    gpu = _worker(store, settings)
    one, _ = front_ends
    job = one.submit(_request(store, "ann", "paint a fox"))
    one.dispatch_once()
    assert store.job_claim(job.id, gpu) is not None
    with store.for_job(job.id):
        studio.run(job.request)  # ran; its end never reached the row
    worker = TurnWorker(studio, redis.Redis.from_url(BROKER),
                        _routes(store, gpu), gpu)
    assert worker.tidy() == 1
    assert [r.id for r in one.dispatch_once()] == [job.id]
    assert worker.run_job(job.id) == "done"
    one.follow_once()
    assert job.future.result(timeout=5).reply.startswith("Painted a picture: #1")
    assert _versions(store, job.request) == [(1, 1)]


def test_round_robin_serves_the_person_served_longest_ago_first():
    from datetime import UTC, datetime, timedelta

    from museforge.storage.turn_jobs import round_robin

    now = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)
    queued = [(1, "ann"), (2, "ann"), (3, "bob"), (4, "cat"), (5, "ann"), (6, "bob")]
    served = {"ann": now, "bob": now - timedelta(minutes=5)}  # cat: never
    assert round_robin(queued, served) == [4, 3, 1, 6, 2, 5]
    assert round_robin(queued, {}) == [1, 3, 4, 2, 6, 5]  # nobody served yet: by arrival


def test_an_exported_score_reaches_the_front_ends_data_dir(store, settings, studio, tmp_path):
    """The worker writes the score under its own data dir; the front-end, with another
    data dir (and the same assets), gets it under its own, named by its path there."""
    from museforge.bots.exports import exports
    from museforge.storage.assets import FolderAssetStore

    gpu = _worker(store, settings)
    web_home = tmp_path / "front-end"
    shared = FolderAssetStore(web_home, Path(store.assets.location))  # a mounted folder
    web_store = Store(settings.resolved_database_url, web_home, assets=shared)
    queue = CeleryTurnQueue(web_store, settings, plan=studio.run, dispatch=False)
    worker = TurnWorker(studio, redis.Redis.from_url(BROKER),
                        _routes(store, gpu), gpu)
    try:
        results = []
        for message in ("compose a short jig", "export #1 as abc"):
            job = queue.submit(_request(web_store, "ann", message))
            queue.dispatch_once()
            assert worker.run_job(job.id) == "done"
            queue.follow_once()
            results.append(job.future.result(timeout=5))
        found = exports(results[1].calls, web_home)
        assert [f.path.name for f in found] == ["1-v1-a-short-jig.abc"]
        assert found[0].path.read_text().startswith("X:1")
        assert str(store.home) not in results[1].reply
    finally:
        queue.close()
        web_store.close()


def test_a_turn_whose_worker_died_after_an_undo_does_not_undo_twice(store, settings,
                                                                   front_ends, studio):
    from museforge.bots.worker import CHANGED

    def setup_then_undo(job_id, request):
        actor = Actor(store.user(request.platform, request.external_id))
        session = store.find_session(actor, request.session_key)
        asked = store.add_message(actor, session, "user", request.message)
        store.undo(actor, session, 1)  # the first run's one change, then it died
        assert asked.id

    # #1 with three versions, made before the job (not by it)
    user = store.user("web", "ann", "ann")
    actor = Actor(user)
    session = store.session(actor, Scope.web("ann", "studio"))
    store.create_artwork(actor, session, "image", title="fox", operation="generate_image",
                         recipe={}, files={"png": FileIn(b"fox 1", "image/png")})
    for n in (2, 3):
        store.add_version(actor, session, 1, operation="edit_image", recipe={},
                          files={"png": FileIn(f"fox {n}".encode(), "image/png")})
    request, result = _died_after(store, settings, front_ends, studio, setup_then_undo,
                                  message="undo")
    assert store.artwork(actor, session, 1).head_number == 2  # undone once, not twice
    assert result.reply == f"{CHANGED}."
    assert [m[0] for m in _messages(store, request)] == ["user", "assistant"]


# -- routes: a turn goes to the workers of the models it will use ---------------------------------

def test_a_turn_is_routed_by_the_families_of_the_calls_it_plans():
    def route(*names: str, **args: object) -> str:
        return turn_route([(n, dict(args)) for n in names], "sdxl-turbo")

    assert route("generate_image") == route("adjust_image") == "museforge.images.sdxl-turbo"
    assert route("compose_music") == route("edit_music", "export_music") == MUSIC_ROUTE
    assert route("generate_audio") == AUDIO_ROUTE
    # mixed: the family whose weights cost most to load (images, then audio, then music)
    assert route("compose_music", "generate_image") == "museforge.images.sdxl-turbo"
    assert route("compose_music", "generate_audio") == AUDIO_ROUTE
    # a picture style trains on the image pipeline; a music style on the melody model
    assert route("learn_style", kind="music") == MUSIC_ROUTE
    assert route("learn_style", kind="image") == route("learn_style") == route_for("sdxl-turbo")
    # nothing to load: any worker
    assert route("undo", "list_artworks", "forget_style") == route() == ""


def test_a_workers_queues_are_named_by_family():
    assert worker_routes(["images", "music", "audio"], "sd-turbo") == [
        "museforge.images.sd-turbo", MUSIC_ROUTE, AUDIO_ROUTE]
    assert worker_routes(["images-sdxl-turbo", "images", "images-sd-turbo"], "sd-turbo") == [
        "museforge.images.sdxl-turbo", "museforge.images.sd-turbo"]
    with pytest.raises(ValueError, match="^there is no queue named 'midi': name images"):
        worker_routes(["music", "midi"], "sd-turbo")


def test_a_light_job_never_takes_the_one_slot_a_music_job_needs():
    from museforge.storage.turn_jobs import fill

    images, music = {"museforge.images.p"}, {MUSIC_ROUTE}
    # the light job (any worker) came first, but only the music worker takes job 2
    assert fill([images, music], [], [(1, ""), (2, MUSIC_ROUTE)]) == {1: 0, 2: 1}
    assert fill([music, images], [], [(1, ""), (2, MUSIC_ROUTE)]) == {1: 1, 2: 0}
    # a job already handed to Celery keeps its slot; one no free slot takes waits
    assert fill([images, music], [MUSIC_ROUTE], [(3, MUSIC_ROUTE), (4, "")]) == {4: 0}
    assert fill([images], [], [(5, AUDIO_ROUTE), (6, "museforge.images.p")]) == {6: 0}


def _queued_messages(route: str) -> list[int]:
    """The job ids of the Celery messages waiting in ``route`` (a Redis list)."""
    out = []
    for raw in redis.Redis.from_url(BROKER).lrange(route, 0, -1):
        body = json.loads(raw)["body"]
        out.append(int(json.loads(base64.b64decode(body))[0][0]))  # (args, kwargs, ...)
    return out


def test_a_music_turn_reaches_a_music_worker_and_an_image_turn_the_image_worker(
        store, settings, front_ends, studio):
    gpu = _worker(store, settings, "gpu-0", queues="images")
    cpu = _worker(store, settings, "cpu-0", queues="music")
    one, two = front_ends
    tune = one.submit(_request(store, "ann", "compose a folk tune"))
    fox = two.submit(_request(store, "bob", "paint a fox"))
    sent = {r.id: (r.route, r.worker) for r in one.dispatch_once()}
    assert sent == {tune.id: (MUSIC_ROUTE, cpu), fox.id: (route_for(settings.image_model), gpu)}
    # each message in the queue of the worker whose slot it took
    assert _queued_messages(worker_queue(cpu)) == [tune.id]
    assert _queued_messages(worker_queue(gpu)) == [fox.id]
    assert _queued_messages(MUSIC_ROUTE) == []
    for name, job in ((cpu, tune), (gpu, fox)):
        worker = TurnWorker(studio, redis.Redis.from_url(BROKER), _routes(store, name), name)
        assert worker.run_job(job.id) == "done"
    one.follow_once()
    two.follow_once()
    assert [a.kind for a in tune.future.result(timeout=5).artifacts] == ["music"]
    assert [a.kind for a in fox.future.result(timeout=5).artifacts] == ["image"]
    assert {r.id: r.worker for r in store.jobs([tune.id, fox.id])} == {tune.id: cpu,
                                                                     fox.id: gpu}


def test_a_busy_music_worker_holds_music_turns_not_image_turns(store, settings, front_ends):
    """Slots are counted per worker and its queues: a music turn waits for the music
    worker while the image worker paints the turn behind it."""
    gpu = _worker(store, settings, "gpu-0", queues="images")
    _worker(store, settings, "cpu-0", queues="music")
    one, _ = front_ends
    first = one.submit(_request(store, "ann", "compose a jig"))
    assert [r.id for r in one.dispatch_once()] == [first.id]
    second = one.submit(_request(store, "bob", "compose a waltz"))
    fox = one.submit(_request(store, "cat", "paint a fox"))
    assert [r.id for r in one.dispatch_once()] == [fox.id]  # bob's waits for cpu-0
    assert second.position() == 1
    _run_by_hand(store, gpu, fox.id)
    assert one.dispatch_once() == []
    # a turn that loads no model takes whichever slot is free (here: the image worker's)
    listing = one.submit(_request(store, "cat", "list my artworks"))
    assert [(r.id, r.route, r.worker) for r in one.dispatch_once()] == [
        (listing.id, "", gpu)]


def test_a_job_goes_to_the_worker_whose_slot_it_took(store, settings, front_ends):
    """Workers whose queues overlap: sent on the music queue, the jig could be taken by
    the worker that also paints, and the fox would wait for it while the music worker
    idles. Each job goes to its matched worker's own queue, and only that worker claims
    it."""
    both = _worker(store, settings, "gpu-0", queues="images,music")
    tunes = _worker(store, settings, "cpu-0", queues="music")
    one, _ = front_ends
    jig = one.submit(_request(store, "ann", "compose a jig"))
    fox = one.submit(_request(store, "bob", "paint a fox"))
    assert {r.id: r.worker for r in one.dispatch_once()} == {jig.id: tunes, fox.id: both}
    assert _queued_messages(worker_queue(tunes)) == [jig.id]
    assert _queued_messages(worker_queue(both)) == [fox.id]
    assert store.job_claim(jig.id, both) is None  # not its slot
    assert store.job_claim(jig.id, tunes) is not None
    assert store.job_claim(fox.id, both) is not None


def test_a_job_sent_to_a_worker_that_died_goes_to_another_at_once(store, settings,
                                                                  front_ends):
    first = _worker(store, settings, "gpu-0")
    one, _ = front_ends
    job = one.submit(_request(store, "ann", "paint a fox"))
    assert [r.worker for r in one.dispatch_once()] == [first]
    _kill(store, first)  # before it took the message from its own queue
    second = _worker(store, settings, "gpu-1")
    assert [(r.id, r.worker) for r in one.dispatch_once()] == [(job.id, second)]
    _run_by_hand(store, second, job.id)


def test_workers_of_overlapping_queues_run_what_the_dispatcher_matched(
        settings, store, studio, tmp_path):
    """Real ``museforge worker`` processes, one for pictures and music, one for music
    only: the jig runs on the music worker, the fox beside it on the other, whichever
    of them asks Redis first."""
    procs, logs = _start_workers(settings, store, tmp_path,
                                 {"both": "images,music", "tunes": "music"})
    front = CeleryTurnQueue(store, settings, plan=studio.run)
    try:
        _wait_listening(store, procs, logs, {"both", "tunes"})
        for round_ in range(3):
            jig = front.submit(_request(store, f"ann{round_}", "compose a jig"))
            fox = front.submit(_request(store, f"bob{round_}", "paint a fox"))
            assert [a.kind for a in jig.future.result(timeout=90).artifacts] == ["music"]
            assert [a.kind for a in fox.future.result(timeout=90).artifacts] == ["image"]
            assert {r.id: r.worker for r in store.jobs([jig.id, fox.id])} == {
                jig.id: "tunes", fox.id: "both"}
    finally:
        front.close()
        _stop_all(procs)


def _start_workers(settings: Settings, store: Store, tmp_path: Path, queues: dict[str, str]
                   ) -> tuple[dict[str, subprocess.Popen[bytes]], dict[str, Path]]:
    """``museforge worker --queues Q --name N`` for each N: Q of ``queues``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSEFORGE_")}
    env.update(MUSEFORGE_DATABASE_URL=settings.database_url, MUSEFORGE_QUEUE="celery",
               MUSEFORGE_BROKER_URL=BROKER, MUSEFORGE_IMAGE_BACKEND="procedural",
               MUSEFORGE_PLANNER="offline", MUSEFORGE_IMAGE_MODEL=settings.image_model,
               MUSEFORGE_HOME=str(store.home))
    exe = str(Path(sys.executable).with_name("museforge"))
    logs = {name: tmp_path / f"{name}.log" for name in queues}
    procs = {name: subprocess.Popen([exe, "worker", "--queues", q, "--name", name,
                                     "--loglevel", "WARNING"], env=env,
                                    stdout=logs[name].open("wb"), stderr=subprocess.STDOUT)
             for name, q in queues.items()}
    return procs, logs


def _wait_listening(store: Store, procs: dict[str, subprocess.Popen[bytes]],
                    logs: dict[str, Path], names: set[str]) -> None:
    """Until every worker's Celery consumes its own queue (a job sent earlier would
    wait in it anyway, but the test would wait on a worker still starting)."""
    from museforge.assistant.cluster import celery_app

    deadline = time.monotonic() + 90
    pids = {f"museforge-{p.pid}": name for name, p in procs.items()}
    while True:
        for name, proc in procs.items():
            assert proc.poll() is None, logs[name].read_text()[-3000:]
        found = celery_app(BROKER).control.inspect(timeout=2).active_queues() or {}
        ready = {pids[node.split("@")[0]] for node, queues in found.items()
                 if node.split("@")[0] in pids
                 and worker_queue(pids[node.split("@")[0]]) in {q["name"] for q in queues}}
        if ready >= names and names <= set(store.live_workers()):
            return
        assert time.monotonic() < deadline, {n: logs[n].read_text()[-2000:] for n in names}


def _stop_all(procs: dict[str, subprocess.Popen[bytes]]) -> None:
    for proc in procs.values():
        proc.terminate()
    for proc in procs.values():
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_the_front_end_plans_a_turn_to_route_it(store, settings, front_ends):
    one, _ = front_ends
    ask = lambda message: one.route(_request(store, "ann", message))  # noqa: E731
    assert ask("compose a folk tune") == MUSIC_ROUTE
    assert ask("make a recording of rain, 5 seconds") == AUDIO_ROUTE
    assert ask("paint a fox and compose a tune for it") == route_for(settings.image_model)
    assert ask("hello") == ""
    other = replace(_request(store, "ann", "paint a fox"), image_model="sdxl-turbo")
    assert one.route(other) == "museforge.images.sdxl-turbo"
    assert ask("list my artworks") == ""
    ann = Actor(store.user("web", "ann"))
    assert store.recent_messages(ann, store.session(ann, Scope.web("ann", "studio")),
                                 10) == []  # planning ahead wrote nothing


def test_a_turn_is_not_planned_ahead_when_every_worker_serves_every_family(store, settings):
    """One machine's workers (or identical GPU boxes) take every turn: planning it on the
    front-end (with the LLM planner, a model request) would not move it."""
    planned = []

    def plan(request, progress, cancel):
        planned.append(request.message)
        raise AssertionError("planned ahead")

    queue = CeleryTurnQueue(store, settings, plan=plan, dispatch=False)
    try:
        _worker(store, settings, "gpu-0")
        _worker(store, settings, "gpu-1", queues="music,audio,images")
        assert queue.route(_request(store, "ann", "compose a jig")) == route_for(
            settings.image_model)
        assert planned == []
        _worker(store, settings, "cpu-0", queues="music")
        assert queue.route(_request(store, "ann", "compose a jig")) == ""  # it plans
        assert planned == ["compose a jig"]
    finally:
        queue.close()


def test_no_worker_for_music_is_said(store, settings, front_ends):
    _worker(store, settings, queues="images")
    with pytest.raises(QueueFull) as err:
        front_ends[0].submit(_request(store, "ann", "compose a folk tune"))
    assert str(err.value) == ("no worker is running for music right now (`museforge worker "
                              "--queues music` starts one); try again in a minute")
    front_ends[0].submit(_request(store, "ann", "paint a fox"))  # pictures still go


def test_museforge_worker_listens_to_the_queues_it_says(settings, store, studio, tmp_path):
    """Real ``museforge worker`` processes: what each says it listens to is the row the
    dispatchers read and the queues Celery consumes, and a music turn sent through a
    front-end's dispatcher ends on the music worker, a picture on the image worker."""
    from museforge.assistant.cluster import celery_app

    env = {k: v for k, v in os.environ.items() if not k.startswith("MUSEFORGE_")}
    env.update(MUSEFORGE_DATABASE_URL=settings.database_url, MUSEFORGE_QUEUE="celery",
               MUSEFORGE_BROKER_URL=BROKER, MUSEFORGE_IMAGE_BACKEND="procedural",
               MUSEFORGE_PLANNER="offline", MUSEFORGE_IMAGE_MODEL=settings.image_model,
               MUSEFORGE_HOME=str(store.home))
    exe = str(Path(sys.executable).with_name("museforge"))
    logs = {name: tmp_path / f"{name}.log" for name in ("m1", "i1")}
    procs = {name: subprocess.Popen([exe, "worker", "--queues", queues, "--name", name,
                                     "--loglevel", "WARNING"], env=env,
                                    stdout=logs[name].open("wb"), stderr=subprocess.STDOUT)
             for name, queues in (("m1", "music"), ("i1", "images"))}
    front = CeleryTurnQueue(store, settings, plan=studio.run)
    try:
        said: dict[str, list[str]] = {}
        deadline = time.monotonic() + 90
        while len(said) < 2 and time.monotonic() < deadline:
            for name, log in logs.items():
                for line in log.read_text().splitlines():
                    if line.startswith(f"museforge worker {name} listens to: "):
                        said[name] = line.split(": ", 1)[1].split(", ")
            assert all(p.poll() is None for p in procs.values()), logs["m1"].read_text()
            time.sleep(0.2)
        assert said == {"m1": [MUSIC_ROUTE], "i1": [route_for(settings.image_model)]}
        assert store.live_workers() == said
        consumed: dict[str, list[str]] = {}
        while len(consumed) < 2 and time.monotonic() < deadline:
            found = celery_app(BROKER).control.inspect(timeout=2).active_queues() or {}
            consumed = {node: sorted(q["name"] for q in queues)
                        for node, queues in found.items()
                        if node.split("@")[0] in {f"museforge-{p.pid}" for p in procs.values()}}
        # its families' queues, and its own (where the dispatchers send its jobs)
        assert sorted(consumed.values()) == sorted([
            [MUSIC_ROUTE, worker_queue("m1")],
            [route_for(settings.image_model), worker_queue("i1")]])

        tune = front.submit(_request(store, "ann", "compose a folk tune"))
        fox = front.submit(_request(store, "bob", "paint a fox"))
        assert [a.kind for a in tune.future.result(timeout=90).artifacts] == ["music"]
        assert [a.kind for a in fox.future.result(timeout=90).artifacts] == ["image"]
        assert {r.id: r.worker for r in store.jobs([tune.id, fox.id])} == {
            tune.id: "m1", fox.id: "i1"}
    finally:
        front.close()
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
