"""General readings of the built-in planner, through real ``--plan-only`` turns on a real
SQLite store: what a new artwork shows when it also fits another, history steps that do
not exist, music put together, reported requests, and things it cannot make. Phrasings
written for these tests, not taken from the corpus."""

from __future__ import annotations

import pytest


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


def plan(assistant, me, chat, message):
    result = assistant.turn(me, chat, message, plan_only=True)
    return result, [(c.name, c.args) for c in result.calls if c.ok]


@pytest.mark.parametrize(("made", "message", "tool", "word"), [
    # the subject named after "of"/"about" is what the new artwork shows, and it links
    ("a slow march along the harbour wall", "now a painting of the harbour for it",
     "generate_image", "harbour"),
    ("an oil painting of a red kite over the moor", "and a cheerful whistle tune about the "
     "kite too", "compose_music", "kite"),
    ("a lament for the old quarry", "what would the quarry look like", "generate_image",
     "quarry"),
])
def test_what_a_linked_artwork_shows_stays_in_its_prompt(me, chat, assistant, paint, made,
                                                         message, tool, word):
    kind = "image" if tool == "compose_music" else "music"
    paint(made, kind=kind)
    result, calls = plan(assistant, me, chat, message)
    assert [name for name, _ in calls] == [tool], result.reply
    assert word in calls[0][1]["prompt"].lower()
    assert calls[0][1].get("inspired_by") == "#1"


def test_undo_of_a_first_version_and_redo_with_nothing_undone_say_so(me, chat, assistant,
                                                                      paint):
    paint("a paper boat on a puddle")
    result, calls = plan(assistant, me, chat, "undo")
    assert calls == [] and "nothing to undo" in result.reply
    paint("a kettle on a stove", versions=2)
    result, calls = plan(assistant, me, chat, "redo #2")
    assert calls == [] and "nothing to redo" in result.reply
    result, calls = plan(assistant, me, chat, "undo #2")
    assert calls == [("undo", {"artwork": "#2"})]


def test_a_missing_number_is_said_not_swapped_for_another_piece(me, chat, assistant, paint):
    paint("a reel for the fiddle", kind="music")
    paint("dancers in a barn")
    result, calls = plan(assistant, me, chat, "extend #5 by another 4 bars")
    assert calls == [] and "#5" in result.reply


@pytest.mark.parametrize("message", [
    "can the two be put together, the harp first and then the accordion",
    "make them into one, the harp turning into the accordion",
])
def test_two_pieces_put_together_is_a_morph(me, chat, assistant, paint, message):
    paint("a slow air on the harp", kind="music")
    paint("a polka on the accordion", kind="music")
    _, calls = plan(assistant, me, chat, message)
    assert [name for name, _ in calls] == ["interpolate_music"]
    assert (calls[0][1]["artwork_a"], calls[0][1]["artwork_b"]) == ("#1", "#2")


@pytest.mark.parametrize(("message", "args"), [
    ("it hurries, the river is a lazy slow one", {"tempo_scale": "<"}),
    ("the tune drags", {"tempo_scale": ">"}),
])
def test_a_verb_can_be_the_fault(me, chat, assistant, paint, message, args):
    paint("a river song on the guitar", kind="music")
    _, calls = plan(assistant, me, chat, message)
    assert len(calls) == 1 and calls[0][0] == "edit_music", calls
    value = calls[0][1]["tempo_scale"]
    assert value < 1 if args["tempo_scale"] == "<" else value > 1


@pytest.mark.parametrize(("message", "arg", "up"), [
    ("could the sea be a bit bluer", "warmth", False),
    ("the clouds look grubby, can they be whiter", "brightness", True),
])
def test_colour_comparatives_adjust_the_picture(me, chat, assistant, paint, message, arg, up):
    paint("clouds over a grey sea")
    _, calls = plan(assistant, me, chat, message)
    assert [name for name, _ in calls] == ["adjust_image"], calls
    neutral = 0 if arg == "warmth" else 1
    assert (calls[0][1][arg] > neutral) is up


