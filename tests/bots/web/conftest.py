"""The web chat over a real Studio: SQLite in the test's data dir, the offline planner,
the procedural painter, the real fair job queue."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from webutil import LOCAL

from museforge.bots.service import Studio
from museforge.bots.web import create_app
from museforge.config import load_settings
from museforge.models.image.procedural import ProceduralPainter
from museforge.tools.base import Services


@pytest.fixture
def studio() -> Iterator[Studio]:
    st = Studio.open(load_settings(), services=Services(image=ProceduralPainter()))
    yield st
    st.close()


@pytest.fixture
def client(studio: Studio) -> Iterator[TestClient]:
    with TestClient(create_app(studio), base_url=LOCAL) as c:
        yield c


@pytest.fixture
def sid(client: TestClient) -> int:
    return int(client.post("/api/sessions", json={"name": "web"}).json()["id"])


@pytest.fixture
def hold(studio: Studio) -> Iterator[Callable[..., threading.Event]]:
    """Occupy the studio's only worker (as the local user, or as ``user``) until the
    returned event is set; released at the end of the test in any case."""
    releases: list[threading.Event] = []

    def occupy(user: str = "someone-else", wait_started: bool = True) -> threading.Event:
        started, release = threading.Event(), threading.Event()
        releases.append(release)

        def fn(job: Any) -> None:
            started.set()
            release.wait(20)

        studio.queue.jobs.submit(user, fn)
        if wait_started:
            assert started.wait(5)
        return release

    yield occupy
    for r in releases:
        r.set()
