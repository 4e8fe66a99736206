"""The terminal chat's Ctrl-C: it cancels the running turn (the tool stops at its next
step, nothing more is stored), the chat waits for the turn to end before the next one,
and the reply says what was kept."""

from __future__ import annotations

import _thread
import io
from typing import Any

from rich.console import Console

from museforge.assistant.offline import OfflinePlanner
from museforge.assistant.turn import Assistant
from museforge.bots.service import Studio
from museforge.bots.terminal import TerminalChat
from museforge.models.image.base import GenerateRequest, ImageResult, RunControl
from museforge.models.image.procedural import ProceduralPainter
from museforge.storage.models import Actor, Scope
from museforge.tools.base import Services


class CtrlCWhilePainting(ProceduralPainter):
    """Presses Ctrl-C (a KeyboardInterrupt in the main thread) once, as the picture
    starts, and goes on painting only after the chat has set the turn's cancel."""

    def __init__(self) -> None:
        self.armed = False

    def generate(self, req: GenerateRequest, run: RunControl | None = None) -> ImageResult:
        if self.armed:
            self.armed = False
            assert run is not None and run.cancel is not None
            _thread.interrupt_main()
            assert run.cancel.wait(10), "Ctrl-C did not cancel the turn"
        return super().generate(req, run)


def test_ctrl_c_cancels_the_running_turn_and_nothing_of_it_is_stored(sqlite_store):
    store = sqlite_store
    me = Actor(store.local_user())
    chat = store.session(me, Scope.local("default"))
    painter = CtrlCWhilePainting()
    studio = Studio(store, Assistant(store, OfflinePlanner(), services=Services(image=painter)))
    screen = io.StringIO()
    term = TerminalChat(studio, me, chat, Console(file=screen, width=200))
    assert term.say("paint a fox in the snow").calls[0].ok
    assert term.say("warmer").calls[0].ok

    painter.armed = True
    result: Any = term.say("paint a whale")  # Ctrl-C is pressed while it paints

    assert result is not None and result.cancelled
    assert result.reply == "Cancelled; nothing was made."
    assert "Cancelled; nothing was made." in screen.getvalue()
    assert [(a.number, a.head_number) for a in store.list_artworks(me, chat)] == [(1, 2)]
    undone = term.say("undo")
    assert undone is not None
    assert undone.reply == "Undid the last change to #1: now at v1 (was v2)."
    assert [(a.number, a.head_number) for a in store.list_artworks(me, chat)] == [(1, 1)]
    studio.queue.close()


class WaitsForCancel(ProceduralPainter):
    """Paints only once the turn's cancel is set (or 10 s have passed)."""

    def generate(self, req: GenerateRequest, run: RunControl | None = None) -> ImageResult:
        assert run is not None and run.cancel is not None
        run.cancel.wait(10)
        return super().generate(req, run)


def test_ctrl_c_while_the_turn_is_still_being_queued_cancels_it(sqlite_store):
    """The tool may start before the chat is back from queueing the turn: a Ctrl-C then
    (here: pressed by the queue itself, as it hands the turn over) still cancels it."""
    store = sqlite_store
    me = Actor(store.local_user())
    chat = store.session(me, Scope.local("default"))
    studio = Studio(store, Assistant(store, OfflinePlanner(),
                                     services=Services(image=WaitsForCancel())))
    queue_submit = studio.queue.submit

    def submit_then_ctrl_c(*args: Any, **kwargs: Any) -> Any:
        handle = queue_submit(*args, **kwargs)
        _thread.interrupt_main()  # Ctrl-C before the chat starts waiting
        return handle

    studio.queue.submit = submit_then_ctrl_c  # type: ignore[method-assign]
    screen = io.StringIO()
    term = TerminalChat(studio, me, chat, Console(file=screen, width=200))
    result: Any = term.say("paint a whale")

    assert result is not None and result.cancelled, result and result.reply
    assert store.list_artworks(me, chat) == []
    studio.queue.close()


def test_piped_chat_prints_each_path_whole(tmp_path):
    """Piped (`museforge chat < file | cat`), rich thinks the page is 80 columns wide: a
    path must still come out on one line, to copy or to read by a script."""
    import io

    from rich.console import Console

    from museforge.bots.terminal import TerminalOutput
    from museforge.tools.base import Artifact

    out = io.StringIO()
    path = tmp_path / ("a" * 60) / ("b" * 64 + ".png")
    TerminalOutput(Console(file=out, width=80), no_inline=True).image(
        Artifact(artwork=1, version=2, title="a fox in the snow", kind="image",
                 files={"png": path}, recipe={}))
    assert str(path) in out.getvalue().replace("\n", " ") and \
        str(path) in out.getvalue().splitlines()[0]
