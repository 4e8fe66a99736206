"""Cancel means cancel: a turn cancelled while its tool runs stops at the tool's next
step, stores nothing it had not stored before the cancel (a result computed while the
person was cancelling is thrown away), says exactly what was kept, and leaves nothing
that a later "undo" or "it" acts on. Real tools, the real SQLite store; the timing is
made deterministic by backends that cancel (or wait for the cancel) at a chosen point."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from museforge.assistant.jobs import JobQueue
from museforge.assistant.offline import OfflinePlanner
from museforge.assistant.turn import Assistant, cancelled_reply
from museforge.models.image.base import GenerateRequest, ImageResult, RunControl
from museforge.models.image.procedural import ProceduralPainter
from museforge.tools.base import Cancelled, Change, Services, ToolContext

Hook = Callable[[RunControl], None]


class HookedPainter(ProceduralPainter):
    """The procedural painter, with a test's hook run once before a method's steps
    (``hooks["generate", "before"]``: the cancel arrives while it paints) or after them
    (``"after"``: it arrives once the pixels are computed, before they are stored)."""

    def __init__(self) -> None:
        self.hooks: dict[tuple[str, str], Hook] = {}

    def _around(self, method: str, run: RunControl | None,
                paint: Callable[[], ImageResult]) -> ImageResult:
        assert run is not None and run.cancel is not None
        if hook := self.hooks.pop((method, "before"), None):
            hook(run)
        out = paint()
        if hook := self.hooks.pop((method, "after"), None):
            hook(run)
        return out

    def generate(self, req: GenerateRequest, run: RunControl | None = None) -> ImageResult:
        return self._around("generate", run,
                            lambda: super(HookedPainter, self).generate(req, run))

    def img2img(self, image: Any, req: GenerateRequest, strength: float,
                run: RunControl | None = None) -> ImageResult:
        return self._around("img2img", run, lambda: super(HookedPainter, self).img2img(
            image, req, strength, run))


def cancel_now(run: RunControl) -> None:
    """The person cancels (Ctrl-C, DELETE /api/jobs/ID, the Cancel button)."""
    assert run.cancel is not None
    run.cancel.set()


class CancelsAfterSampling:
    """The melody model, but the cancel arrives once the melodies are sampled (while
    the piece is being put together, before anything is stored)."""

    def __init__(self, model: Any, cancel: threading.Event):
        self.model, self.cancel = model, cancel

    def __getattr__(self, name: str) -> Any:
        return getattr(self.model, name)

    def sample(self, *args: Any, **kwargs: Any) -> Any:
        out = self.model.sample(*args, **kwargs)
        self.cancel.set()
        return out


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def painter() -> HookedPainter:
    return HookedPainter()


@pytest.fixture
def assistant(store, painter, tiny_melody_model):
    return Assistant(store, OfflinePlanner(),
                     services=Services(image=painter, melody=tiny_melody_model))


def ok(assistant, me, chat, text):
    result = assistant.turn(me, chat, text)
    assert result.calls and all(c.ok for c in result.calls), (text, result.reply)
    assert not result.cancelled
    return result


def heads(store, me, chat) -> dict[int, int]:
    return {a.number: a.head_number for a in store.list_artworks(me, chat)}


def asset_files(home: Path) -> set[Path]:
    return {p for p in home.rglob("*") if p.is_file() and p.suffix in (".png", ".mid", ".ogg")}


def fox_with_two_versions(assistant, me, chat):
    """#1 at v2: what "it" means, and what "undo" acts on, before the cancelled turn."""
    ok(assistant, me, chat, "paint a fox in the snow, seed 1")
    ok(assistant, me, chat, "warmer")


def check_forgotten(store, me, chat, result, assistant, *, before: dict[int, int]):
    """The cancelled turn's reply is stored as said, none of its calls is what "it"
    means next, and "undo" goes back to what came before it (#1 v2 -> v1)."""
    reply = store.history(me, chat)[-1]
    assert reply.role == "assistant" and reply.text == result.reply
    assert reply.tool_calls and all(c["cancelled"] and c["touched"] == []
                                    for c in reply.tool_calls)
    undone = ok(assistant, me, chat, "undo")
    assert undone.calls[0].args == {"artwork": "#1"}
    assert undone.reply == "Undid the last change to #1: now at v1 (was v2)."
    assert heads(store, me, chat) == {**before, 1: 1}


# -- a cancel while the tool runs: nothing is stored ----------------------------------------


