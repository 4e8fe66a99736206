"""DELETE /api/jobs/ID on a running turn: the tool stops at its next step, nothing of it
is stored (not later either, after the turns sent behind it), the reply says so, and a
later "undo" acts on what came before it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from webutil import sse, turn

from museforge.bots.service import Studio
from museforge.config import load_settings
from museforge.models.image.base import GenerateRequest, ImageResult, RunControl
from museforge.models.image.procedural import ProceduralPainter
from museforge.tools.base import Services


class WaitsForTheCancel(ProceduralPainter):
    """Once armed, its next picture says it started and waits for the job's cancel:
    ``"before"`` its first step (which then stops it), or ``"after"`` its last (the
    pixels are computed; only storing them is left)."""

    def __init__(self) -> None:
        self.armed: str | None = None
        self.started = threading.Event()

    def generate(self, req: GenerateRequest, run: RunControl | None = None) -> ImageResult:
        assert run is not None and run.cancel is not None
        when, self.armed = self.armed, None
        if when == "before":
            self.started.set()
            assert run.cancel.wait(10)
        out = super().generate(req, run)
        if when == "after":
            self.started.set()
            assert run.cancel.wait(10)
        return out


@pytest.fixture
def painter() -> WaitsForTheCancel:
    return WaitsForTheCancel()


@pytest.fixture
def studio(painter: WaitsForTheCancel) -> Iterator[Studio]:
    st = Studio.open(load_settings(), services=Services(image=painter))
    yield st
    st.close()


@pytest.mark.parametrize("when", ["before", "after"])
def test_a_running_turn_cancelled_stores_nothing_and_says_so(client, sid, painter, when):
    turn(client, sid, "paint a fox in the snow")
    turn(client, sid, "warmer")
    painter.armed = when
    job = client.post(f"/api/sessions/{sid}/turns", json={"message": "paint a whale"}).json()
    assert painter.started.wait(10)
    later = client.post(f"/api/sessions/{sid}/turns", json={"message": "undo"}).json()

    cancelling = client.delete(f"/api/jobs/{job['id']}").json()

    assert cancelling["state"] == "running"  # it stops at its next step
    name, data = sse(client.get(job["events"]).text)[-1]
    assert name == "done"
    assert data["result"]["reply"] == "Cancelled; nothing was made."
    assert data["result"]["artifacts"] == []
    assert data["result"]["tool_calls"] == [
        {"name": "generate_image", "ok": False, "error": "cancelled"}]
    assert client.get(f"/api/jobs/{job['id']}").json()["state"] == "cancelled"

    name, data = sse(client.get(later["events"]).text)[-1]
    assert name == "done"
    assert data["result"]["reply"] == "Undid the last change to #1: now at v1 (was v2)."
    arts = client.get(f"/api/sessions/{sid}/artworks").json()
    assert [(a["ref"], a["head"], a["versions"]) for a in arts] == [("#1", 1, 2)]
    texts = [(m["role"], m["text"]) for m in client.get(f"/api/sessions/{sid}/messages").json()]
    assert texts[-4:] == [("user", "paint a whale"),
                          ("assistant", "Cancelled; nothing was made."),
                          ("user", "undo"), ("assistant", data["result"]["reply"])]