@pytest.mark.parametrize(("message", "version"), [
    ("could I have the very first one back", 1),
    ("back to the very first one", 1),
    ("ok, v2 then", 2),
])
def test_a_version_said_alone_goes_back_to_it(me, chat, assistant, paint, message, version):
    paint("a teapot with roses", versions=3)
    _, calls = plan(assistant, me, chat, message)
    assert calls == [("revert", {"artwork": "#1", "version": version})]


@pytest.mark.parametrize(("message", "tool"), [
    ("my niece says can it have a crown", "edit_image"),
    ("she wants to know if you could make it brighter", "adjust_image"),
])
def test_a_request_passed_on_is_the_request(me, chat, assistant, paint, message, tool):
    paint("a frog on a lily pad")
    _, calls = plan(assistant, me, chat, message)
    assert [name for name, _ in calls] == [tool]


@pytest.mark.parametrize("message", [
    "can you make a game where she jumps the frog between lily pads",
    "make the frog hop across the screen, slow zoom in",
    "my son wants to know if it can swim around the screen",
])
def test_games_and_motion_are_refused_with_nothing_made(me, chat, assistant, paint, message):
    paint("a frog on a lily pad")
    result, calls = plan(assistant, me, chat, message)
    assert calls == [] and result.answer == "refuse", (result.calls, result.reply)
    assert "I can't" in result.reply


def test_photographs_are_the_photo_style_and_their_number_is_the_count(me, chat, assistant):
    _, calls = plan(assistant, me, chat, "three photographs of a lighthouse keeper's cottage")
    assert [name for name, _ in calls] == ["generate_image"]
    args = calls[0][1]
    assert args["count"] == 3 and args["style"] == "photo" and "cottage" in args["prompt"]


@pytest.mark.parametrize(("kind", "message", "tool", "arg", "value"), [
    ("music", "a touch more moody", "edit_music", "mode", "minor"),
    ("music", "can it be more happy", "edit_music", "mode", "major"),
    ("image", "more dark please", "adjust_image", "brightness", "<1"),
])
def test_more_and_an_adjective_reads_as_its_comparative(me, chat, assistant, paint, kind,
                                                         message, tool, arg, value):
    paint("a rowing boat on a lake", kind=kind)
    result, calls = plan(assistant, me, chat, message)
    assert [name for name, _ in calls] == [tool], result.reply
    if value == "<1":
        assert calls[0][1][arg] < 1.0
    else:
        assert calls[0][1][arg] == value


@pytest.mark.parametrize("message", ["wow the colours", "ooh that little boat!",
                                     "look at the sky"])
def test_an_exclamation_about_the_picture_changes_nothing(me, chat, assistant, paint,
                                                          message):
    paint("a rowing boat on a lake at sunset")
    result, calls = plan(assistant, me, chat, message)
    assert calls == [] and result.answer == "chat", result.reply


@pytest.mark.parametrize(("message", "prompt"), [
    ("I was thinking of maybe a windmill in a tulip field", "a windmill in a tulip field"),
    ("something like a foggy pier at dawn", "a foggy pier at dawn"),
])
def test_a_tentative_request_paints_what_it_describes(me, chat, assistant, message, prompt):
    result, calls = plan(assistant, me, chat, message)
    assert calls == [("generate_image", {"prompt": prompt})], result.reply


@pytest.mark.parametrize("message", ["otters", "a kite"])
def test_a_bare_subject_before_anything_exists_is_a_new_picture(me, chat, assistant, message):
    result, calls = plan(assistant, me, chat, message)
    assert [name for name, _ in calls] == ["generate_image"], result.reply


