"""Several writers at once: processes on one SQLite file, threads on SQLite and PostgreSQL.
Every write the store acknowledged is there afterwards; numbers are unique and contiguous."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from museforge.storage import db
from museforge.storage.models import Actor, FileIn, Scope
from museforge.storage.store import Store

PG_URL_ENV = "MUSEFORGE_TEST_DATABASE_URL"

WORKERS = Path(__file__).parent / "workers"


def test_processes_writing_to_one_sqlite_file(museforge_home, tmp_path):
    url = f"sqlite:///{museforge_home / 'museforge.db'}"
    with Store(url, museforge_home) as store:  # the session and #1 exist before they start
        me = Actor(store.local_user())
        chat = store.session(me, Scope.local("shared"))
        store.create_artwork(me, chat, "image", title="shared", operation="generate_image",
                             recipe={}, files={"png": FileIn(b"first", "image/png")})
    go = tmp_path / "go"
    procs = [
        subprocess.Popen([sys.executable, str(WORKERS / "writer.py"), url, str(museforge_home),
                          str(w), "25", str(go)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for w in range(4)
    ]
    go.touch()
    outputs = [p.communicate(timeout=120) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
    acked = [line.split() for out, _ in outputs for line in out.splitlines()]

    with Store(url, museforge_home) as store:
        me = Actor(store.local_user())
        chat = store.local_session(me, "shared")
        message_ids = {int(a[1]) for a in acked if a[0] == "m"}
        artworks = [(int(a[1]), int(a[2])) for a in acked if a[0] == "a"]
        versions = [int(a[1]) for a in acked if a[0] == "v"]
        assert len(message_ids) + len(artworks) + len(versions) == 100

        assert message_ids == {m.id for m in store.history(me, chat)}
        listed = store.list_artworks(me, chat)
        assert [a.number for a in listed] == list(range(1, len(artworks) + 2))
        assert sorted(n for n, _ in artworks) == list(range(2, len(artworks) + 2))
        for number, version_id in artworks:
            assert store.resolve(me, chat, f"#{number} v1")[1].id == version_id
        shared = store.versions(me, chat, 1)
        assert [v.number for v in shared] == list(range(1, len(versions) + 2))
        assert sorted(versions) == list(range(2, len(versions) + 2))
        assert store.integrity_problems(hash_files=True) == []


@pytest.mark.parametrize("threads", [4])
def test_threads_numbering_artworks_in_one_session(store, me, chat, files, threads):
    """On PostgreSQL this runs through the row lock (SELECT ... FOR UPDATE); on SQLite
    through BEGIN IMMEDIATE and the busy timeout."""
    store.create_artwork(me, chat, "image", title="shared", operation="generate_image",
                         recipe={}, files=files())
    start = threading.Barrier(threads)
    made: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def work(t: int) -> None:
        start.wait()
        try:
            for i in range(10):
                art, _ = store.create_artwork(me, chat, "image", title=f"t{t} {i}",
                                              operation="generate_image", recipe={},
                                              files=files(f"t{t}"))
                v = store.add_version(me, chat, 1, operation="edit_image",
                                      recipe={"t": t, "i": i}, files=files(f"t{t}"))
                store.add_message(me, chat, "user", f"t{t} {i}")
                made.append((art.number, v.number))
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()

    assert errors == []
    total = threads * 10
    assert sorted(n for n, _ in made) == list(range(2, total + 2))
    assert sorted(v for _, v in made) == list(range(2, total + 2))
    assert [a.number for a in store.list_artworks(me, chat)] == list(range(1, total + 2))
    assert store.local_session(me, "default").artwork_count == total + 1
    tree = store.versions(me, chat, 1)
    assert [v.number for v in tree] == list(range(1, total + 2))
    assert all(v.parent_number is not None for v in tree[1:])
    assert len(store.history(me, chat)) == total
    assert store.integrity_problems() == []


def test_threads_storing_the_same_bytes_at_once(store, me, chat):
    """Two requests that make identical files (same seed, same recipe) at the same time."""
    data = b"same picture " * 400_000
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def work() -> None:
        start.wait()
        try:
            store.create_artwork(me, chat, "image", title="same", operation="generate_image",
                                 recipe={"seed": 1}, files={"png": FileIn(data, "image/png")})
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)

    pool = [threading.Thread(target=work) for _ in range(4)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()

    assert errors == []
    paths = {store.resolve(me, chat, f"#{n}")[1].files["png"] for n in (1, 2, 3, 4)}
    assert len(paths) == 1
    assert paths.pop().read_bytes() == data
    assert store.orphans() == []
    assert store.integrity_problems(hash_files=True) == []


def test_a_writer_waits_for_another_process_holding_the_sqlite_lock(sqlite_store):
    """Another process (here: a plain sqlite3 connection) holds the write lock for a while;
    the store's write waits for it rather than failing with "database is locked"."""
    me = Actor(sqlite_store.local_user())
    chat = sqlite_store.session(me, Scope.local("default"))
    path = sqlite_store.engine.url.database
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE sessions SET title = 'held' WHERE id = ?", (chat.id,))
    events: list[str] = []

    def commit() -> None:
        events.append("the other process commits")
        other.execute("COMMIT")

    release = threading.Timer(0.5, commit)
    release.start()
    try:
        msg = sqlite_store.add_message(me, chat, "user", "waited")
        events.append("the store's write returns")
    finally:
        release.join()
        other.close()

    assert events == ["the other process commits", "the store's write returns"]
    assert [m.id for m in sqlite_store.history(me, chat)] == [msg.id]
    assert sqlite_store.find_session(me, chat.key).title == "held"


@pytest.mark.postgres
def test_transient_postgres_failures_are_retried():
    """A real serialization failure (SQLSTATE 40001) runs the transaction again; any other
    error is raised at once."""
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(f"{PG_URL_ENV} is not set")
    engine = db.make_engine(url)
    raise_40001 = text("DO $$ BEGIN RAISE EXCEPTION 'conflict' "
                       "USING ERRCODE = 'serialization_failure'; END $$")
    calls = []

    def flaky() -> str:
        calls.append(1)
        with engine.begin() as conn:
            if len(calls) < 3:
                conn.execute(raise_40001)
            return "done"

    def broken() -> None:
        calls.append(1)
        with engine.begin() as conn:
            conn.execute(text("SELECT 1 / 0"))

    try:
        assert db.with_retry(flaky) == "done"
        assert len(calls) == 3
        calls.clear()
        with pytest.raises(DBAPIError, match="division by zero"):
            db.with_retry(broken)
        assert len(calls) == 1
    finally:
        engine.dispose()
