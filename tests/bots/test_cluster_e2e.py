"""The cluster end to end, as deployed: two ``museforge worker`` processes and two
``museforge serve`` front-ends (each with a data dir of its own, as on other machines)
sharing the real PostgreSQL and Redis on 127.0.0.1 and an S3 bucket (moto's server);
several people send turns through the web API with the offline planner and the
procedural painter. Checked as a person would: every turn ends with its pictures (read
back through the front-end, from the bucket), the page sees steps, one person's flood
does not hold back another's turn by more than one job, a turn cancelled while waiting
never reaches a worker, and a running one stops."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")
boto3 = pytest.importorskip("boto3")
pytest.importorskip("moto.server")
pytest.importorskip("celery")

from test_cluster import BROKER, _broker_or_skip, pg_url  # noqa: E402, F401

from museforge.assistant.routes import route_for  # noqa: E402
from museforge.config import load_settings  # noqa: E402
from museforge.storage.store import Store  # noqa: E402

MUSEFORGE = str(Path(sys.executable).with_name("museforge"))
START_S = 90
BIG = "make 4 pictures of a castle at 2048x2048"  # a few seconds, four steps


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_S
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    pytest.fail(f"a process did not start listening on {port}:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def running_cluster(database: str, tmp_path: Path, broker: str, *, workers: int = 2,
                    front_ends: int = 2) -> Iterator[dict[str, Any]]:
    """Start moto, ``workers`` workers (w1, w2...) and ``front_ends`` web servers; yield
    what the test needs; stop them all."""
    processes: list[subprocess.Popen[bytes]] = []
    moto_port = _free_port()
    aws = {"AWS_ACCESS_KEY_ID": "museforge-test", "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MUSEFORGE_", "AWS_")) and k != "OPENAI_API_KEY"}
    moto_log = tmp_path / "moto.log"
    moto = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                             str(moto_port)], env={**env, **aws},
                            stdout=moto_log.open("wb"), stderr=subprocess.STDOUT)
    processes.append(moto)
    saved = {k: os.environ.get(k) for k in aws}
    try:
        _wait_port(moto_port, moto, moto_log)
        endpoint = f"http://127.0.0.1:{moto_port}"
        bucket = f"museforge-{uuid.uuid4().hex[:10]}"
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                     aws_access_key_id="museforge-test",
                     aws_secret_access_key="secret").create_bucket(Bucket=bucket)
        preset = f"e2e-{uuid.uuid4().hex[:8]}"
        env.update(aws, MUSEFORGE_DATABASE_URL=database, MUSEFORGE_QUEUE="celery",
                   MUSEFORGE_BROKER_URL=broker, MUSEFORGE_IMAGE_BACKEND="procedural",
                   MUSEFORGE_PLANNER="offline", MUSEFORGE_IMAGE_MODEL=preset,
                   MUSEFORGE_ASSETS_URL=f"s3://{bucket}/art",
                   MUSEFORGE_ASSETS_ENDPOINT_URL=endpoint, MUSEFORGE_QUEUE_PER_PERSON="50")
        settings = load_settings(**{k.removeprefix("MUSEFORGE_").lower(): v
                                    for k, v in env.items() if k.startswith("MUSEFORGE_")},
                                 home=tmp_path / "admin")
        os.environ.update(aws)  # this process reads the bucket too (the store's checks)
        with Store.open(settings) as store:
            tokens = {name: store.add_web_user(name)[1] for name in ("ann", "bob", "cat")}
        named: dict[str, subprocess.Popen[bytes]] = {}
        for i in range(1, workers + 1):
            name = f"w{i}"
            log = tmp_path / f"{name}.log"
            named[name] = subprocess.Popen(
                [MUSEFORGE, "worker", "--name", name, "--loglevel", "WARNING"],
                env={**env, "MUSEFORGE_HOME": str(tmp_path / name)},
                stdout=log.open("wb"), stderr=subprocess.STDOUT)
            processes.append(named[name])
        fronts = []
        for i in range(1, front_ends + 1):
            port = _free_port()
            log = tmp_path / f"fe{i}.log"
            proc = subprocess.Popen([MUSEFORGE, "serve", "--port", str(port)],
                                    env={**env, "MUSEFORGE_HOME": str(tmp_path / f"fe{i}")},
                                    stdout=log.open("wb"), stderr=subprocess.STDOUT)
            processes.append(proc)
            fronts.append((port, proc, log))
        for port, proc, log in fronts:
            _wait_port(port, proc, log)
        with Store.open(settings) as store:
            deadline = time.monotonic() + START_S
            while store.live_slots(route_for(preset)) < workers:
                assert time.monotonic() < deadline, "the workers did not register"
                time.sleep(0.2)
        yield {"settings": settings, "tokens": tokens, "workers": named,
               "urls": [f"http://127.0.0.1:{port}" for port, _, _ in fronts]}
    finally:
        for proc in reversed(processes):
            _stop(proc)
        if "preset" in locals():  # the test's Celery queue and its binding
            route = route_for(preset)
            try:
                import redis

                redis.Redis.from_url(broker, socket_connect_timeout=1).delete(
                    route, f"_kombu.binding.{route}", f"_kombu.binding_permanent.{route}")
            except Exception:
                pass  # the broker-down test's own Redis is gone with its folder
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def cluster(pg_url: str, tmp_path: Path) -> Iterator[dict[str, Any]]:  # noqa: F811
    _broker_or_skip()
    with running_cluster(pg_url, tmp_path, BROKER) as running:
        yield running


def _rows(settings: Any) -> dict[str, Any]:
    """The cluster's job rows, by message."""
    from sqlalchemy import text

    with Store.open(settings) as store, store.engine.connect() as conn:
        ids = [i for (i,) in conn.execute(text("SELECT id FROM turn_jobs"))]
        return {r.request["message"]: r for r in store.jobs(ids)}