@pytest.mark.parametrize(("message", "want"), [
    ("hmm its a little to bright", {"brightness": "<1"}),
    ("way to dark for the hallway", {"brightness": ">1"}),
])
def test_to_for_too_before_a_quality_is_a_complaint(me, chat, assistant, paint, message,
                                                    want):
    paint("a hallway with a lamp")
    result, calls = plan(assistant, me, chat, message)
    assert [name for name, _ in calls] == ["adjust_image"], result.reply
    value = calls[0][1]["brightness"]
    assert value < 1.0 if want["brightness"] == "<1" else value > 1.0


@pytest.mark.parametrize("message", ["#2 is goated upscale that one 2x",
                                     "The #2 is lovely. Make bigger 2 times"])
def test_a_remark_run_on_into_a_request_does_only_the_request(me, chat, assistant, paint,
                                                              message):
    paint("a hallway with a lamp")
    paint("a garden gate in spring")
    result, calls = plan(assistant, me, chat, message)
    assert calls == [("upscale_image", {"artwork": "#2", "factor": 2})], result.reply


def test_a_message_that_says_what_a_picture_is_for_then_what_it_shows_is_one_picture(
        me, chat, assistant):
    result, calls = plan(assistant, me, chat, "Hello there. I need a birthday card for my "
                         "nephew. A green tractor in a muddy field, cartoon style please")
    assert [name for name, _ in calls] == ["generate_image"], result.reply
    assert "tractor" in calls[0][1]["prompt"]


@pytest.mark.parametrize("message", ["good night from all of us :)", "is this thing working??",
                                     "never mind, I'll draw it myself. thanks anyway"])
def test_farewells_and_checks_are_chat_not_pictures(me, chat, assistant, paint, message):
    paint("a tractor in a field")
    result, calls = plan(assistant, me, chat, message)
    assert calls == [], result.reply


def test_sending_by_email_is_refused_with_what_to_do_instead(me, chat, assistant, paint):
    paint("a tractor in a field")
    result, calls = plan(assistant, me, chat, "can you email it to my brother")
    assert calls == [] and result.answer == "refuse" and "export" in result.reply


@pytest.mark.parametrize(("message", "want"), [
    ("and #1 mirrored", {"flip": "horizontal"}),
    ("the tractor is facing the wrong way", {"flip": "horizontal"}),
    ("could it be wide, like a banner? 16:9", {"aspect": "16:9"}),
])
def test_frames_said_loosely(me, chat, assistant, paint, message, want):
    paint("a tractor in a field")
    result, calls = plan(assistant, me, chat, message)
    assert [name for name, _ in calls] == ["reframe_image"], result.reply
    assert want.items() <= calls[0][1].items()


@pytest.mark.parametrize(("kind", "message", "tool", "count"), [
    ("music", "vary it three times", "vary_music", 3),
    ("image", "two takes on it please", "vary_image", 2),
])
def test_how_many_variations_said_as_times_or_takes(me, chat, assistant, paint, kind, message,
                                                    tool, count):
    paint("a tractor in a field", kind=kind)
    result, calls = plan(assistant, me, chat, message)
    assert [name for name, _ in calls] == [tool] and calls[0][1]["count"] == count, result.reply


def test_three_takes_on_a_subject_before_anything_exists_are_new_pictures(me, chat, assistant):
    result, calls = plan(assistant, me, chat, "give me three takes on a windmill at dusk")
    assert calls == [("generate_image", {"prompt": "a windmill at dusk", "count": 3})]


def test_try_again_with_a_new_subject_paints_it(me, chat, assistant, paint):
    paint("a tractor in a field")
    result, calls = plan(assistant, me, chat,
                         "meh. try again, a vintage bus this time, watercolour")
    assert calls == [("generate_image", {"prompt": "a vintage bus", "style": "watercolor"})]


def test_something_given_to_him_goes_into_the_picture(me, chat, assistant, paint):
    paint("a portrait of a sheepdog")
    result, calls = plan(assistant, me, chat, "aww can he have a bow tie")
    assert [name for name, _ in calls] == ["edit_image"], result.reply


