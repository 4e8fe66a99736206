"""Storage benchmark: museforge's Store against bare sqlite3 (and bare file writes) doing
the same work with the same durability, measured in one process, interleaved.

    .venv/bin/python bench/storage.py [--quick]

The machine this runs on is noisy, so the numbers that matter are the ratios
(museforge / baseline); the absolute milliseconds are printed only to read them by.
Measured and baseline operations run in alternating blocks (the order flips every
round) so drift in the machine's speed hits both sides alike.

Measurements (each a per-operation median over every timed call):

1. append message  ``Store.add_message``  vs  one sqlite3 INSERT + COMMIT of a similar
   row into a separate WAL, synchronous=FULL database in the same temp dir.
2. add version, 1 MB  ``Store.add_version`` with a fresh random 1 MB png  vs  writing the
   same bytes to a new file (write, fsync file, fsync folder) + sqlite3 INSERT + COMMIT
   in that baseline database. Both sides get fresh bytes each call (content addressing
   would otherwise dedupe); generating them is not timed.
3. history, N msgs  ``Store.history`` of an N-message session  vs  a bare sqlite3
   ``SELECT * FROM messages WHERE session_id = ? ORDER BY id`` fetchall of the very same
   rows (same database file).
4. resolve #N  ``Store.resolve(actor, session, "#N")`` (random N) in a session with N
   artworks  vs  a bare sqlite3 ``SELECT * FROM artworks WHERE session_id = ? AND
   number = ?`` (the unique index) on the same database file.

Setup of (3) and (4) inserts rows directly with SQLAlchemy and the museforge.storage.schema
models, in the shape Store.create_artwork / add_message produce (checked against a few
artworks made through the Store, and with ``Store.integrity_problems``), to stay fast.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy  # noqa: E402
from sqlalchemy import func, insert, select, update  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from museforge.storage.models import Actor, FileIn, Scope  # noqa: E402
from museforge.storage.schema import (  # noqa: E402
    Artwork,
    Asset,
    ChatSession,
    Message,
    Version,
    VersionAsset,
    utcnow,
)
from museforge.storage.store import Store  # noqa: E402

MB = 1 << 20
WORDS = ("fox moon river glass quiet violet storm lantern paper cello drift amber "
         "harbor minor chord tempo brush grain soft loud bright echo").split()


@dataclass
class Sizes:
    n_messages: int
    n_artworks: int
    # (rounds, block, warmup) per measurement; each round runs one block of each side.
    append: tuple[int, int, int]
    version: tuple[int, int, int]
    history: tuple[int, int, int]
    resolve: tuple[int, int, int]


FULL = Sizes(10_000, 10_000, append=(30, 30, 20), version=(20, 10, 5),
             history=(16, 3, 2), resolve=(30, 50, 50))
QUICK = Sizes(1_000, 1_000, append=(4, 10, 5), version=(4, 3, 2),
              history=(4, 3, 1), resolve=(4, 20, 10))


@dataclass
class Result:
    name: str
    subject_ns: list[int] = field(default_factory=list)
    baseline_ns: list[int] = field(default_factory=list)
    round_ratios: list[float] = field(default_factory=list)

    @property
    def subject_ms(self) -> float:
        return statistics.median(self.subject_ns) / 1e6

    @property
    def baseline_ms(self) -> float:
        return statistics.median(self.baseline_ns) / 1e6

    @property
    def ratio(self) -> float:
        return self.subject_ms / self.baseline_ms


# An operation is (prepare, run): prepare() makes the input outside the clock, run(x) is timed.
Op = tuple[Callable[[], Any], Callable[[Any], Any]]


def interleaved(name: str, subject: Op, baseline: Op, rounds: int, block: int,
                warmup: int) -> Result:
    """Alternate blocks of the two sides; the side that goes first flips every round."""
    for _ in range(warmup):
        for prep, run in (subject, baseline):
            run(prep())
    res = Result(name)
    sides = [(subject, res.subject_ns), (baseline, res.baseline_ns)]
    for r in range(rounds):
        per_round: dict[int, list[int]] = {}
        for idx, ((prep, run), out) in (enumerate(sides) if r % 2 == 0
                                        else reversed(list(enumerate(sides)))):
            times = per_round.setdefault(idx, [])
            for _ in range(block):
                x = prep()
                t0 = time.perf_counter_ns()
                run(x)
                times.append(time.perf_counter_ns() - t0)
            out.extend(times)
        res.round_ratios.append(statistics.median(per_round[0]) / statistics.median(per_round[1]))
    return res


def words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def now_text() -> str:
    return datetime.now(UTC).isoformat(sep=" ")


# -- baseline database -------------------------------------------------------------

BASELINE_SCHEMA = """
CREATE TABLE messages (
    id INTEGER PRIMARY KEY, session_id INTEGER NOT NULL, user_id INTEGER,
    role VARCHAR(16) NOT NULL, text TEXT NOT NULL, tool_calls JSON NOT NULL,
    planner VARCHAR(32), timings JSON NOT NULL, created_at DATETIME NOT NULL);