class Person:
    def __init__(self, token: str, urls: list[str]):
        self.clients = [httpx.Client(base_url=u, timeout=60,
                                     headers={"Authorization": f"Bearer {token}"})
                        for u in urls]
        self.session = self.clients[0].post("/api/sessions", json={"name": "studio"}).json()["id"]

    def send(self, front_end: int, message: str) -> tuple[int, dict[str, Any]]:
        answer = self.clients[front_end].post(f"/api/sessions/{self.session}/turns",
                                              json={"message": message})
        assert answer.status_code == 202, answer.text
        return front_end, answer.json()

    def cancel(self, job: tuple[int, dict[str, Any]]) -> dict[str, Any]:
        front_end, out = job
        answer = self.clients[front_end].delete(f"/api/jobs/{out['id']}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def events(self, job: tuple[int, dict[str, Any]], until: str | None = None
               ) -> list[dict[str, Any]]:
        """The job's server-sent events, to its end (or to the first ``until``)."""
        front_end, out = job
        found: list[dict[str, Any]] = []
        with self.clients[front_end].stream("GET", out["events"]) as stream:
            name = None
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    name = line.removeprefix("event: ")
                elif line.startswith("data: ") and name:
                    found.append({"event": name, **json.loads(line.removeprefix("data: "))})
                    if name in ("done", "failed", "cancelled") or name == until:
                        return found
        return found

    def file(self, front_end: int, url: str) -> bytes:
        answer = self.clients[front_end].get(url)
        assert answer.status_code == 200, answer.text
        return answer.content


@pytest.mark.slow
def test_two_workers_two_front_ends_several_people(cluster):
    ann, bob, cat = (Person(cluster["tokens"][n], cluster["urls"]) for n in ("ann", "bob", "cat"))
    first = ann.send(0, BIG)  # the two workers are busy with ann's first two turns
    second = ann.send(1, f"{BIG} by night")
    assert ann.events(first, until="progress")[-1]["event"] == "progress"
    assert ann.cancel(first)["state"] == "running"  # it stops at its next step
    flood = [ann.send(i % 2, f"paint a 2048x2048 fox number {i}") for i in range(10)]
    heron = bob.send(1, "paint a heron by the river")
    owl = cat.send(0, "paint an owl in the moonlight")
    assert cat.cancel(owl)["state"] == "cancelled"  # still waiting behind ann and bob

    ends = {"first": ann.events(first), "second": ann.events(second),
            "heron": bob.events(heron), "owl": cat.events(owl),
            **{f"fox {i}": ann.events(job) for i, job in enumerate(flood)}}

    # Every turn ended as asked: the cancelled ones cancelled, the others with a picture
    # that the front-end reads back from the bucket a worker wrote it to.
    assert ends["owl"][-1]["event"] == "cancelled"
    assert ends["first"][-1]["event"] == "done"
    assert "ancel" in ends["first"][-1]["result"]["reply"]
    for name in ["second", "heron", *(f"fox {i}" for i in range(10))]:
        last = ends[name][-1]
        assert last["event"] == "done", (name, last)
        assert last["result"]["artifacts"], (name, last)
    heron_art = ends["heron"][-1]["result"]["artifacts"][0]
    assert bob.file(1, heron_art["files"]["png"])[:4] == b"\x89PNG"

    # The page saw its turn start and its steps, before the result.
    kinds = [e["event"] for e in ends["heron"]]
    assert kinds.index("started") < kinds.index("progress") < kinds.index("done")
    assert {"what": "painting", "step": 1, "total": 1}.items() <= \
        next(e for e in ends["heron"] if e["event"] == "progress").items()

    # A picture sent to one front-end is edited by a worker with another data dir, and
    # the result is read back through the other front-end.
    import io

    from PIL import Image

    png = io.BytesIO()
    Image.new("RGB", (96, 64), (40, 90, 160)).save(png, format="PNG")
    sent = cat.clients[0].post(f"/api/sessions/{cat.session}/uploads",
                               params={"filename": "my lake.png"}, content=png.getvalue(),
                               headers={"Content-Type": "application/octet-stream"})
    assert sent.status_code == 201, sent.text
    answer = cat.clients[0].post(f"/api/sessions/{cat.session}/turns",
                                 json={"message": "make it brighter",
                                       "uploads": [sent.json()["id"]]})
    assert answer.status_code == 202, answer.text
    brighter = cat.events((0, answer.json()))[-1]
    assert brighter["event"] == "done", brighter
    made = brighter["result"]["artifacts"]
    assert made and all(a["kind"] == "image" for a in made)
    assert cat.file(1, made[-1]["files"]["png"])[:4] == b"\x89PNG"

    # Fairness, by order: once bob's turn was in, at most one of ann's was handed to a
    # worker before it; cat's cancelled turn never reached one.
    with Store.open(cluster["settings"]) as store, store.engine.connect() as conn:
        from sqlalchemy import text

        rows = {r.request["message"]: r for r in store.jobs(
            [i for (i,) in conn.execute(text("SELECT id FROM turn_jobs"))])}
        times = {m: t for m, t in conn.execute(text(
            "SELECT request->>'message', dispatched_at FROM turn_jobs"))}
        submitted = {m: t for m, t in conn.execute(text(
            "SELECT request->>'message', submitted_at FROM turn_jobs"))}
    heron_at, heron_sent = submitted["paint a heron by the river"], \
        times["paint a heron by the river"]
    ahead = [m for m, r in rows.items() if r.queue_key.endswith(":ann") and times[m]
             and heron_at < times[m] < heron_sent]
    assert len(ahead) <= 1, ahead
    owl_row = rows["paint an owl in the moonlight"]
    assert (owl_row.state, owl_row.worker, owl_row.attempts) == ("cancelled", None, 0)
    # Both workers ran turns, both front-ends sent them, each turn ran once.
    done = [r for r in rows.values() if r.state == "done"]
    assert {r.worker for r in done} == {"w1", "w2"}
    assert len({r.origin for r in rows.values()}) == 2
    assert all(r.attempts == 1 for r in done)