def test_music_for_him_fits_the_picture_in_focus(me, chat, assistant, paint):
    paint("a portrait of a sheepdog")
    result, calls = plan(assistant, me, chat, "nice, now a tune for him")
    assert [name for name, _ in calls] == ["compose_music"], result.reply
    assert calls[0][1].get("inspired_by") == "#1"


def test_a_new_tune_asked_for_when_only_a_picture_exists_is_composed(me, chat, assistant,
                                                                     paint):
    paint("a portrait of a sheepdog")
    result, calls = plan(assistant, me, chat, "also a short jingle he could play on the banjo")
    assert [name for name, _ in calls] == ["compose_music"], result.reply
    assert calls[0][1].get("instrument") == "banjo"


def test_a_spelled_out_seed_is_used(me, chat, assistant):
    result, calls = plan(assistant, me, chat, "a picture of a lighthouse with seed forty two")
    assert calls[0][1].get("seed") == 42, result.reply


def test_an_adjective_names_the_artwork_its_noun_shows(me, chat, assistant, paint):
    paint("a cottage in the fog")
    paint("a beach at noon")
    result, calls = plan(assistant, me, chat, "make the foggy one warmer")
    assert [name for name, _ in calls] == ["adjust_image"], result.reply
    assert calls[0][1]["artwork"] == "#1"


def test_an_argument_said_after_then_belongs_to_the_new_piece(me, chat, assistant):
    result, calls = plan(assistant, me, chat, "fine, a march for the parade then, on a trumpet")
    assert [name for name, _ in calls] == ["compose_music"], result.reply
    assert calls[0][1].get("instrument") == "trumpet"


def test_what_about_names_the_artwork_the_request_after_it_is_for(me, chat, assistant,
                                                                   paint):
    paint("a beach at noon", versions=2)
    paint("a sea shanty", kind="music", versions=2)
    plan(assistant, me, chat, "#1")  # the picture in focus
    result, calls = plan(assistant, me, chat, "and what about the shanty, undo that one")
    assert calls == [("undo", {"artwork": "#2"})], result.reply


def test_a_named_aspect_then_the_change_is_one_change(me, chat, assistant, paint):
    paint("a beach at noon")
    result, calls = plan(assistant, me, chat, "hmm, the colours. less yellow")
    assert [name for name, _ in calls] == ["adjust_image"], result.reply


def test_sentences_after_a_bare_request_say_what_it_shows(me, chat, assistant):
    result, calls = plan(assistant, me, chat, "a painting please. of my cat. shes a tabby")
    assert [name for name, _ in calls] == ["generate_image"], result.reply
    assert "tabby" in calls[0][1]["prompt"]


def test_a_format_refusal_beside_a_remark_is_said_as_a_refusal(me, chat, assistant, paint):
    paint("a sea shanty", kind="music")
    result, calls = plan(assistant, me, chat, "nice. now the score as a pdf")
    assert calls == [] and result.answer == "refuse", result.reply


def test_a_correction_to_an_edit_of_its_own(me, chat, assistant, paint):
    paint("a sea shanty", kind="music")
    result, calls = plan(assistant, me, chat, "turn it into a waltz... no, just speed it up")
    assert [name for name, _ in calls] == ["edit_music"], result.reply
    assert calls[0][1].get("tempo_scale", 1) > 1


def test_the_thing_named_in_an_edit_stays_in_its_instruction(me, chat, assistant, paint):
    paint("a heron by a pond")
    result, calls = plan(assistant, me, chat, "remove the heron")
    assert calls == [("edit_image", {"artwork": "#1", "instruction": "remove the heron"})]


# -- session 23: readings of whole messages ----------------------------------------------


def test_a_remark_naming_a_picture_leads_the_request_after_it(me, chat, assistant, paint):
    paint("a kingfisher on a branch")
    paint("a tram in the rain")
    result, calls = plan(assistant, me, chat,
                         "the kingfisher would look great in the hall, crop it square")
    assert calls == [("reframe_image", {"artwork": "#1", "aspect": "1:1"})], result.reply


