"""A message that corrects itself takes back the word it replaces: real ``--plan-only``
turns on a real SQLite store. Phrasings written for these tests, not from the corpus."""

from __future__ import annotations

import pytest

from museforge.assistant.corrections import take_back


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def plan(assistant, me, chat, message):
    result = assistant.turn(me, chat, message, plan_only=True)
    return result, [(c.name, c.args) for c in result.calls if c.ok]


@pytest.mark.parametrize(("message", "tool", "arg", "value", "gone"), [
    ("a polka on the accordion, no wait, banjo", "compose_music", "instrument", "banjo",
     "accordion"),
    ("write me a hornpipe in F, I mean A", "compose_music", "key", "A major", None),
    ("a lullaby in 3/4 - sorry, 6/8", "compose_music", "time_signature", "6/8", None),
    ("a march at 100 bpm, no wait, 140", "compose_music", "tempo", 140, None),
    ("paint two pictures of owls on a branch, make that four", "generate_image", "count", 4, None),
    ("draw a goat on a hill, actually make it a llama", "generate_image", "prompt", None,
     "goat"),
    ("a green tractor in a field. oops, a yellow tractor", "generate_image", "prompt", None,
     "green"),
    ("a heron in pencil, no actually make it anime", "generate_image", "style", "anime", None),
])
def test_the_corrected_word_is_the_one_used(me, chat, assistant, message, tool, arg, value,
                                            gone):
    result, calls = plan(assistant, me, chat, message)
    assert [name for name, _ in calls] == [tool], result.reply
    args = calls[0][1]
    if value is not None:
        assert args.get(arg) == value, args
    if gone is not None:
        assert gone not in str(args.get("prompt", "")).lower(), args


def test_a_corrected_edit_goes_the_corrected_way(me, chat, assistant, paint):
    paint("a harbour at dusk")
    result, calls = plan(assistant, me, chat, "make it a bit brighter, no wait, darker")
    assert [name for name, _ in calls] == ["adjust_image"], result.reply
    assert calls[0][1]["brightness"] < 1.0


def test_an_apology_after_the_correction_does_not_hide_it(me, chat, assistant, paint):
    paint("a harbour at dusk")
    result, calls = plan(assistant, me, chat, "warmer. no, cooler, sorry!")
    assert [name for name, _ in calls] == ["adjust_image"], result.reply
    assert calls[0][1]["warmth"] < 0


def test_a_correction_that_is_a_request_of_its_own_replaces_the_first(me, chat, assistant,
                                                                      paint):
    paint("a kettle on a stove", versions=2)
    result, calls = plan(assistant, me, chat, "undo, no wait, show me the versions")
    assert [name for name, _ in calls] == ["show_versions"], result.reply


@pytest.mark.parametrize("message", [
    "it's actually lovely, just make it a bit brighter",
    "a street with no cars in it",
    "actually, can you add a moon",
    "sorry, could you make it warmer",
    "I mean it, this is the best one",
    "a bakery window at night, warm light",
])
def test_words_that_only_look_like_a_correction_are_left_alone(message):
    assert take_back(message) == message