CREATE INDEX ix_messages_session_order ON messages (session_id, id);
CREATE TABLE versions (
    id INTEGER PRIMARY KEY, artwork_id INTEGER NOT NULL, number INTEGER NOT NULL,
    operation VARCHAR(64) NOT NULL, recipe JSON NOT NULL, path VARCHAR(300) NOT NULL,
    size INTEGER NOT NULL, created_at DATETIME NOT NULL);
"""


def open_baseline(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- bulk setup in the Store's own shape -------------------------------------------

def bulk_messages(store: Store, actor: Actor, session_id: int, n: int,
                  rng: random.Random) -> None:
    rows = []
    for i in range(n):
        user = i % 2 == 0
        rows.append(dict(session_id=session_id, user_id=actor.user.id if user else None,
                         role="user" if user else "assistant",
                         text=words(rng, rng.randint(5, 60)), tool_calls=[], planner=None,
                         timings={}, created_at=utcnow()))
    with Session(store.engine) as s, s.begin():
        s.execute(insert(Message), rows)
        s.execute(update(ChatSession).where(ChatSession.id == session_id)
                  .values(updated_at=utcnow()))


def bulk_artworks(store: Store, actor: Actor, session_id: int, first: int, last: int,
                  rng: random.Random) -> None:
    """Artworks #first..#last, each with a head v1 and one tiny png asset, as
    Store.create_artwork makes them (files written, but not fsynced: setup only)."""
    with Session(store.engine) as s:
        art_id, ver_id, asset_id = (s.scalar(select(func.coalesce(func.max(m.id), 0)))
                                    for m in (Artwork, Version, Asset))
    arts, vers, assets, links = [], [], [], []
    for number in range(first, last + 1):
        art_id, ver_id, asset_id = art_id + 1, ver_id + 1, asset_id + 1
        data = f"tiny png #{number} {rng.random()}".encode()
        sha = hashlib.sha256(data).hexdigest()
        rel = store.assets.relpath(sha, "image/png")
        path = store.assets.abspath(rel)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        prompt = words(rng, 8)
        now = utcnow()
        arts.append(dict(id=art_id, session_id=session_id, number=number, kind="image",
                         title=prompt[:300], prompt=prompt, owner_id=actor.user.id,
                         head_version_id=ver_id, version_count=1, undo_stack=[],
                         redo_stack=[], created_at=now))
        vers.append(dict(id=ver_id, artwork_id=art_id, number=1, parent_id=None,
                         operation="generate_image", recipe={"seed": number, "prompt": prompt},
                         message_id=None, created_at=now))
        assets.append(dict(id=asset_id, sha256=sha, mime="image/png", size=len(data),
                           path=rel, created_at=now))
        links.append(dict(version_id=ver_id, role="png", asset_id=asset_id))
    with Session(store.engine) as s, s.begin():
        s.execute(insert(Artwork), arts)
        s.execute(insert(Version), vers)
        s.execute(insert(Asset), assets)
        s.execute(insert(VersionAsset), links)
        s.execute(update(ChatSession).where(ChatSession.id == session_id)
                  .values(artwork_count=last, updated_at=utcnow()))


def check_same_shape(db_path: Path, session_id: int, store_made: int, bulk_made: int) -> None:
    """The bulk artwork's rows match a Store-made one, bar ids, text and times."""
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    skip = {"id", "number", "title", "prompt", "head_version_id", "created_at", "artwork_id",
            "recipe", "sha256", "size", "path", "version_id", "asset_id"}

    def shape(number: int) -> dict[str, Any]:
        art = conn.execute("SELECT * FROM artworks WHERE session_id=? AND number=?",
                           (session_id, number)).fetchone()
        ver = conn.execute("SELECT * FROM versions WHERE id=?",
                           (art["head_version_id"],)).fetchone()
        link = conn.execute("SELECT * FROM version_assets WHERE version_id=?",
                            (ver["id"],)).fetchall()
        asset = conn.execute("SELECT * FROM assets WHERE id=?",
                             (link[0]["asset_id"],)).fetchone()
        out = {}
        for tag, row in (("art", art), ("ver", ver), ("asset", asset),
                         *(("link", r) for r in link)):
            out.update({f"{tag}.{k}": row[k] for k in row.keys() if k not in skip})
        out["ver.artwork_id_matches"] = ver["artwork_id"] == art["id"]
        file = db_path.parent / asset["path"]
        out["asset.file_size_matches"] = file.stat().st_size == asset["size"]
        out["n_links"] = len(link)
        return out

    a, b = shape(store_made), shape(bulk_made)
    conn.close()
    if a != b:
        raise SystemExit(f"bulk setup differs from Store.create_artwork:\n{a}\n{b}")


