"""Engines for SQLite and PostgreSQL, migrations at start-up, retry of transient failures."""

from __future__ import annotations

import fcntl
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool

from museforge.storage.errors import DatabaseUnavailable

T = TypeVar("T")
log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
MEMORY_URL = "sqlite://"  # a private in-memory SQLite database
SQLITE_BUSY_TIMEOUT_S = 30
RETRIES = 5
# PostgreSQL SQLSTATEs worth another try: serialization failure, deadlock, unique race
# (two writers numbering the same artwork) is handled by the row lock instead.
_PG_RETRY = {"40001", "40P01"}
_PASSWORD = re.compile(r"(://[^/:@]*:).*@")
MIGRATE_LOCK_SUFFIX = ".migrate.lock"


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        return _PASSWORD.sub(r"\1***@", url)


def sqlite_file_missing(url: str) -> bool:
    """True when ``url`` names a SQLite database file that does not exist (yet)."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return False
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return False
    if database.startswith("file:"):  # a URI filename: leave it to SQLite
        return False
    return not Path(database).expanduser().exists()


def make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise DatabaseUnavailable(f"not a database URL: '{safe_url(url)}'") from exc
    try:
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(url, parsed.database)
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(
            parsed,
            pool_pre_ping=True,
            connect_args=(
                {"connect_timeout": 10} if parsed.get_backend_name() == "postgresql" else {}
            ),
        )
    except (ImportError, NoSuchModuleError) as exc:
        raise DatabaseUnavailable(
            f"cannot open {safe_url(url)}: its database driver is not installed ({exc})"
        ) from exc


def _sqlite_engine(url: str, database: str | None) -> Engine:
    if database and database != ":memory:":
        folder = Path(database).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailable(
                f"cannot create the folder for {safe_url(url)}: {exc.strerror}"
            ) from exc
    memory = not database or database == ":memory:"
    engine = create_engine(
        url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
        # In memory, every connection would be a database of its own: share one.
        **({"poolclass": StaticPool} if memory else {}),
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is lazy and wrong).
        dbapi_conn.isolation_level = None
        # SQLite's own lower() folds ASCII only; search must find "Été" for "été".
        dbapi_conn.create_function("lower", 1, _lower, deterministic=True)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # type: ignore[no-untyped-def]
        # Writers take the lock up front, so two writers never deadlock on an upgrade.
        if conn.get_execution_options().get("museforge_write"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def check_reachable(engine: Engine, url: str) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable(f"cannot reach the database {safe_url(url)}: {reason}") from exc


def _alembic_config(engine: Engine):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Apply every Alembic revision not yet applied."""
    from alembic import command

    # One process upgrades at a time, from reading the current revision to committing the
    # last one. PostgreSQL: env.py's advisory lock, held by the one transaction that runs
    # every revision. SQLite commits each revision on its own (no transactional DDL in
    # Alembic), so its BEGIN IMMEDIATE covers one revision only: a file lock spans them all.
    lock = migration_lock_path(engine.url)
    with _exclusive(lock) if lock else nullcontext():
        command.upgrade(_alembic_config(engine.execution_options(museforge_write=True)), "head")


def migration_lock_path(url: URL) -> Path | None:
    """The lock file beside a SQLite database file; None for PostgreSQL or memory."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if database.startswith("file:"):  # a URI filename (?uri=true); its query is url.query
        if url.query.get("mode") == "memory":
            return None
        database = database.removeprefix("file:")
    return Path(database + MIGRATE_LOCK_SUFFIX)


@contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive flock on ``path``. The OS drops it when the process dies, so a
    migrator killed halfway leaves no lock behind, only revisions the next one finishes."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise DatabaseUnavailable(
            f"cannot create the migration lock file {path}: {exc.strerror}"
        ) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another process to finish upgrading the database (%s)", path)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def migration_status(engine: Engine) -> tuple[str | None, str | None]:
    """(current revision, head revision)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, head


def is_transient(exc: BaseException) -> bool:
    if not isinstance(exc, OperationalError | DBAPIError):
        return False
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if code in _PG_RETRY:
        return True
    return "database is locked" in str(exc.orig)


def with_retry(fn: Callable[[], T], retries: int = RETRIES) -> T:
    """Run a whole transaction again on serialization failure or deadlock (bounded)."""
    for attempt in range(retries):
        try:
            return fn()
        except DBAPIError as exc:
            if not is_transient(exc) or attempt == retries - 1:
                raise
            time.sleep(0.02 * 2**attempt)
    raise AssertionError("unreachable")