def test_an_edit_taken_back_in_the_same_breath_is_only_the_undo(me, chat, assistant, paint):
    paint("a tram in the rain", versions=2)
    result, calls = plan(assistant, me, chat,
                         "hmm, I liked it more before the colour change, take that back")
    assert [name for name, _ in calls] == ["undo"], result.reply
    result, calls = plan(assistant, me, chat, "make it warmer, then undo")
    assert [name for name, _ in calls] == ["adjust_image", "undo"]  # asked for both


@pytest.mark.parametrize(("message", "style"), [
    ("now the same tram as a watercolour", "watercolor"),
    ("and again in pixel art", "pixel art"),
])
def test_the_same_subject_again_is_a_new_picture_of_it(me, chat, assistant, paint, message,
                                                       style):
    paint("a tram in the rain")
    result, calls = plan(assistant, me, chat, message)
    assert [name for name, _ in calls] == ["generate_image"], result.reply
    assert calls[0][1]["prompt"] == "a tram in the rain"
    assert calls[0][1]["style"] == style


def test_a_new_subject_after_a_colon_is_a_new_picture(me, chat, assistant, paint):
    paint("a tram in the rain")
    result, calls = plan(assistant, me, chat, "oops. a different subject then: a kite over "
                         "the dunes, in oil")
    assert [name for name, _ in calls] == ["generate_image"], result.reply
    assert "kite" in calls[0][1]["prompt"] and calls[0][1]["style"] == "oil"


def test_morphing_into_the_new_one_is_music_when_the_piece_is(me, chat, assistant, paint):
    paint("a kingfisher on a branch")
    paint("a brisk reel", kind="music")
    paint("a slow air", kind="music")
    result, calls = plan(assistant, me, chat, "morph the reel into the new one, 5 steps")
    assert calls == [("interpolate_music", {"artwork_a": "#2", "artwork_b": "#3",
                                            "steps": 5})], result.reply


@pytest.mark.parametrize("message", ["can I sell prints of these?",
                                     "haha lovely. is that one in a minor key?",
                                     "thanks, she'll be over the moon"])
def test_a_question_or_thanks_with_nothing_to_do_is_answered(me, chat, assistant, paint,
                                                             message):
    paint("a tram in the rain")
    result, calls = plan(assistant, me, chat, message)
    assert calls == [] and result.answer == "chat", result.reply


def test_a_thing_in_a_corner_is_added_there_and_all_three_is_each(me, chat, assistant,
                                                                   paint, remember):
    for title in ("a tram", "a bus", "a ferry"):
        paint(title)
    remember([3])
    result, calls = plan(assistant, me, chat, "a little moon in the top left corner")
    assert calls == [("inpaint_image", {"artwork": "#3", "region": "top left",
                                        "prompt": "a little moon"})], result.reply
    result, calls = plan(assistant, me, chat, "sepia on all three")
    assert [c[1]["artwork"] for c in calls] == ["#1", "#2", "#3"], result.reply


# -- session 24: judgements, words explained, names said twice ------------------------------


@pytest.mark.parametrize("message", ["wow. hmm the sky's a bit dark, I can't see the boats",
                                     "the border's fine. make it bigger, 4x",
                                     "eh, a bit of a muddle. flip it so it faces left"])
def test_a_judgement_beside_a_request_is_not_an_edit(me, chat, assistant, paint, message):
    paint("a harbour at dusk")
    result, calls = plan(assistant, me, chat, message)
    assert len(calls) == 1 and calls[0][0] in ("adjust_image", "upscale_image",
                                               "reframe_image"), result.reply


@pytest.mark.parametrize("message", ["it's all a bit much", "too cluttered honestly",
                                     "there's too much going on"])
def test_a_judgement_alone_asks_what_to_change(me, chat, assistant, paint, message):
    paint("a harbour at dusk")
    result, calls = plan(assistant, me, chat, message)
    assert calls == [] and result.answer == "ask", result.reply


