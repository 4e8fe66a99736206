"""Two processes starting on a fresh SQLite file: one upgrades while the other waits,
even when the first stops between two revisions (SQLite commits each on its own), and a
migrator killed halfway leaves no lock behind. Real processes on a real file; the pause
is a SQLAlchemy event in the test's worker (workers/migrator.py), none in the store."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from museforge.storage import db
from museforge.storage.schema import Base
from museforge.storage.store import Store

MIGRATOR = Path(__file__).parent / "workers" / "migrator.py"
WAITING = "waiting for another process to finish upgrading the database"
DEADLINE_S = 120  # how long a step may take before the test gives up (not a measurement)


class Migrator:
    def __init__(self, url: str, home: Path, logs: Path, name: str, pause: Path | None = None):
        self.err = logs / f"{name}.err"
        args = [sys.executable, str(MIGRATOR), url, str(home)] + ([str(pause)] if pause else [])
        with self.err.open("w") as err:
            self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, text=True)

    def stderr(self) -> str:
        return self.err.read_text()

    def finish(self) -> tuple[int, str, str]:
        out, _ = self.proc.communicate(timeout=DEADLINE_S)
        return self.proc.returncode, out, self.stderr()


def wait_until(what: str, done, *running: Migrator) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        for m in running:
            assert m.proc.poll() is None, f"exited before {what}: {m.stderr()}"
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.01)


def assert_at_head(url: str, home: Path) -> None:
    with Store(url, home) as store, store.engine.connect() as conn:
        current, head = db.migration_status(store.engine)
        assert current == head is not None
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert len(list(conn.execute(text("SELECT version_num FROM alembic_version")))) == 1


def paused_and_waiting(url: str, home: Path, logs: Path) -> tuple[Migrator, Migrator, Path]:
    """A stopped between its first and second revision; B started since, waiting for A."""
    pause = logs / "pause"
    pause.mkdir()
    first = Migrator(url, home, logs, "first", pause)
    wait_until("the first migrator paused", (pause / "paused").exists, first)
    second = Migrator(url, home, logs, "second")
    wait_until("the second migrator waited", lambda: WAITING in second.stderr(), first, second)
    return first, second, pause


def test_a_process_starting_mid_upgrade_waits_for_it(museforge_home, tmp_path):
    url = f"sqlite:///{museforge_home / 'museforge.db'}"
    first, second, pause = paused_and_waiting(url, museforge_home, tmp_path)
    (pause / "go").touch()

    for rc, out, err in (first.finish(), second.finish()):
        assert (rc, out) == (0, "done\n"), err
        assert "Traceback" not in err
    assert_at_head(url, museforge_home)


def test_a_migrator_killed_halfway_releases_the_lock(museforge_home, tmp_path):
    url = f"sqlite:///{museforge_home / 'museforge.db'}"
    first, second, _ = paused_and_waiting(url, museforge_home, tmp_path)
    first.proc.send_signal(signal.SIGKILL)
    first.proc.wait()

    rc, out, err = second.finish()
    assert (rc, out) == (0, "done\n"), err  # it took the lock and made the second revision
    assert "Traceback" not in err
    assert_at_head(url, museforge_home)


def test_the_lock_file_sits_beside_a_sqlite_file_only(museforge_home):
    url = f"sqlite:///{museforge_home / 'museforge.db'}"
    Store(url, museforge_home).close()

    assert (museforge_home / "museforge.db.migrate.lock").is_file()
    assert db.migration_lock_path(db.make_engine(db.MEMORY_URL).url) is None
    assert db.migration_lock_path(db.make_engine("postgresql://h/x").url) is None
