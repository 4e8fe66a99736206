"""Messages that tell a story before (or after) they ask, through real ``--plan-only``
turns: the story says what the picture is of, it is not painted as a picture of its own,
and the sentences after a request describe what it makes. Phrasings written for this test,
not taken from the corpus."""

from __future__ import annotations

import pytest


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


TOLD = [
    # (message, the one picture's prompt must contain each of these words, and not these)
    ("My niece loves owls. Could you draw one for her birthday card?", ["owl"], []),
    ("We stayed in a little windmill in Holland last summer. Can you paint it in oils?",
     ["windmill", "holland"], ["paint"]),
    ("Our dog Biscuit is a brown and white spaniel. Please paint him on a beach",
     ["spaniel", "beach"], []),
    ("I teach year 3 and we are learning about volcanoes. Can you make a picture of one "
     "erupting?", ["volcano", "erupting"], []),
    ("Hello! My grandson wants a robot. A shiny silver one please", ["shiny silver robot"], []),
    ("Good morning. I grew up on a farm in Kerry with a red barn. I wonder if you could paint "
     "it for me", ["farm", "barn"], ["wonder"]),
    ("I'm writing a story about a penguin who runs a lighthouse. Could you paint me something "
     "for the cover?", ["penguin", "lighthouse"], []),
    ("my sister collects teapots and wants to see one as a painting. can you paint a blue "
     "teapot with roses, oil", ["teapot", "roses"], ["sister", "collects"]),
    # the sentences after the request describe it
    ("Please paint my grandad's old tractor. It was red. In a field of barley at harvest",
     ["tractor", "red", "barley"], []),
    ("paint a cabin in the woods. it should be at night", ["cabin", "night"], []),
]


@pytest.mark.parametrize(("message", "words", "not_words"), TOLD)
def test_a_story_around_a_request_is_one_picture_of_what_it_tells(
        me, chat, assistant, message, words, not_words):
    result = assistant.turn(me, chat, message, plan_only=True)
    assert [c.name for c in result.calls] == ["generate_image"], (result.calls, result.reply)
    prompt = result.calls[0].args["prompt"].lower()
    for word in words:
        assert word in prompt, prompt
    for word in not_words:
        assert word not in prompt, prompt


def test_a_request_after_a_story_keeps_its_own_subject(me, chat, assistant):
    """The story gives the subject only when the request has none of its own."""
    result = assistant.turn(me, chat, "My daughter loves horses. Could you paint a fox in the "
                                      "snow for her?", plan_only=True)
    assert [c.name for c in result.calls] == ["generate_image"]
    prompt = result.calls[0].args["prompt"].lower()
    assert "fox" in prompt and "horse" not in prompt


def test_a_picture_and_a_tune_in_one_message_are_two_requests(me, chat, assistant):
    result = assistant.turn(me, chat, "a painting of an old mill by a stream and a song about "
                                      "the mill too", plan_only=True)
    assert [c.name for c in result.calls] == ["generate_image", "compose_music"]
    assert "mill" in result.calls[0].args["prompt"] and "song" not in \
        result.calls[0].args["prompt"]


def test_music_for_what_a_picture_shows_is_inspired_by_that_picture(me, chat, assistant,
                                                                     paint):
    paint("a steam train crossing a viaduct in the snow")
    paint("a bowl of lemons")
    result = assistant.turn(me, chat, "now a jolly march for the train please", plan_only=True)
    assert [(c.name, c.args.get("inspired_by")) for c in result.calls] == [
        ("compose_music", "#1")]


def test_another_one_in_a_style_is_the_same_subject(me, chat, assistant, paint, remember):
    paint("a windmill on a hill")
    remember([1])
    result = assistant.turn(me, chat, "and a charcoal sketch one", plan_only=True)
    assert [c.name for c in result.calls] == ["generate_image"]
    assert "windmill" in result.calls[0].args["prompt"]
