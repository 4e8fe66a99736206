"""What the issue's users tried, as real turns on the embedded defaults (offline planner,
procedural painter, the committed melody model): the modality of "it", direction and
amount, music without "compose", cross-modal links, refusals, questions and their
answers, the cap on generations, errors that name the real problem."""

from __future__ import annotations

import pytest

from museforge.storage.models import Actor


def plan(assistant, me, chat, text):
    return assistant.turn(me, chat, text, plan_only=True)


def calls(result):
    return [(c.name, c.args) for c in result.calls]


def test_an_edit_of_it_goes_to_the_kind_of_it(store, me: Actor, chat, assistant, paint,
                                              remember):
    paint("a fox in the snow")
    paint("a calm piano piece", kind="music")
    remember([2], "music")
    [(name, args)] = calls(plan(assistant, me, chat, "make it gloomier"))
    assert (name, args["artwork"], args.get("mode")) == ("edit_music", "#2", "minor")
    remember([1], "image")
    [(name, args)] = calls(plan(assistant, me, chat, "make it gloomier"))
    assert name == "adjust_image" and args["artwork"] == "#1"
    assert args["warmth"] < 0 and args["brightness"] < 1


@pytest.mark.parametrize(("text", "arg", "check"), [
    ("it's too dark", "brightness", lambda v: v > 1),
    ("it's too bright", "brightness", lambda v: v < 1),
    ("it looks washed out", "saturation", lambda v: v > 1),
    ("less contrast please", "contrast", lambda v: v < 1),
])
def test_a_complaint_is_corrected_the_right_way(me, chat, assistant, paint, text, arg, check):
    paint("a fox in the snow")
    [(name, args)] = calls(plan(assistant, me, chat, text))
    assert name == "adjust_image" and check(args[arg]), args


@pytest.mark.parametrize(("text", "want"), [
    ("a hornpipe in A", {"key": "A major"}),
    ("a jig in D on the fiddle", {"key": "D major", "style": "jig", "instrument": "fiddle"}),
    ("a slow air for the harp please", {"instrument": "harp"}),
    ("idea for a song: upbeat, 120 bpm", {"tempo": 120.0, "mood": "upbeat"}),
    ("a sad tune in a minor key", {"key": "A minor"}),
])
def test_music_words_make_music_and_every_argument_said_is_used(me, chat, assistant, text,
                                                                want):
    [(name, args)] = calls(plan(assistant, me, chat, text))
    assert name == "compose_music"
    assert {k: args.get(k) for k in want} == want


@pytest.mark.parametrize(("text", "want"), [
    ("half speed", ("tempo_scale", 0.5)),
    ("make it minor", ("mode", "minor")),
    ("in a minor key", ("mode", "minor")),
    ("tidy the rhythm", ("quantize", "1/16")),
    ("transpose it down an octave", ("transpose", -12)),
])
def test_music_edits_in_plain_words(me, chat, assistant, paint, remember, text, want):
    paint("a calm piano piece", kind="music")
    remember([1], "music")
    [(name, args)] = calls(plan(assistant, me, chat, text))
    assert name == "edit_music" and args.get(want[0]) == want[1], args


def test_double_the_size_is_an_upscale_and_a_few_alternatives_are_three(me, chat, assistant,
                                                                         paint):
    paint("a fox in the snow")
    [(name, args)] = calls(plan(assistant, me, chat, "double the size"))
    assert (name, args["factor"]) == ("upscale_image", 2)
    [(name, args)] = calls(plan(assistant, me, chat, "a few alternatives"))
    assert (name, args.get("count")) == ("vary_image", 3)


def test_a_cover_for_this_song_is_linked_to_the_song(me, chat, assistant, paint, remember):
    paint("a fox in the snow")
    paint("a lively jig", kind="music")
    remember([2], "music")
    [(name, args)] = calls(plan(assistant, me, chat, "a cover for this song"))
    assert (name, args["inspired_by"]) == ("generate_image", "#2")
    assert "song" not in args["prompt"]
    remember([1], "image")
    [(name, args)] = calls(plan(assistant, me, chat, "what would this painting sound like"))
    assert (name, args["inspired_by"]) == ("compose_music", "#1")


def test_references_by_subject_stop_at_the_edit_word(me, chat, assistant, paint, remember):
    paint("a red fox")
    paint("a castle made of ice")
    paint("a blend of the fox and the owl")
    remember([2], "image")
    [(name, args)] = calls(plan(assistant, me, chat, "the one with the fox warmer"))
    assert (name, args["artwork"]) == ("adjust_image", "#1") and args["warmth"] > 0
    [(name, args)] = calls(plan(assistant, me, chat, "make the castle darker"))
    assert args["artwork"] == "#2" and args["brightness"] < 1


@pytest.mark.parametrize("text", ["make a 3D model of the fox", "animate it",
                                  "add vocals singing these lyrics", "export it as an mp3"])
def test_what_it_cannot_do_is_said_and_nothing_runs(store, me, chat, assistant, paint, text):
    paint("a fox in the snow")
    result = assistant.turn(me, chat, text)
    assert result.calls == [] and result.answer == "refuse"
    assert result.reply.startswith("I can't")
    assert len(store.list_artworks(me, chat)) == 1


def test_a_vague_request_gets_a_question_and_the_answer_completes_it(store, me, chat,
                                                                     assistant, paint):
    paint("a fox in the snow")
    paint("a castle made of ice")
    asked = assistant.turn(me, chat, "make it better")
    assert asked.calls == [] and asked.answer == "ask" and asked.reply.endswith(
        ("?", "variation.")) or "?" in asked.reply
    # an ambiguous reference is asked about; "#1" then answers it
    store.add_message(me, chat, "user", "make the picture warmer")
    store.add_message(me, chat, "assistant", "“the picture” could mean #1 or #2. Which one?")
    answered = assistant.turn(me, chat, "#1", plan_only=True)
    assert [(c.name, c.args["artwork"]) for c in answered.calls] == [("adjust_image", "#1")]


def test_a_pasted_essay_starts_at_most_four_generations(me, chat, assistant):
    essay = ". ".join(f"paint a {w} in the snow" for w in
                      "fox cat dog owl bear deer wolf hare".split())
    result = plan(assistant, me, chat, essay)
    assert [c.name for c in result.calls] == ["generate_image"] * 4
    assert "at most 4 new artworks" in result.reply and "left out 4" in result.reply


def test_errors_name_the_real_problem(me, chat, assistant, paint):
    paint("a fox in the snow")
    [call] = plan(assistant, me, chat, "undo #9").calls
    assert not call.ok and "#9" in call.error
    [call] = plan(assistant, me, chat, "continue the music for 8 bars").calls
    assert not call.ok and "music" in call.error


def test_a_refused_attachment_stops_what_was_meant_for_it(store, me, chat, assistant, paint,
                                                          heads, tmp_path):
    paint("a fox in the snow", versions=2)
    broken = tmp_path / "photo.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\nnot really")

    result = assistant.turn(me, chat, "upscale it", attachments=[broken])

    assert result.calls == [] and result.errors and "photo.png" in result.reply
    assert "didn't run" in result.reply
    assert heads() == {1: 2} and len(store.list_artworks(me, chat)) == 1
    named = assistant.turn(me, chat, "undo #1", attachments=[broken])
    assert [(c.name, c.ok) for c in named.calls] == [("undo", True)]
