"""Crash safety: a writer killed with SIGKILL at a random moment, again and again, on the
same SQLite file. Every version it was told was saved is there, whole; no row names a
missing or partial file; what the crashes left is at most stray files, which
``clean_orphans`` removes without touching a referenced one."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from museforge.storage.assets import TMP_PREFIX
from museforge.storage.models import Actor
from museforge.storage.store import Store

CRASHER = Path(__file__).parent / "workers" / "crasher.py"


def run_and_kill(url: str, home: Path, logs: Path, rng: random.Random, early: bool) -> set:
    """One writer, killed at a random moment (``early``: maybe before it is even ready).
    Returns the (artwork, version) pairs it printed as acknowledged."""
    out_path, err_path = logs.with_suffix(".out"), logs.with_suffix(".err")
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen([sys.executable, str(CRASHER), url, str(home)],
                                stdout=out, stderr=err)
    try:
        if early:
            time.sleep(rng.uniform(0.0, 0.5))
        else:
            deadline = time.monotonic() + 60
            while "ready" not in out_path.read_text() and proc.poll() is None:
                assert time.monotonic() < deadline, "the writer never got ready"
                time.sleep(0.01)
            time.sleep(rng.uniform(0.02, 0.3))
        assert proc.poll() is None, f"the writer died by itself: {err_path.read_text()}"
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    # Only whole lines count: a line cut short by the kill was never fully acknowledged.
    lines = out_path.read_text().split("\n")[:-1]
    return {tuple(map(int, line.split())) for line in lines if line != "ready"}


def sha_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def crash_again_and_again(home: Path, logs: Path, kills: int) -> None:
    url = f"sqlite:///{home / 'museforge.db'}"
    seed = int.from_bytes(os.urandom(4), "big")
    rng = random.Random(seed)
    acked: set = set()
    for cycle in range(kills):
        # Every fourth kill may land while the store opens (and, the first time, migrates).
        acked |= run_and_kill(url, home, logs / f"cycle{cycle}", rng, early=cycle % 4 == 0)
    assert acked, f"no version was ever acknowledged (seed {seed})"

    with Store(url, home) as store:
        assert store.integrity_problems(hash_files=True) == [], f"seed {seed}"
        me = Actor(store.local_user())
        chat = store.local_session(me, "crash")
        artworks = store.list_artworks(me, chat)
        assert [a.number for a in artworks] == list(range(1, len(artworks) + 1))
        present, referenced = set(), set()
        for art in artworks:
            versions = store.versions(me, chat, art.number)
            assert [v.number for v in versions] == list(range(1, len(versions) + 1))
            assert store.resolve(me, chat, art.ref)[1].number == art.head_number
            for v in versions:
                present.add((art.number, v.number))
                assert set(v.files) == {"png", "mid"}
                for path in v.files.values():
                    assert path.is_file(), f"v{v.number} of #{art.number} names {path}"
                    assert sha_of(path) == path.stem.split(".")[0]
                    referenced.add(str(path.relative_to(home)))
        missing = sorted(acked - present)
        assert not missing, f"acknowledged but lost: {missing} (seed {seed})"

        orphans = store.orphans()
        assert not set(orphans) & referenced
        for rel in orphans:
            path = home / rel
            # A stray: a temp file, or a whole file whose row was never committed.
            assert path.name.startswith(TMP_PREFIX) or sha_of(path) == path.stem, rel

        # clean_orphans spares young files (a write may be in flight); these are old now.
        long_ago = time.time() - 3600
        for rel in orphans:
            os.utime(home / rel, (long_ago, long_ago))
        assert sorted(store.clean_orphans()) == sorted(orphans)
        assert store.orphans() == []
        assert store.integrity_problems(hash_files=True) == []
        assert all((home / rel).is_file() for rel in referenced)


def test_a_writer_killed_three_times_loses_nothing_acknowledged(museforge_home, tmp_path):
    crash_again_and_again(museforge_home, tmp_path, kills=3)


def test_a_writer_killed_twenty_times_loses_nothing_acknowledged(museforge_home, tmp_path):
    crash_again_and_again(museforge_home, tmp_path, kills=20)