@pytest.mark.parametrize(("message", "word"), [("what's humanize? saw it in the help", "loosen"),
                                               ("how different is a blend from a variation?",
                                                "pictures"),
                                               ("what does a seed do", "randomness")])
def test_a_question_about_a_word_is_answered_not_run(me, chat, assistant, paint, message,
                                                     word):
    paint("a slow air", kind="music")
    result, calls = plan(assistant, me, chat, message)
    assert calls == [] and result.answer == "chat" and word in result.reply, result.reply


def test_an_artwork_named_twice_is_the_number_said(me, chat, assistant, paint):
    paint("a brisk reel", kind="music")
    paint("a slow air", kind="music")
    paint("a waltz for the fair", kind="music")
    result, calls = plan(assistant, me, chat, "and the reel one, #1, add 4 bars")
    assert calls == [("continue_music", {"artwork": "#1", "bars": 4})], result.reply
    result, calls = plan(assistant, me, chat, "the slow one is lovely, #2. make it longer "
                         "by 8 bars")
    assert calls == [("continue_music", {"artwork": "#2", "bars": 8})], result.reply


def test_a_piece_named_by_whose_it_is(me, chat, assistant, paint):
    paint("a lullaby for Maisie", kind="music")
    paint("a march for Theo", kind="music")
    result, calls = plan(assistant, me, chat, "Maisie's is too quick")
    assert [(n, a["artwork"]) for n, a in calls] == [("edit_music", "#1")], result.reply
    result, calls = plan(assistant, me, chat, "morph Theo's into Maisie's")
    assert calls == [("interpolate_music", {"artwork_a": "#2", "artwork_b": "#1"})]


def test_the_same_change_on_each_listed_artwork(me, chat, assistant, paint):
    for title in ("a tram", "a bus", "a ferry"):
        paint(title)
    result, calls = plan(assistant, me, chat, "mirror #1 and #3")
    assert [(n, a["artwork"]) for n, a in calls] == [("reframe_image", "#1"),
                                                     ("reframe_image", "#3")], result.reply


def test_a_name_written_on_and_a_change_to_the_one_in_hand(me, chat, assistant, paint):
    paint("a bakery window")
    result, calls = plan(assistant, me, chat, "put The Crusty Loaf at the top")
    assert calls == [("add_text", {"artwork": "#1", "text": "The Crusty Loaf",
                                   "position": "top"})], result.reply
    result, calls = plan(assistant, me, chat, "make it look like a charcoal drawing")
    assert [n for n, _ in calls] == ["edit_image"], result.reply


def test_an_artwork_named_that_is_not_there_is_said(me, chat, assistant, paint):
    paint("a bakery window")
    result, calls = plan(assistant, me, chat, "the penguin one, make it brighter")
    assert calls == [] and result.answer == "say" and "no penguin" in result.reply


@pytest.mark.parametrize(("message", "want"), [
    ("I would like that it is more slow", {"tempo_scale<": 1}),
    ("revert to 1", None),
])
def test_second_language_wishes_and_bare_versions(me, chat, assistant, paint, message, want):
    paint("a slow air", kind="music", versions=3)
    result, calls = plan(assistant, me, chat, message)
    if want is None:
        assert calls == [("revert", {"artwork": "#1", "version": 1})], result.reply
    else:
        assert len(calls) == 1 and calls[0][0] == "edit_music" and \
            calls[0][1].get("tempo_scale", 1) < 1, result.reply


def test_in_my_style_names_the_persons_one_style(me, chat, assistant):
    from museforge.storage.styles import MY_STYLE

    result, calls = plan(assistant, me, chat, "paint a lighthouse at dusk in my style")
    assert calls == [("generate_image", {"prompt": "a lighthouse at dusk",
                                         "learnt_style": [MY_STYLE]})], result.reply
    result, calls = plan(assistant, me, chat, "a kite over the dunes at noon in my Ink style")
    assert calls[0][1]["learnt_style"] == ["Ink"] and "dunes at noon" in calls[0][1]["prompt"]