def test_a_cancel_while_painting_stops_at_the_next_step_and_stores_nothing(
        store, me, chat, assistant, painter, museforge_home):
    fox_with_two_versions(assistant, me, chat)
    files = asset_files(museforge_home)
    steps: list[tuple[str, int, int]] = []
    painter.hooks["generate", "before"] = cancel_now  # as it starts painting

    result = assistant.turn(me, chat, "paint 3 pictures of a whale",
                            progress=lambda *step: steps.append(step))

    assert steps == []  # its first step saw the cancel: no picture was painted
    [call] = result.calls
    assert (call.name, call.ok, call.error, call.cancelled) == (
        "generate_image", False, "cancelled", True)
    assert result.cancelled and result.kept == [] and result.artifacts == []
    assert result.reply == "Cancelled; nothing was made."
    assert heads(store, me, chat) == {1: 2}
    assert asset_files(museforge_home) == files  # not even an orphaned file
    check_forgotten(store, me, chat, result, assistant, before={1: 2})


def test_pictures_computed_when_the_cancel_comes_are_thrown_away_not_stored(
        store, me, chat, assistant, painter, museforge_home):
    fox_with_two_versions(assistant, me, chat)
    files = asset_files(museforge_home)
    painter.hooks["generate", "after"] = cancel_now  # every step ran; then the cancel

    result = assistant.turn(me, chat, "paint 2 pictures of a whale")

    assert result.calls[0].error == "cancelled" and result.artifacts == []
    assert result.reply == "Cancelled; nothing was made."
    assert heads(store, me, chat) == {1: 2} and asset_files(museforge_home) == files
    check_forgotten(store, me, chat, result, assistant, before={1: 2})


def test_an_edit_cancelled_before_it_is_stored_adds_no_version(store, me, chat, assistant,
                                                              painter):
    fox_with_two_versions(assistant, me, chat)
    painter.hooks["img2img", "after"] = cancel_now

    result = assistant.turn(me, chat, "make it snowy at night")

    assert [(c.name, c.error) for c in result.calls] == [("edit_image", "cancelled")]
    assert result.reply == "Cancelled; nothing was made."
    assert [v.number for v in store.versions(me, chat, 1)] == [1, 2]
    check_forgotten(store, me, chat, result, assistant, before={1: 2})


def test_a_piece_composed_when_the_cancel_comes_is_not_stored(store, me, chat, assistant,
                                                             tiny_melody_model,
                                                             museforge_home):
    fox_with_two_versions(assistant, me, chat)
    files = asset_files(museforge_home)
    cancel = threading.Event()
    assistant.services.melody = CancelsAfterSampling(tiny_melody_model, cancel)

    result = assistant.turn(me, chat, "compose a calm piano piece, seed 2", cancel=cancel)

    assert [(c.name, c.error) for c in result.calls] == [("compose_music", "cancelled")]
    assert result.reply == "Cancelled; nothing was made."
    assert heads(store, me, chat) == {1: 2} and asset_files(museforge_home) == files
    assistant.services.melody = tiny_melody_model
    check_forgotten(store, me, chat, result, assistant, before={1: 2})


# -- a cancel that comes too late for part of the turn: that part is kept and said -------------


def test_a_batch_cancelled_after_its_first_picture_keeps_that_one_and_says_so(
        store, me, chat, assistant):
    fox_with_two_versions(assistant, me, chat)
    cancel = threading.Event()
    create = store.create_artwork

    def create_then_cancel(*args: Any, **kwargs: Any) -> Any:
        made = create(*args, **kwargs)
        cancel.set()  # the cancel comes just after the first picture was stored
        return made

    store.create_artwork = create_then_cancel
    try:
        result = assistant.turn(me, chat, "paint 3 pictures of a whale", cancel=cancel)
    finally:
        del store.create_artwork

    assert result.reply == "Cancelled. #2 was already made before the cancel and is kept."
    assert result.kept == [Change("artwork", 2, 1)]
    [call] = result.calls
    assert (call.ok, call.error) == (False, "cancelled")
    assert [(a.artwork, a.version) for a in result.artifacts] == [(2, 1)]
    assert result.artifacts[0].files["png"].is_file()
    assert heads(store, me, chat) == {1: 2, 2: 1}  # #3 and #4 were never stored
    check_forgotten(store, me, chat, result, assistant, before={1: 2, 2: 1})


