"""Short messages and the cues that say which artwork is meant, through real
``--plan-only`` turns: a lone word leans on the artwork in focus, inflected words are words
("sleepier" is not gibberish), "sound" means the music even with a picture in focus, and
an ordinal with a factor after it still names the artwork. Phrasings written for this
test, not taken from the corpus.

Session: #1 "a lighthouse at dusk" (image), #2 "a slow lullaby" (music), #3-#5 "a kite"
(images, one batch); the focus is given per case."""

from __future__ import annotations

import pytest


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def session(paint):
    paint("a lighthouse at dusk")
    paint("a slow lullaby", kind="music")
    for _ in range(3):
        paint("a kite")


CASES = [
    # (focus, message, the one call: tool, and arguments it must have)
    ([2], "cello", ("edit_music", {"artwork": "#2", "instrument": "cello"})),
    ([2], "marimba please", ("edit_music", {"artwork": "#2", "instrument": "marimba"})),
    ([2], "dreamier", ("edit_music", {"artwork": "#2"})),
    ([1], "gloomier!", ("adjust_image", {"artwork": "#1"})),
    ([1], "make it sound less perfect", ("edit_music", {"artwork": "#2", "humanize": 0.5})),
    ([1], "can it sound a bit lo-fi", ("edit_music", {"artwork": "#2"})),
    ([3, 4, 5], "upscale the 2nd 4x", ("upscale_image", {"artwork": "#4", "factor": 4})),
    ([3, 4, 5], "the 3rd 2x bigger", ("upscale_image", {"artwork": "#5", "factor": 2})),
]


@pytest.mark.parametrize(("focus", "message", "want"), CASES)
def test_short_and_cued_requests_reach_the_artwork_meant(
        me, chat, assistant, session, remember, focus, message, want):
    remember(focus, kind="music" if focus == [2] else "image")
    result = assistant.turn(me, chat, message, plan_only=True)
    assert [c.name for c in result.calls] == [want[0]], (result.calls, result.reply)
    for key, value in want[1].items():
        assert result.calls[0].args.get(key) == value, result.calls[0].args


def test_a_sound_with_no_music_made_yet_is_not_painted_into_the_picture(
        me, chat, assistant, paint, remember):
    paint("a lighthouse at dusk")
    remember([1], kind="image")
    result = assistant.turn(me, chat, "make it sound calmer", plan_only=True)
    assert not any(c.name == "edit_image" for c in result.calls), result.calls


AGAIN = [
    # (message, prompts of the pictures it makes, seeds, other arguments)
    ("same but seed 5 and 6", ["a kite", "a kite"], [5, 6], {}),
    ("again but negative prompt: clouds, birds", ["a kite"], [None],
     {"negative_prompt": "clouds, birds"}),
    ("again, but at sunset", ["a kite, at sunset"], [None], {}),
    ("same again but as a watercolour", ["a kite"], [None], {"style": "watercolor"}),
    ("paint a heron, seeds 1, 2 and 3", ["a heron"] * 3, [1, 2, 3], {}),
]


@pytest.mark.parametrize(("message", "prompts", "seeds", "args"), AGAIN)
def test_the_same_picture_again_with_something_changed(
        me, chat, assistant, session, remember, message, prompts, seeds, args):
    remember([5], kind="image")
    result = assistant.turn(me, chat, message, plan_only=True)
    assert [c.name for c in result.calls] == ["generate_image"] * len(prompts), result.calls
    assert [c.args["prompt"] for c in result.calls] == prompts
    assert [c.args.get("seed") for c in result.calls] == seeds
    for key, value in args.items():
        assert all(c.args.get(key) == value for c in result.calls), result.calls


def test_same_but_an_adjustment_edits_the_picture_instead(me, chat, assistant, session,
                                                          remember):
    remember([5], kind="image")
    result = assistant.turn(me, chat, "same but brighter", plan_only=True)
    assert [(c.name, c.args.get("artwork")) for c in result.calls] == [("adjust_image", "#5")]


