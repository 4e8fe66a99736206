"""A request cancelled while it runs (the Cancel button under its status line calls
``Job.cancel``): the tool's result is not stored, and the result message says so.
simcord runs one operation at a time, so the press is made from the painter's thread,
the way the button's handler makes it: ``job.cancel()`` on the runner's job."""

from __future__ import annotations

from collections.abc import Callable

import pytest

pytest.importorskip("discord")

from discordsim import World  # noqa: E402

from museforge.models.image.base import GenerateRequest, ImageResult, RunControl  # noqa: E402
from museforge.models.image.procedural import ProceduralPainter  # noqa: E402
from museforge.storage.models import Actor  # noqa: E402


class CancelledOncePainted(ProceduralPainter):
    """Once armed, its next picture is painted, then ``press()`` cancels the request
    before the picture is handed back to be stored."""

    def __init__(self) -> None:
        self.press: Callable[[], None] | None = None

    def generate(self, req: GenerateRequest, run: RunControl | None = None) -> ImageResult:
        out = super().generate(req, run)
        press, self.press = self.press, None
        if press is not None:
            press()
            assert run is not None and run.cancel is not None and run.cancel.is_set()
        return out


def test_a_request_cancelled_while_it_runs_stores_nothing_and_says_so(simulate, studio):
    painter = CancelledOncePainted()
    studio.assistant.services.image = painter

    async def scenario(env):
        w = World(env)
        await w.alice.slash(w.general, "imagine", prompt="a red barn")
        [thread] = w.general.threads

        def press() -> None:
            [(job, owner)] = env.bot.runner.jobs.values()
            assert owner == w.alice.id and job.state == "running"
            assert job.cancel()

        painter.press = press
        result = await w.alice.slash(thread, "imagine", prompt="a whale")

        assert painter.press is None  # it was pressed
        assert result.response.content == "Cancelled; nothing was made."
        assert result.response.attachments == []
        actor = Actor(studio.store.user("discord", str(w.alice.id)), str(w.guild.id))
        session = studio.store.find_session(
            actor, f"discord:guild:{w.guild.id}:thread:{thread.id}")
        assert [a.number for a in studio.store.list_artworks(actor, session)] == [1]
        assert studio.store.history(actor, session)[-1].text == "Cancelled; nothing was made."

    simulate(scenario)
