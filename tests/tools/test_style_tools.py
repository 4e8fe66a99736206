"""learn_style, list_styles, forget_style and learnt_style on the music tools, through the
real tools and store (SQLite file), on the tiny random-weight melody model: a person's
MIDI files come in as artworks, a style is learnt from them and used; another person
never sees it; a training that fails, crashes or is cancelled leaves no style."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from museforge.models.music.midi import to_midi_bytes
from museforge.storage.errors import NotFound
from museforge.storage.models import Actor, Scope
from museforge.tools.base import Cancelled, Services, ToolContext, ToolError
from museforge.tools.music_support import import_midi
from museforge.tools.registry import get_tool
from tests.models.music.test_finetune import aird_jigs


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture(scope="module")
def jig_midi(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("jigs")
    paths = []
    for i, piece in enumerate(aird_jigs(5)):
        path = folder / f"jig{i + 1}.mid"
        path.write_bytes(to_midi_bytes(piece))
        paths.append(path)
    return paths


@pytest.fixture
def ctx(store, me, chat, tiny_melody_model):
    return ToolContext(store, me, chat, services=Services(melody=tiny_melody_model))


def run(ctx, tool_name, **args):
    return get_tool(tool_name).run(ctx, args)


def attach(ctx, paths) -> list[str]:
    return [import_midi(ctx, p).ref for p in paths]


def test_a_style_is_learnt_from_midi_and_used(ctx, jig_midi):
    refs = attach(ctx, jig_midi)

    said = run(ctx, "learn_style", name="My Jigs", artworks=refs, steps=50).message

    assert said.startswith("Learnt music style 'My Jigs' from 5 pieces")
    assert "reconstruction" in said and "nats per phrase" in said and "closer" in said
    [style] = ctx.store.list_styles(ctx.actor)
    assert (style.name, style.kind, style.version) == ("My Jigs", "music", 1)
    assert style.recipe["base"]["revision"] == "tiny-random"
    assert [d["artwork"] for d in style.recipe["data"]] == [1, 2, 3, 4, 5]
    assert style.weights.read_bytes()[8:9] == b"{"  # a safetensors header
    assert "'My Jigs' (music, v1 from 5 pieces)" in run(ctx, "list_styles").message

    plain = run(ctx, "compose_music", prompt="a jig", time_signature="6/8", seed=7)
    styled = run(ctx, "compose_music", prompt="a jig", time_signature="6/8", seed=7,
                 learnt_style="my jigs")
    recipe = styled.artifacts[0].recipe
    assert recipe["learnt_style"]["name"] == "My Jigs" and recipe["learnt_style"]["version"] == 1
    assert recipe["model_revision"] == style.recipe["revision"] != "tiny-random"
    assert "learnt_style" not in plain.artifacts[0].recipe
    assert plain.artifacts[0].files["mid"].read_bytes() != \
        styled.artifacts[0].files["mid"].read_bytes()

    varied = run(ctx, "vary_music", artwork=styled.artifacts[0].ref, seed=1,
                 learnt_style="My Jigs")
    assert varied.artifacts[0].recipe["learnt_style"]["name"] == "My Jigs"
    longer = run(ctx, "continue_music", artwork=styled.artifacts[0].ref, bars=2, seed=1,
                 learnt_style="My Jigs")
    assert longer.artifacts[0].recipe["learnt_style"]["name"] == "My Jigs"


def test_the_built_in_style_argument_still_means_the_built_in_style(ctx):
    made = run(ctx, "compose_music", prompt="a waltz", style="waltz", seed=3)
    assert made.artifacts[0].recipe["args"]["style"] == "waltz"
    assert made.artifacts[0].recipe["time_signature"] == [3, 4]


def test_learning_a_name_again_makes_a_new_version(ctx, jig_midi):
    refs = attach(ctx, jig_midi)
    run(ctx, "learn_style", name="jigs", artworks=refs[:4], steps=50)

    said = run(ctx, "learn_style", name="Jigs", artworks=refs, steps=50).message

    assert said.startswith("Learnt v2 of music style 'jigs'")
    style = ctx.store.style(ctx.actor, "jigs")
    assert style.version == 2 and style.recipe["started_from"] == 1
    assert style.weights != ctx.store.style(ctx.actor, "jigs", version=1).weights


def test_another_persons_style_and_artworks_are_not_found(ctx, store, jig_midi,
                                                          tiny_melody_model):
    refs = attach(ctx, jig_midi)
    run(ctx, "learn_style", name="jigs", artworks=refs, steps=50)
    someone = Actor(store.user("web", "mallory", "Mallory"))
    theirs = ToolContext(store, someone, store.session(someone, Scope.web("mallory", "x")),
                         services=Services(melody=tiny_melody_model))

    assert run(theirs, "list_styles").message.startswith("You have no learnt styles")
    with pytest.raises(NotFound, match="no music style called 'jigs'"):
        run(theirs, "compose_music", prompt="a jig", learnt_style="jigs")
    with pytest.raises(NotFound, match="no style called 'jigs'"):
        run(theirs, "forget_style", name="jigs")
    with pytest.raises(NotFound, match="no artwork #1"):
        run(theirs, "learn_style", name="stolen", artworks=["#1"], steps=50)
    assert store.list_styles(someone) == []
    assert [s.name for s in store.list_styles(ctx.actor)] == ["jigs"]


def test_forgetting_a_style(ctx, jig_midi):
    refs = attach(ctx, jig_midi)
    run(ctx, "learn_style", name="jigs", artworks=refs, steps=50)

    assert run(ctx, "forget_style", name="JIGS").message == "Forgot music style 'jigs'."
    assert ctx.store.list_styles(ctx.actor) == []
    with pytest.raises(NotFound):
        run(ctx, "compose_music", prompt="a jig", learnt_style="jigs")


def test_too_few_notes_fails_and_leaves_no_style(ctx, jig_midi, tmp_path):
    from museforge.models.music.piece import Note, Part, Piece

    short = tmp_path / "short.mid"
    short.write_bytes(to_midi_bytes(Piece([Part("melody", notes=[
        Note(60 + i, i, i + 1) for i in range(6)])])))
    refs = attach(ctx, [short])

    with pytest.raises(ToolError, match="too few notes to learn a style from: 6 notes"):
        run(ctx, "learn_style", name="tiny", artworks=refs, steps=50)
    assert ctx.store.list_styles(ctx.actor) == []


@pytest.mark.parametrize("stop", ["cancel", "crash"])
def test_a_training_stopped_midway_leaves_no_style(ctx, jig_midi, stop):
    refs = attach(ctx, jig_midi)
    run(ctx, "learn_style", name="kept", artworks=refs, steps=50)
    seen = []

    def progress(what, step, total):
        seen.append(step)
        if stop == "cancel":
            ctx.cancel.set()
        else:
            raise RuntimeError("the machine fell over")

    ctx.progress = progress
    with pytest.raises(Cancelled if stop == "cancel" else RuntimeError):
        run(ctx, "learn_style", name="half", artworks=refs, steps=100)
    with pytest.raises(Cancelled if stop == "cancel" else RuntimeError):
        run(ctx, "learn_style", name="kept", artworks=refs, steps=100)  # no half v2 either

    assert seen and seen[0] == 25
    assert [(s.name, s.version) for s in ctx.store.list_styles(ctx.actor)] == [("kept", 1)]


def test_one_training_per_person_at_a_time(ctx, store, me, jig_midi, tiny_melody_model):
    refs = attach(ctx, jig_midi)
    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold(what, step, total):
        started.set()
        release.wait(30)

    first = ToolContext(store, me, ctx.session, services=Services(melody=tiny_melody_model),
                        progress=hold)

    def train():
        try:
            run(first, "learn_style", name="first", artworks=refs, steps=50)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    worker = threading.Thread(target=train)
    worker.start()
    try:
        assert started.wait(60)
        with pytest.raises(ToolError, match="already have a style training"):
            run(ctx, "learn_style", name="second", artworks=refs, steps=50)
    finally:
        release.set()
        worker.join(60)
    assert not errors
    assert [s.name for s in store.list_styles(me)] == ["first"]


def test_a_picture_style_from_music_alone_is_refused_with_the_reason(ctx, jig_midi):
    refs = attach(ctx, jig_midi[:1])
    with pytest.raises(ToolError) as err:
        run(ctx, "learn_style", name="pip", artworks=refs, kind="image")
    assert str(err.value) == "no picture could be learnt from: #1 (it is music, not a picture)"
    assert ctx.store.list_styles(ctx.actor) == []


def test_learning_from_a_picture_is_refused(ctx, jig_midi):
    from museforge.storage.models import FileIn

    refs = attach(ctx, jig_midi[:2])
    ctx.store.create_artwork(ctx.actor, ctx.session, "image", title="a fox",
                             operation="generate_image", recipe={},
                             files={"png": FileIn(b"png", "image/png")})
    with pytest.raises(ToolError, match="different kinds"):
        run(ctx, "learn_style", name="mixed", artworks=[*refs, "#3"])
    with pytest.raises(ToolError, match="#3 is image"):
        run(ctx, "learn_style", name="mixed", artworks=[*refs, "#3"], kind="music")


def test_the_estimate_counts_the_training_steps(ctx):
    from museforge.tools.costs import estimate

    args = get_tool("learn_style").args.model_validate(
        {"name": "x", "artworks": ["#1"], "steps": 500})
    assert estimate("learn_style", ctx, args) > estimate(
        "learn_style", ctx, args.model_copy(update={"steps": 100}))


def test_pieces_made_with_a_style_replay_identically(ctx, jig_midi):
    from museforge.tools.replay import replay

    refs = attach(ctx, jig_midi)
    run(ctx, "learn_style", name="jigs", artworks=refs, steps=50)
    composed = run(ctx, "compose_music", prompt="a jig", time_signature="6/8", seed=2,
                   learnt_style="jigs").artifacts[0]
    varied = run(ctx, "vary_music", artwork=composed.ref, seed=4,
                 learnt_style="jigs").artifacts[0]
    run(ctx, "learn_style", name="jigs", artworks=refs, steps=50)  # v2 is newer now

    for made in (composed, varied):
        report = replay(ctx, made.ref)
        assert report.identical, report.detail