def test_a_cancelled_call_stops_the_turn_and_a_call_finished_before_it_is_kept(
        store, me, chat, assistant, painter):
    fox_with_two_versions(assistant, me, chat)
    # The cancel comes as the first call's picture is computed, before it is stored: the
    # picture is dropped, and the second call never runs.
    painter.hooks["img2img", "after"] = cancel_now

    result = assistant.turn(me, chat, "make it snowy, then make it brighter")

    assert [(c.name, c.error, c.ran) for c in result.calls] == [
        ("edit_image", "cancelled", True), ("adjust_image", "cancelled", False)]
    assert result.reply == "Cancelled; nothing was made."
    assert heads(store, me, chat) == {1: 2}

    painter.hooks["img2img", "before"] = cancel_now  # now the second call is stopped
    result = assistant.turn(me, chat, "brighter, then a strong variation of it")

    assert [(c.name, c.ok) for c in result.calls] == [("adjust_image", True),
                                                    ("vary_image", False)]
    assert result.reply == "Cancelled. #1 v3 was already made before the cancel and is kept."
    assert heads(store, me, chat) == {1: 3}

    # A new artwork made before the cancel is kept too, but it is not what "it" means
    # next: nothing of a cancelled turn is.
    painter.hooks["img2img", "before"] = cancel_now
    result = assistant.turn(me, chat, "paint a whale, then a strong variation of it")

    assert [(c.name, c.ok) for c in result.calls] == [("generate_image", True),
                                                    ("vary_image", False)]
    assert result.reply == "Cancelled. #2 was already made before the cancel and is kept."
    assert heads(store, me, chat) == {1: 3, 2: 1}
    assert [c["touched"] for c in store.history(me, chat)[-1].tool_calls] == [[], []]
    undone = ok(assistant, me, chat, "undo")  # #1, the last thing "it" was; not #2
    assert undone.reply == "Undid the last change to #1: now at v2 (was v3)."


def test_what_a_cancelled_turn_says_it_kept():
    assert cancelled_reply([]) == "Cancelled; nothing was made."
    assert cancelled_reply([Change("artwork", 3, 1), Change("artwork", 4, 1),
                            Change("version", 1, 5)]) == (
        "Cancelled. #3, #4 and #1 v5 were already made before the cancel and are kept.")
    assert cancelled_reply([Change("head", 2, 1)]) == (
        "Cancelled. The change to #2 (now at v1) was already done before the cancel and "
        "is kept.")
    assert cancelled_reply([Change("artwork", 3, 1), Change("head", 2, 1),
                            Change("head", 5, 2)]) == (
        "Cancelled. #3 was already made before the cancel and is kept. The changes to "
        "#2 (now at v1) and #5 (now at v2) were also done before the cancel and are kept.")


def test_a_tool_writes_nothing_once_cancelled(store, me, chat):
    cancel = threading.Event()
    ctx = ToolContext(store, me, chat, cancel=cancel)
    art, _ = ctx.store.create_artwork(me, chat, "image", title="a", operation="test",
                                      recipe={}, files={"png": _file()})
    cancel.set()
    for write in (lambda: ctx.store.add_version(me, chat, art.number, operation="test",
                                                recipe={}, files={"png": _file()}),
                  lambda: ctx.store.create_artwork(me, chat, "image", title="b",
                                                   operation="test", recipe={},
                                                   files={"png": _file()}),
                  lambda: ctx.store.undo(me, chat, art.number)):
        with pytest.raises(Cancelled):
            write()
    assert ctx.changes == [Change("artwork", 1, 1)]
    assert ctx.store.artwork(me, chat, 1).version_count == 1  # reads still work
    assert heads(store, me, chat) == {1: 1}


def _file():
    from museforge.storage.models import FileIn

    return FileIn(b"\x89PNG not really", "image/png")


# -- through the shared job queue, as the web and Discord cancel ----------------------------


def test_a_job_cancelled_while_its_tool_runs_stores_nothing_even_later(
        store, me, chat, assistant, painter):
    fox_with_two_versions(assistant, me, chat)
    started = threading.Event()

    def wait_for_the_cancel(run: RunControl) -> None:
        started.set()
        assert run.cancel is not None and run.cancel.wait(10)

    painter.hooks["generate", "before"] = wait_for_the_cancel
    queue = JobQueue(workers=1)
    try:
        def turn(text: str) -> Callable[[Any], Any]:
            return lambda job: assistant.turn(me, chat, text, cancel=job.cancel_event)

        job = queue.submit("me", turn("paint a whale"))
        assert started.wait(10)
        later = queue.submit("me", turn("undo"))  # sent while the whale is being painted
        assert job.cancel() is True  # running: it will stop at its next step

        result = job.future.result(10)
        undone = later.future.result(10)
    finally:
        queue.close()

    assert job.state == "cancelled" and result.cancelled
    assert result.reply == "Cancelled; nothing was made."
    assert undone.reply == "Undid the last change to #1: now at v1 (was v2)."
    assert heads(store, me, chat) == {1: 1}  # no whale, then or after the later turn
    assert [m.text for m in store.history(me, chat)][-4:] == [
        "paint a whale", "Cancelled; nothing was made.", "undo", undone.reply]
