"""An edit that changes nothing makes no new version and says so: cropping a square
picture to 1:1, a whole turn, a resize to the size it has, a filter it already shows;
a piece moved to the key, mode, tempo, instrument, length or grid it already has,
transposed by 0. The head stays, nothing is written, "it" still means the artwork, and
undo afterwards undoes the last real change. The real tools, on the procedural painter
and the tiny melody model."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from museforge.assistant.offline import OfflinePlanner
from museforge.assistant.turn import Assistant
from museforge.models.image.procedural import ProceduralPainter
from museforge.storage.schema import Asset, Version
from museforge.tools.base import Services, ToolContext
from museforge.tools.registry import get_tool


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def ctx(store, me, chat, tiny_melody_model) -> ToolContext:
    return ToolContext(store, me, chat,
                       services=Services(image=ProceduralPainter(), melody=tiny_melody_model))


def run(ctx: ToolContext, name: str, **args: object):
    return get_tool(name).run(ctx, args)


def state(store, me, chat) -> tuple[int, int, list[tuple[int, int | None]]]:
    """(versions, assets, each artwork's (number, head)) across the session."""
    with Session(store.engine) as s:
        versions = s.scalar(select(func.count()).select_from(Version))
        assets = s.scalar(select(func.count()).select_from(Asset))
    heads = [(a.number, a.head_number) for a in store.list_artworks(me, chat)]
    return int(versions or 0), int(assets or 0), heads


def check_nothing_changed(ctx, store, me, chat, name: str, args: dict, reply: str) -> None:
    before = state(store, me, chat)
    changes = len(ctx.changes)
    out = run(ctx, name, **args)
    assert out.message == reply
    assert out.artifacts == []
    assert out.touched == [(int(args["artwork"].split()[0][1:]), get_tool(name).kind)]
    assert len(ctx.changes) == changes
    assert state(store, me, chat) == before


# -- pictures -------------------------------------------------------------------------------


REFRAMED_TO_WHAT_IT_IS = [
    ({"aspect": "1:1"}, "#1 is already square (1:1); nothing changed."),
    ({"aspect": " 1 : 1 "}, "#1 is already square (1:1); nothing changed."),
    ({"rotate": 360}, "Rotating by 360° leaves #1 as it is; nothing changed."),
    ({"rotate": -360}, "Rotating by -360° leaves #1 as it is; nothing changed."),
    ({"width": 512}, "#1 is already 512×512; nothing changed."),
    ({"width": 512, "height": 512}, "#1 is already 512×512; nothing changed."),
    ({"aspect": "1:1", "height": 512, "rotate": 360},
     "#1 is already square (1:1, 512×512); nothing changed."),
]


def test_reframing_a_picture_to_what_it_is_makes_no_version(sqlite_store, me, chat, ctx):
    run(ctx, "generate_image", prompt="a lighthouse", seed=1)  # 512×512
    for args, reply in REFRAMED_TO_WHAT_IT_IS:
        check_nothing_changed(ctx, sqlite_store, me, chat, "reframe_image",
                              {"artwork": "#1", **args}, reply)
    # A real change right after still is one.
    out = run(ctx, "reframe_image", artwork="#1", aspect="16:9")
    assert out.message == "Cropped #1 to 16:9 (512×288): now v2."
    assert sqlite_store.artwork(me, chat, 1).head_number == 2


def test_a_picture_of_another_aspect_says_its_own(sqlite_store, me, chat, ctx):
    run(ctx, "generate_image", prompt="a lighthouse", seed=1, aspect="3:2")  # 624×416
    check_nothing_changed(ctx, sqlite_store, me, chat, "reframe_image",
                          {"artwork": "#1", "aspect": "3:2"},
                          "#1 is already 3:2 (624×416); nothing changed.")
    # Not quite the aspect, a flip, half a turn, another size: each a new version.
    for number, args in enumerate(({"aspect": "16:9"}, {"flip": "horizontal"},
                                   {"rotate": 180}, {"rotate": 360, "width": 300}), start=2):
        out = run(ctx, "reframe_image", artwork="#1", **args)
        assert [(a.artwork, a.version) for a in out.artifacts] == [(1, number)], args


def test_a_filter_the_picture_already_shows_makes_no_version(sqlite_store, me, chat, ctx):
    run(ctx, "generate_image", prompt="a lighthouse", seed=1)
    out = run(ctx, "adjust_image", artwork="#1", filter="grayscale")
    assert out.message == "Adjusted #1 (grayscale): now v2."
    check_nothing_changed(ctx, sqlite_store, me, chat, "adjust_image",
                          {"artwork": "#1", "filter": "grayscale"},
                          "#1 already looks like that (grayscale); nothing changed.")
    out = run(ctx, "adjust_image", artwork="#1", brightness=1.3)
    assert [(a.artwork, a.version) for a in out.artifacts] == [(1, 3)]


def test_undo_after_a_no_op_undoes_the_last_real_change(sqlite_store, me, chat, ctx):
    run(ctx, "generate_image", prompt="a lighthouse", seed=1)
    run(ctx, "adjust_image", artwork="#1", brightness=1.3)  # v2
    check_nothing_changed(ctx, sqlite_store, me, chat, "reframe_image",
                          {"artwork": "#1", "aspect": "1:1"},
                          "#1 is already square (1:1); nothing changed.")
    run(ctx, "undo", artwork="#1")
    assert sqlite_store.artwork(me, chat, 1).head_number == 1
    assert [v.number for v in sqlite_store.versions(me, chat, 1)] == [1, 2]


# -- music ----------------------------------------------------------------------------------


@pytest.fixture
def piece(ctx):
    """#1: D minor, 90 bpm, the melody on the violin (whatever the tiny model plays)."""
    out = run(ctx, "compose_music", prompt="a calm tune", key="D minor", tempo=90,
              instrument="violin", seed=5)
    return out.artifacts[0].recipe


EDITED_TO_WHAT_IT_IS = [
    ({"mode": "minor"}, "#1 is already in D minor; nothing changed."),
    ({"key": "D minor"}, "#1 is already in D minor; nothing changed."),
    ({"key": "d minor", "mode": "minor"}, "#1 is already in D minor; nothing changed."),
    ({"tempo": 90}, "#1 is already at 90 bpm; nothing changed."),
    ({"instrument": "violin"}, "#1 is already on Violin; nothing changed."),
    ({"instrument": "Violin", "part": "melody", "key": "D minor", "tempo": 90.0},
     "#1 is already in D minor, at 90 bpm and on Violin; nothing changed."),
    ({"transpose": 0}, "Transposing by 0 semitones leaves #1 as it is; nothing changed."),
    ({"tempo_scale": 1.0}, "A tempo ×1 leaves #1 as it is; nothing changed."),
    ({"humanize": 0.0}, "Humanizing by 0 leaves #1 as it is; nothing changed."),
    ({"transpose": 0, "mode": "minor"}, "#1 is already in D minor; nothing changed."),
]


def test_editing_a_piece_to_what_it_is_makes_no_version(sqlite_store, me, chat, ctx, piece):
    for args, reply in EDITED_TO_WHAT_IT_IS:
        check_nothing_changed(ctx, sqlite_store, me, chat, "edit_music",
                              {"artwork": "#1", **args}, reply)
    out = run(ctx, "edit_music", artwork="#1", mode="major")
    assert out.message == "Edited #1 (to major): now v2."
    assert sqlite_store.resolve(me, chat, "#1")[1].recipe["key"] == "D major"


def test_the_length_and_the_grid_it_already_has(sqlite_store, me, chat, ctx, piece):
    bars = piece["bars"]
    check_nothing_changed(ctx, sqlite_store, me, chat, "edit_music",
                          {"artwork": "#1", "bars": bars},
                          f"#1 is already {bars} bars long; nothing changed.")
    run(ctx, "edit_music", artwork="#1", humanize=0.8, seed=2)  # v2: off the grid
    out = run(ctx, "edit_music", artwork="#1", quantize="1/32")
    assert [(a.artwork, a.version) for a in out.artifacts] == [(1, 3)]
    check_nothing_changed(ctx, sqlite_store, me, chat, "edit_music",
                          {"artwork": "#1", "quantize": "1/32"},
                          "#1 is already on the 1/32 grid; nothing changed.")


REAL_CHANGES = [
    {"key": "D major"},  # the other mode
    {"key": "E minor"},
    {"key": "D minor", "tempo": 120},  # one change among the same is still a change
    {"mode": "minor", "transpose": 2},
    {"tempo": 90.5},
    {"tempo_scale": 1.1},
    {"instrument": "cello"},
    {"instrument": "violin", "part": "all"},  # the chords and bass play something else
    {"bars": 4},
    {"humanize": 0.3, "seed": 1},
]


def test_a_real_change_among_them_makes_a_version(sqlite_store, me, chat, ctx, piece):
    for number, args in enumerate(REAL_CHANGES, start=2):
        out = run(ctx, "edit_music", artwork="#1 v1", **args)
        assert [(a.artwork, a.version) for a in out.artifacts] == [(1, number)], \
            (args, out.message)
        assert "nothing changed" not in out.message


def test_an_older_version_is_named_and_the_head_stays(sqlite_store, me, chat, ctx, piece):
    run(ctx, "edit_music", artwork="#1", tempo=120)  # v2
    check_nothing_changed(ctx, sqlite_store, me, chat, "edit_music",
                          {"artwork": "#1 v1", "tempo": 90},
                          "#1 v1 is already at 90 bpm; nothing changed.")
    assert sqlite_store.artwork(me, chat, 1).head_number == 2
    run(ctx, "undo", artwork="#1")
    assert sqlite_store.artwork(me, chat, 1).head_number == 1


# -- through a turn -------------------------------------------------------------------------


def test_a_turn_that_changes_nothing_is_ok_and_undo_undoes_the_real_change(
        sqlite_store, me, chat, tiny_melody_model):
    assistant = Assistant(sqlite_store, OfflinePlanner(),
                          services=Services(image=ProceduralPainter(), melody=tiny_melody_model))
    result = assistant.turn(me, chat, "compose a calm piano piece in D minor, seed 5")
    assert [c.ok for c in result.calls] == [True]
    result = assistant.turn(me, chat, "a bit faster")
    assert [(a.artwork, a.version) for a in result.artifacts] == [(1, 2)]

    result = assistant.turn(me, chat, "make it minor")
    [call] = result.calls
    assert (call.name, call.ok, call.error) == ("edit_music", True, None)
    assert result.artifacts == []
    assert result.reply == "#1 is already in D minor; nothing changed."
    assert [v.number for v in sqlite_store.versions(me, chat, 1)] == [1, 2]
    assert sqlite_store.artwork(me, chat, 1).head_number == 2

    result = assistant.turn(me, chat, "undo")
    assert [c.ok for c in result.calls] == [True], result.reply
    assert sqlite_store.artwork(me, chat, 1).head_number == 1  # the tempo change undone