CORRECTIONS = [
    # (the request before, the correction, the calls it must make)
    ("rotate it 90 degrees", "no, the other way",
     [("undo", {"artwork": "#1"}), ("reframe_image", {"artwork": "#1", "rotate": -90.0})]),
    ("write HAPPY BIRTHDAY in the middle", "sorry, at the top",
     [("undo", {"artwork": "#1"}),
      ("add_text", {"artwork": "#1", "text": "HAPPY BIRTHDAY", "position": "top"})]),
    ("make it warmer", "oops, opposite",
     [("undo", {"artwork": "#1"}), ("adjust_image", {"artwork": "#1", "warmth": -0.3})]),
]


@pytest.mark.parametrize(("before", "message", "want"), CORRECTIONS)
def test_a_correction_of_how_or_where_redoes_the_last_change_that_way(
        store, me, chat, assistant, paint, before, message, want):
    paint("a kite")
    store.add_message(me, chat, "user", before)
    store.add_message(me, chat, "assistant", "Done: now v2.", planner="offline")
    result = assistant.turn(me, chat, message, plan_only=True)
    assert [(c.name, c.args) for c in result.calls] == want, result.reply


def test_turned_upside_down_is_a_half_turn_and_sizes_can_be_said_in_words(
        me, chat, assistant, paint):
    paint("a kite")
    turned = assistant.turn(me, chat, "can you turn it upside down", plan_only=True)
    assert [(c.name, c.args.get("rotate")) for c in turned.calls] == [("reframe_image", 180.0)]
    sized = assistant.turn(me, chat, "width 1280 height 720 please", plan_only=True)
    assert [(c.name, c.args.get("width"), c.args.get("height")) for c in sized.calls] == [
        ("reframe_image", 1280, 720)]


def test_a_name_that_fits_a_picture_and_a_piece_alike_is_asked_about(
        me, chat, assistant, paint, remember):
    paint("an old red tractor in a field")
    paint("a tractor song for the farm", kind="music")
    remember([2], kind="music")
    asked = assistant.turn(me, chat, "make the tractor one happier", plan_only=True)
    assert asked.calls == [] and asked.answer == "ask"
    assert "#1" in asked.reply and "#2" in asked.reply
    said = assistant.turn(me, chat, "make the tractor picture happier", plan_only=True)
    assert [(c.name, c.args.get("artwork")) for c in said.calls] == [("adjust_image", "#1")]


def test_what_an_artwork_would_be_in_the_other_kind_makes_it(me, chat, assistant, paint,
                                                             remember):
    paint("a harbour at night")
    remember([1], kind="image")
    heard = assistant.turn(me, chat, "nice. what would that sound like as music?",
                           plan_only=True)
    assert [(c.name, c.args.get("inspired_by")) for c in heard.calls] == [
        ("compose_music", "#1")]
    paint("a slow air", kind="music")
    remember([2], kind="music")
    seen = assistant.turn(me, chat, "what would it look like as a painting? watercolour",
                          plan_only=True)
    assert [(c.name, c.args.get("inspired_by"), c.args.get("style")) for c in seen.calls] == [
        ("generate_image", "#2", "watercolor")]


def test_power_user_shorthand(me, chat, assistant, paint, remember):
    """A choice then a factor, steps after the morph, slot labels, "the original"."""
    paint("a rooftop at night")
    for _ in range(2):
        paint("variation of #1: a rooftop at night")
    paint("a slow air", kind="music")
    paint("a lively reel", kind="music")
    remember([2, 3])

    def plan(message):
        return [(c.name, c.args) for c in assistant.turn(me, chat, message,
                                                         plan_only=True).calls]

    assert plan("ok I'll go with #3 in the end. 2x") == [
        ("upscale_image", {"artwork": "#3", "factor": 2})]
    assert plan("and the original at 4x") == [("upscale_image", {"artwork": "#1", "factor": 4})]
    assert plan("morph #4 into #5 then, 6 steps") == [
        ("interpolate_music", {"artwork_a": "#4", "artwork_b": "#5", "steps": 6})]
    assert plan("#5 instrument: marimba") == [
        ("edit_music", {"artwork": "#5", "instrument": "marimba"})]
    assert plan("#2 text top: 'ROOFTOPS'") == [
        ("add_text", {"artwork": "#2", "text": "ROOFTOPS", "position": "top"})]