# -- the run -----------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, few reps (smoke run)")
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    sizes = QUICK if args.quick else FULL
    rng = random.Random(args.seed)
    t_start = time.perf_counter()

    with tempfile.TemporaryDirectory(prefix="museforge-bench-") as tmp:
        home = Path(tmp)
        db_path = home / "museforge.db"
        store = Store(f"sqlite:///{db_path}", home)
        base = open_baseline(home / "baseline.db")
        base.executescript(BASELINE_SCHEMA)
        base.commit()
        base_files = home / "baseline-files"
        base_files.mkdir()
        reader = sqlite3.connect(db_path)  # bare reads of the museforge database itself
        results: list[Result] = []
        try:
            actor = Actor(store.local_user())
            s_append = store.session(actor, Scope.local("append"))
            s_version = store.session(actor, Scope.local("versions"))
            s_history = store.session(actor, Scope.local("history"))
            s_arts = store.session(actor, Scope.local("artworks"))

            # setup -------------------------------------------------------------
            t0 = time.perf_counter()
            store.create_artwork(actor, s_version, "image", title="base", prompt="base",
                                 operation="generate_image", recipe={"seed": 0},
                                 files={"png": FileIn(os.urandom(MB), "image/png")})
            bulk_messages(store, actor, s_history.id, sizes.n_messages, rng)
            n_real = 3  # made through the Store, to check the bulk rows against
            for k in range(1, n_real + 1):
                prompt = words(rng, 8)
                store.create_artwork(actor, s_arts, "image", title=prompt, prompt=prompt,
                                     operation="generate_image",
                                     recipe={"seed": k, "prompt": prompt},
                                     files={"png": FileIn(f"tiny png #{k} {rng.random()}"
                                                          .encode(), "image/png")})
            bulk_artworks(store, actor, s_arts.id, n_real + 1, sizes.n_artworks, rng)
            check_same_shape(db_path, s_arts.id, n_real, n_real + 1)
            s_arts = store.local_session(actor, "artworks")
            assert s_arts.artwork_count == sizes.n_artworks
            assert len(store.history(actor, s_history)) == sizes.n_messages
            last = store.resolve(actor, s_arts, f"#{sizes.n_artworks}")
            assert last[1].files["png"].is_file() and last[0].head_number == 1
            problems = store.integrity_problems()
            if problems:
                raise SystemExit(f"setup left integrity problems: {problems[:5]}")
            setup_s = time.perf_counter() - t0

            # 1. append a message -----------------------------------------------
            def text_prep() -> str:
                return words(rng, rng.randint(5, 60))

            def mf_append(text: str) -> None:
                store.add_message(actor, s_append, "user", text)

            def bare_append(text: str) -> None:
                base.execute(
                    "INSERT INTO messages (session_id, user_id, role, text, tool_calls, "
                    "planner, timings, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (s_append.id, actor.user.id, "user", text, json.dumps([]), None,
                     json.dumps({}), now_text()))
                base.commit()

            results.append(interleaved("append message", (text_prep, mf_append),
                                       (text_prep, bare_append), *sizes.append))

            # 2. add a version with a 1 MB asset --------------------------------
            counter = iter(range(10**9))

            def mb_prep() -> tuple[int, bytes]:
                return next(counter), os.urandom(MB)

            def mf_version(x: tuple[int, bytes]) -> None:
                i, data = x
                store.add_version(actor, s_version, 1, operation="edit_image",
                                  recipe={"seed": i, "strength": 0.6, "prompt": "a fox"},
                                  files={"png": FileIn(data, "image/png")})

            def bare_version(x: tuple[int, bytes]) -> None:
                i, data = x
                path = base_files / f"{i:08d}.png"
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
                finally:
                    os.close(fd)
                fsync_dir(base_files)  # a new file's name is durable only after this
                base.execute(
                    "INSERT INTO versions (artwork_id, number, operation, recipe, path, size, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (1, i, "edit_image",
                     json.dumps({"seed": i, "strength": 0.6, "prompt": "a fox"}),
                     str(path.relative_to(home)), len(data), now_text()))
                base.commit()

            results.append(interleaved("add version (1 MB file)", (mb_prep, mf_version),
                                       (mb_prep, bare_version), *sizes.version))

            # 3. load an N-message history --------------------------------------
            n_msgs = sizes.n_messages

            def mf_history(_: None) -> None:
                assert len(store.history(actor, s_history)) == n_msgs

            def bare_history(_: None) -> None:
                rows = reader.execute("SELECT * FROM messages WHERE session_id = ? ORDER BY id",
                                      (s_history.id,)).fetchall()
                assert len(rows) == n_msgs

            results.append(interleaved(f"history ({n_msgs:,} msgs)", (lambda: None, mf_history),
                                       (lambda: None, bare_history), *sizes.history))

            # 4. resolve #N among N artworks ------------------------------------
            def n_prep() -> int:
                return rng.randint(1, sizes.n_artworks)

            def mf_resolve(n: int) -> None:
                art, _ = store.resolve(actor, s_arts, f"#{n}")
                assert art.number == n

            def bare_resolve(n: int) -> None:
                row = reader.execute("SELECT * FROM artworks WHERE session_id = ? AND number = ?",
                                     (s_arts.id, n)).fetchone()
                assert row is not None

            results.append(interleaved(f"resolve #N ({sizes.n_artworks:,} artworks)",
                                       (n_prep, mf_resolve), (n_prep, bare_resolve),
                                       *sizes.resolve))
        finally:
            reader.close()
            base.close()
            store.close()

    total_s = time.perf_counter() - t_start
    report(results, args.quick, setup_s, total_s)