@pytest.mark.slow
def test_a_worker_killed_mid_generation_leaves_one_version_made_by_the_other(cluster):
    ann = Person(cluster["tokens"]["ann"], cluster["urls"])
    job = ann.send(0, BIG)
    assert ann.events(job, until="progress")[-1]["event"] == "progress"
    row = _rows(cluster["settings"])[BIG]
    assert row.state == "running"
    victim = cluster["workers"][row.worker]
    victim.kill()  # SIGKILL: no goodbye, its heartbeat just stops
    victim.wait()

    end = ann.events(job)[-1]
    assert end["event"] == "done", end
    assert len(end["result"]["artifacts"]) == 4
    row = _rows(cluster["settings"])[BIG]
    assert row.state == "done" and row.attempts == 2 and row.worker != victim.args[3]
    artworks = ann.clients[1].get(f"/api/sessions/{ann.session}/artworks").json()
    assert sorted((a["number"], a["versions"]) for a in artworks) == \
        [(n, 1) for n in range(1, 5)]  # made once: four pictures, one version each
    messages = ann.clients[1].get(f"/api/sessions/{ann.session}/messages").json()
    assert [m["role"] for m in messages] == ["user", "assistant"]
    with Store.open(cluster["settings"]) as store:
        assert store.integrity_problems() == []  # no row names a missing object


def _private_redis(tmp_path: Path, port: int) -> subprocess.Popen[bytes]:
    """A Redis of this test's own (the machine's must not be stopped), its queue kept
    on disk across a restart (append-only file), as a broker should be run."""
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                             "--dir", str(tmp_path), "--appendonly", "yes",
                             "--appendfsync", "always", "--save", ""],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_port(port, proc, tmp_path / "none")
    return proc


@pytest.mark.slow
def test_the_broker_down_at_start_and_mid_turn(pg_url, tmp_path):  # noqa: F811
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (the broker-down test runs its own)")
    port = _free_port()
    broker = None
    try:
        # The broker is down when the worker and the front-end start: both come up.
        with running_cluster(pg_url, tmp_path, f"redis://127.0.0.1:{port}/0", workers=1,
                             front_ends=1) as running:
            ann = Person(running["tokens"]["ann"], running["urls"])
            refused = ann.clients[0].post(f"/api/sessions/{ann.session}/turns",
                                          json={"message": "paint a fox"})
            assert refused.status_code == 429
            assert refused.json()["detail"].startswith(
                f"busy: the job queue's broker at redis://127.0.0.1:{port}/0 does not answer (")
            assert refused.json()["detail"].endswith("; try again in a minute")
            assert _rows(running["settings"]) == {}

            broker = _private_redis(tmp_path, port)  # back
            job = ann.send(0, BIG)
            assert ann.events(job, until="progress")[-1]["event"] == "progress"
            _stop(broker)  # down in the middle of the turn
            broker = _private_redis(tmp_path, port)
            end = ann.events(job)[-1]
            assert end["event"] == "done" and len(end["result"]["artifacts"]) == 4
            after = ann.send(0, "paint a heron")  # the worker came back to the broker
            end = ann.events(after)[-1]
            assert end["event"] == "done" and end["result"]["artifacts"], end
            rows = _rows(running["settings"])
            assert [(r.state, r.attempts) for r in rows.values()] == [("done", 1)] * 2
    finally:
        if broker is not None:
            _stop(broker)