def test_how_to_blend_is_the_blends_prompt(me, chat, assistant, session, remember):
    remember([3, 4, 5])

    def plan(message):
        return [(c.name, c.args) for c in assistant.turn(me, chat, message,
                                                         plan_only=True).calls]

    assert plan("blend #3, #4 and #5, dreamlike") == [
        ("blend_images", {"artworks": ["#3", "#4", "#5"], "prompt": "dreamlike"})]
    assert plan("1st and 3rd, blend them, misty") == [
        ("blend_images", {"artworks": ["#3", "#5"], "prompt": "misty"})]


@pytest.mark.parametrize(("message", "want"), [
    ("a bit lower", {"transpose": -2}),
    ("could you take it up a little, higher", {"transpose": 2}),
    ("slower and lower", {"tempo_scale": 0.83, "transpose": -2}),
    ("it sits too high for my voice, a bit lower please", {"transpose": -2}),
    ("lower the tempo", {"tempo_scale": 0.83}),
])
def test_higher_and_lower_of_a_piece_are_its_pitch(me, chat, assistant, session, remember,
                                                   message, want):
    remember([2], kind="music")
    result = assistant.turn(me, chat, message, plan_only=True)
    assert [(c.name, c.args) for c in result.calls] == [
        ("edit_music", {"artwork": "#2", **want})], result.reply


def test_how_a_picture_looks_goes_to_the_picture_and_a_state_is_not_a_wish(
        me, chat, assistant, paint, remember):
    paint("hollyhocks by a cottage wall")
    paint("a gentle garden tune", kind="music")
    remember([1], kind="image")

    def plan(message):
        return [(c.name, c.args) for c in assistant.turn(me, chat, message,
                                                         plan_only=True).calls]

    # "gloomy" on its own would be the music's fault; "looks" says it is the picture's
    assert plan("cheer it up a bit, it looks gloomy now") == [
        ("adjust_image", {"artwork": "#1", "warmth": 0.3, "brightness": 1.15})]
    # how it looks now is not what to make it: the request after it is
    [(name, args)] = plan("the hollyhocks look sad, can they stand up straight")
    assert name == "edit_image" and "straight" in args["instruction"]


def test_which_one_answered_then_the_other_too(store, me, chat, assistant, paint, remember):
    """Asked which (the name fits both), answered "the picture", then "and the song too"."""
    paint("a fishing boat at dawn")
    paint("a song about the boat", kind="music")
    remember([2], kind="music")
    asked = assistant.turn(me, chat, "make the boat one happier")
    assert asked.calls == [] and asked.answer == "ask"
    picture = assistant.turn(me, chat, "the picture", plan_only=True)
    assert [(c.name, c.args.get("artwork")) for c in picture.calls] == [("adjust_image", "#1")]
    assistant.turn(me, chat, "the picture")
    song = assistant.turn(me, chat, "and the song too", plan_only=True)
    assert [(c.name, c.args) for c in song.calls] == [
        ("edit_music", {"artwork": "#2", "mode": "major"})]


@pytest.mark.parametrize(("message", "aspect"), [
    ("phone size", "9:16"), ("wider please, like for the telly", "16:9"),
    ("16:9 then", "16:9"), ("ok make it cinematic", "16:9"),
])
def test_a_frame_said_alone_reframes_the_picture(me, chat, assistant, paint, remember,
                                                 message, aspect):
    paint("a lighthouse at dusk")
    remember([1])
    result = assistant.turn(me, chat, message, plan_only=True)
    assert [(c.name, c.args) for c in result.calls] == [
        ("reframe_image", {"artwork": "#1", "aspect": aspect})]


def test_bigger_of_the_picture_upscales_and_of_a_thing_in_it_does_not(me, chat, assistant,
                                                                      paint, remember):
    paint("a knight in armour at dusk")  # the snail and the moon are not in its title
    remember([1])

    def plan(message):
        return [c.name for c in assistant.turn(me, chat, message, plan_only=True).calls]

    assert plan("put it more big") == ["upscale_image"]
    assert plan("make the picture bigger") == ["upscale_image"]
    assert "upscale_image" not in plan("the snail should be bigger")
    assert "upscale_image" not in plan("make the moon a bit bigger")