# -- session 25: quoted words, versions made, praise in slang, counts said up front --------


def test_quoted_words_are_written_as_typed(me, chat, assistant, paint):
    paint("a cat on a sofa, pixel art")
    result, calls = plan(assistant, me, chat, "put 'when u hear the treat bag' at the top")
    assert calls == [("add_text", {"artwork": "#1", "text": "when u hear the treat bag",
                                   "position": "top"})], result.reply


@pytest.mark.parametrize(("message", "tool"), [("make 2 versions of the painting too",
                                                "vary_image"),
                                               ("ok make 2 more versions of the piece",
                                                "vary_music")])
def test_n_versions_are_new_ones_like_it_not_its_history(me, chat, assistant, paint,
                                                         message, tool):
    paint("a harbour at dusk, oil")
    paint("a calm piano piece", kind="music")
    result, calls = plan(assistant, me, chat, message)
    assert [(n, a.get("count")) for n, a in calls] == [(tool, 2)], result.reply
    result, calls = plan(assistant, me, chat, "show me the versions of #1")
    assert calls == [("show_versions", {"artwork": "#1"})], result.reply


@pytest.mark.parametrize("message", ["LETS GOOO", "ok #1 slaps", "this one goes hard ngl"])
def test_praise_in_slang_is_chat(me, chat, assistant, paint, message):
    paint("a frog in a hat")
    result, calls = plan(assistant, me, chat, message)
    assert calls == [] and result.answer == "chat", result.reply


def test_a_number_of_things_said_up_front_is_a_count(me, chat, assistant):
    result, calls = plan(assistant, me, chat, "make 10 cats")
    assert calls == [("generate_image", {"prompt": "a cat", "count": 4})], result.reply
    result, calls = plan(assistant, me, chat, "draw 3 cats on a sofa")
    assert [(n, a.get("count")) for n, a in calls] == [("generate_image", None)], result.reply


def test_a_thing_put_on_a_painted_subject_edits_it(me, chat, assistant, paint):
    paint("a dino with balloons")
    result, calls = plan(assistant, me, chat, "and a party hat on the dino")
    assert [n for n, _ in calls] == ["edit_image"] and "hat" in calls[0][1]["instruction"], \
        result.reply
    result, calls = plan(assistant, me, chat, "a cat on the beach")
    assert [n for n, _ in calls] == ["generate_image"], result.reply


def test_an_aside_ends_a_thought_and_undo_is_undo(me, chat, assistant, paint):
    paint("a fox in the snow", versions=2)
    result, calls = plan(assistant, me, chat, "bruh its upside down lol undo")
    assert calls == [("undo", {"artwork": "#1"})], result.reply


def test_fix_the_colours_asks_which_way(me, chat, assistant, paint):
    paint("a fox in the snow")
    result, calls = plan(assistant, me, chat, "lol the fox looks cursed, fix the colours")
    assert calls == [] and result.answer == "ask", result.reply


def test_a_style_said_after_then_joins_the_linked_picture(me, chat, assistant, paint):
    paint("a calm piano piece", kind="music")
    result, calls = plan(assistant, me, chat, "ok just a pic for it then, neon")
    assert calls == [("generate_image", {"prompt": "a picture", "inspired_by": "#1",
                                         "style": "neon"})], result.reply


def test_a_correction_keeps_the_instrument_and_the_artwork_named_first(me, chat, assistant,
                                                                         paint):
    paint("a calm piano piece", kind="music")
    paint("a fox in the snow")
    result, calls = plan(assistant, me, chat, "and the first one, redo... no, show me its "
                         "versions first")
    assert calls == [("show_versions", {"artwork": "#1"})], result.reply
    result, calls = plan(assistant, me, chat, "a tune on sleigh bells... no, celesta")
    assert [a.get("instrument") for _, a in calls] == ["celesta"], result.reply
    assert "sleigh" not in calls[0][1]["prompt"], result.reply
