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


def _reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from museforge.storage.db import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
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
    _reset_postgres(url)
    return url


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