def report(results: list[Result], quick: bool, setup_s: float,
           total_s: float) -> None:
    mode = "quick" if quick else "full"
    print(f"museforge storage benchmark ({mode}): SQLite {sqlite3.sqlite_version}, "
          f"SQLAlchemy {sqlalchemy.__version__}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs")
    print("per-operation medians; ratio = museforge / baseline (same process, interleaved)")
    print()
    head = ("operation", "n/side", "museforge ms", "baseline ms", "ratio", "round ratios p25-p75")
    rows = []
    for r in results:
        q = statistics.quantiles(r.round_ratios, n=4) if len(r.round_ratios) > 1 else [r.ratio] * 3
        rows.append((r.name, str(len(r.subject_ns)), f"{r.subject_ms:.3f}",
                     f"{r.baseline_ms:.3f}", f"{r.ratio:.1f}x", f"{q[0]:.1f}x-{q[2]:.1f}x"))
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    fmt = "  ".join([f"{{:<{widths[0]}}}"] + [f"{{:>{w}}}" for w in widths[1:]])
    print(fmt.format(*head))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(fmt.format(*row))
    print()
    print("baselines: (1) sqlite3 INSERT+COMMIT, WAL, synchronous=FULL; (2) 1 MB write+fsync "
          "file+fsync dir, then INSERT+COMMIT; (3) sqlite3 SELECT * ... ORDER BY id fetchall of "
          "the same rows; (4) sqlite3 SELECT by (session_id, number) on the same database")
    print(f"setup {setup_s:.1f} s, total (after imports) {total_s:.1f} s")


if __name__ == "__main__":
    main()
