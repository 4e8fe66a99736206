"""Shared fixtures: every test gets its own data dir (MUSEFORGE_HOME) and no LLM settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

PG_URL_ENV = "MUSEFORGE_TEST_DATABASE_URL"


@pytest.fixture(autouse=True)
def museforge_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("MUSEFORGE_HOME", str(home))
    for name in list(os.environ):
        if name.startswith("MUSEFORGE_") and name not in ("MUSEFORGE_HOME", PG_URL_ENV):
            monkeypatch.delenv(name)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return home


# Each pytest process works in a schema of its own, so two runs (or xdist workers) on the
# same PostgreSQL database never drop each other's tables.
PG_SCHEMA = f"mf_test_{os.getpid()}"


def _reset_postgres(base_url: str) -> str:
    """Empty this process's schema; return a URL whose connections use it."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from museforge.storage.db import make_engine

    engine = make_engine(base_url)
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
    engine.dispose()
    url = make_url(base_url).update_query_dict({"options": f"-csearch_path={PG_SCHEMA}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session", autouse=True)
def _drop_postgres_schema() -> Iterator[None]:
    yield
    url = os.environ.get(PG_URL_ENV)
    if url:
        from sqlalchemy import text

        from museforge.storage.db import make_engine

        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        engine.dispose()


def database_urls() -> list[pytest.param]:
    params = [pytest.param("sqlite", id="sqlite")]
    params.append(pytest.param("postgres", id="postgres", marks=pytest.mark.postgres))
    return params


@pytest.fixture(params=database_urls())
def db_url(request: pytest.FixtureRequest, museforge_home: Path) -> str:
    """A fresh, empty database: a SQLite file in the data dir, or the test PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{museforge_home / 'museforge.db'}"
    url = os.environ.get(PG_URL_ENV)
    if not url:
        pytest.skip(f"{PG_URL_ENV} is not set")
    return _reset_postgres(url)


@pytest.fixture
def store(db_url: str, museforge_home: Path) -> Iterator:
    from museforge.storage.store import Store

    st = Store(db_url, museforge_home)
    yield st
    st.close()


@pytest.fixture
def sqlite_store(museforge_home: Path) -> Iterator:
    from museforge.storage.store import Store

    st = Store(f"sqlite:///{museforge_home / 'museforge.db'}", museforge_home)
    yield st
    st.close()
