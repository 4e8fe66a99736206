"""Styles a person teaches, through the offline planner: "learn my style from #2, #3 and
#4 as Aird" (a capitalised name is kept as written, never "corrected"), "list my styles",
"forget the style Aird", and "a jig in my Aird style" (compose_music's ``learnt_style``;
``style`` stays the form). Real ``--plan-only`` turns.

Session: #1 "a red fox" (image), #2-#4 reels (music), the three reels in focus."""

from __future__ import annotations

import pytest


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def reels(paint, remember):
    paint("a red fox")
    for title in ("the first reel", "the second reel", "the third reel"):
        paint(title, kind="music")
    remember([2, 3, 4], kind="music")


CASES = [
    ("learn my style from #2, #3 and #4 as Aird",
     [("learn_style", {"name": "Aird", "artworks": ["#2", "#3", "#4"], "kind": "music"})]),
    ("learn the feel of these reels and call it session tunes",
     [("learn_style", {"name": "session tunes", "artworks": ["#2", "#3", "#4"]})]),
    ('remember these tunes as "Grandad"', [("learn_style", {"name": "Grandad"})]),
    ("list my styles", [("list_styles", {})]),
    ("what styles have you learnt?", [("list_styles", {})]),
    ("forget the style Aird", [("forget_style", {"name": "Aird"})]),
    ("compose a jig in my Aird style",
     [("compose_music", {"style": "jig", "learnt_style": "Aird"})]),
    ("write a slow tune using my Grandad style",
     [("compose_music", {"learnt_style": "Grandad"})]),
]


@pytest.mark.parametrize(("message", "want"), CASES)
def test_styles_are_taught_listed_forgotten_and_used(me, chat, assistant, reels, message,
                                                     want):
    result = assistant.turn(me, chat, message, plan_only=True)
    got = [(c.name, c.args) for c in result.calls]
    assert [name for name, _ in got] == [name for name, _ in want], (got, result.reply)
    for (_, args), (_, wanted) in zip(got, want, strict=True):
        for key, value in wanted.items():
            assert args.get(key) == value, args


@pytest.mark.parametrize("message", ["compose a waltz in my usual style",
                                     "compose a tune in the style of a march"])
def test_a_form_or_a_habit_is_not_a_taught_style(me, chat, assistant, reels, message):
    result = assistant.turn(me, chat, message, plan_only=True)
    assert [c.name for c in result.calls] == ["compose_music"]
    assert "learnt_style" not in result.calls[0].args


def test_a_style_that_was_never_taught_is_a_clear_error(me, chat, assistant, reels):
    result = assistant.turn(me, chat, "compose a jig in my Nonesuch style")
    assert [c.name for c in result.calls] == ["compose_music"] and not result.calls[0].ok
    assert "no music style called" in result.reply and "nonesuch" in result.reply.lower()


@pytest.fixture
def pictures(paint, remember):
    paint("a harbour at dawn")
    paint("a cat on a wall")
    remember([2])


PICTURE_CASES = [
    ("paint a harbour in my Aird style",
     [("generate_image", {"prompt": "a harbour", "learnt_style": ["Aird"]})]),
    ("a castle in my Aird and Rust styles",
     [("generate_image", {"prompt": "a castle", "learnt_style": ["Aird", "Rust"]})]),
    ("a lighthouse in my Aird style, lightly",
     [("generate_image", {"learnt_style": ["Aird"], "learnt_strength": 0.4})]),
    ("make #1 snowy in my Aird style",
     [("edit_image", {"artwork": "#1", "learnt_style": ["Aird"]})]),
    ("remember this character as Pip",
     [("learn_style", {"name": "Pip", "artworks": ["#2"], "kind": "image", "character": True})]),
    ("list my picture styles", [("list_styles", {"kind": "image"})]),
]


@pytest.mark.parametrize(("message", "want"), PICTURE_CASES)
def test_picture_styles_are_taught_and_painted_with(me, chat, assistant, pictures, message,
                                                    want):
    result = assistant.turn(me, chat, message, plan_only=True)
    got = [(c.name, c.args) for c in result.calls]
    assert [name for name, _ in got] == [name for name, _ in want], (got, result.reply)
    for (_, args), (_, wanted) in zip(got, want, strict=True):
        for key, value in wanted.items():
            assert args.get(key) == value, args
    assert "style" not in str(got[0][1].get("prompt", "")).lower()  # the name is not painted
