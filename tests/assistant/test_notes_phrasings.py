"""A person's own melody through the offline planner: notes typed or pasted into the chat
(names, octaves, lengths, bar lines, MIDI numbers, solfège, an ABC tune) come in as
they are, start a new piece, get chords under them or go out as a score; "harmonise it"
and "export #2 as ABC" work on pieces already there. Real ``--plan-only`` turns, then real
turns through the tools and the store.

Session: #1 "a red fox" (image), #2 "a calm piano melody" and #3 "a sad waltz" (music);
the last thing touched was #2, so "it" is #2 and a new artwork is #4.
"""

from __future__ import annotations

from typing import Any

import pytest
from phrasing import Call, check_table_shape, run_table

from museforge.models.music.midi import load_midi
from museforge.models.music.scorefiles import load_abc


def brought(notes: str, **kw: Any) -> list[Call]:
    return [("import_melody", {"notes": notes, **kw})]


def compose(**kw: Any) -> list[Call]:
    return [("compose_music", kw)]


KESH = "X:1\nT:The Kesh\nM:6/8\nL:1/8\nK:G\n|:GAG GAB|ABA ABd|edd gdd|edB dBA:|"

PHRASINGS: list[tuple[str, list[Call]]] = [
    # -- notes in, as they are --------------------------------------------------------------
    ("here's my tune: C D E C | E F G", brought("C D E C | E F G")),
    ("C4 E4 G4 C5", brought("C4 E4 G4 C5")),
    ("do re mi fa sol", brought("do re mi fa sol")),
    ("play 60 64 67 72", brought("60 64 67 72")),
    ("can you play C4 E4 G4 C5 on the violin?", brought("C4 E4 G4 C5", instrument="violin")),
    ("D8 F#8 A4 D5/2 on the flute at 90 bpm",
     brought("D8 F#8 A4 D5/2", instrument="flute", tempo=90.0)),
    ("C D E F G A B C, 3/4, at 90 bpm",
     brought("C D E F G A B C", time_signature="3/4", tempo=90.0)),
    ("this is the hook I have in my head: E G A G E D C", brought("E G A G E D C")),
    ("C-D-E-F-G please", brought("C-D-E-F-G")),
    ("my melody called Morning: G A B D E", brought("G A B D E", title="Morning")),
    (KESH, brought(KESH)),
    (f"Here is a jig I know:\n{KESH}\n", brought(KESH)),
    # -- and something done to them at once ---------------------------------------------------
    ("here's a little tune E D C D E E E, make it faster",
     brought("E D C D E E E") + [("edit_music", {"artwork": "#4", "tempo_scale": 1.2})]),
    (f"{KESH}\n\ncan you make it slower",
     brought(KESH) + [("edit_music", {"artwork": "#4", "tempo_scale": 0.83})]),
    ("harmonise this: D8 F#8 A4 D5",
     brought("D8 F#8 A4 D5") + [("harmonise_music", {"artwork": "#4"})]),
    ("put chords and a bass line under G A B G D",
     brought("G A B G D") + [("harmonise_music", {"artwork": "#4",
                                                  "parts": ["chords", "bass"]})]),
    ("C E G E C, export it as ABC",
     brought("C E G E C") + [("export_music", {"artwork": "#4", "format": "abc"})]),
    # -- a new piece that starts with them ---------------------------------------------------
    ("compose a waltz that starts with G A B D",
     compose(style="waltz", start_with="G A B D")),
    ("turn these notes into a jig: D E F# G A B", compose(style="jig", start_with="D E F# G A B")),
    ("I wrote this melody: e d c d e e e. can you continue it?",
     compose(start_with="e d c d e e e")),
    ("write a sad piece on the cello beginning with A3 C4 E4 A4",
     compose(mood="sad", instrument="cello", start_with="A3 C4 E4 A4")),
    ("my tune goes do re mi do re mi fa sol la. Make a waltz out of it",
     compose(style="waltz", start_with="do re mi do re mi fa sol la")),
    # -- chords under a piece already here ------------------------------------------------------
    ("harmonise it", [("harmonise_music", {"artwork": "#2"})]),
    ("harmonize the waltz", [("harmonise_music", {"artwork": "#3"})]),
    ("add chords to #3", [("harmonise_music", {"artwork": "#3", "parts": ["chords"]})]),
    ("put a bass line under it", [("harmonise_music", {"artwork": "#2", "parts": ["bass"]})]),
    ("give it some drums", [("harmonise_music", {"artwork": "#2", "parts": ["drums"]})]),
    ("could you add an accompaniment to the melody", [("harmonise_music", {"artwork": "#2"})]),
    # -- a score out -------------------------------------------------------------------------------
    ("export #2 as ABC", [("export_music", {"artwork": "#2", "format": "abc"})]),
    ("can I get the sheet music?", [("export_music", {"artwork": "#2", "format": "musicxml"})]),
    ("save it as musicxml", [("export_music", {"artwork": "#2", "format": "musicxml"})]),
    ("give me the midi file for the waltz", [("export_music", {"artwork": "#3",
                                                               "format": "midi"})]),
    ("I want to open the waltz in MuseScore", [("export_music", {"artwork": "#3",
                                                                 "format": "musicxml"})]),
    ("the score in abc notation please", [("export_music", {"artwork": "#2", "format": "abc"})]),
    # -- and what is not one of these --------------------------------------------
    ("compose a melody only, no chords", compose(parts=["melody"])),
    ("make 2 variations", [("vary_music", {"artwork": "#2", "count": 2})]),
    ("paint a bee, a cat and a dog", [("generate_image", {})]),
    ("it sounds like a MIDI file, make it feel more human",
     [("edit_music", {"artwork": "#2", "humanize": 0.5})]),
    ("harmonise the colours of the fox", [("edit_image", {"artwork": "#1"})]),
]

# What a person is told instead of an action.
SAID = [
    ("print the sheet music as a pdf", "refuse", "MusicXML"),
    ("export it as mp3", "refuse", "format"),
    ("harmonize the fox", "say", "is a picture"),
    ("export the fox as abc", "say", "is a picture"),
]


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def music_session(paint, remember):
    paint("a red fox", versions=1)
    paint("a calm piano melody", versions=2, kind="music")
    paint("a sad waltz", versions=1, kind="music")
    remember([2], kind="music")


def test_the_notes_phrasing_table_is_big_and_has_no_duplicates():
    check_table_shape(PHRASINGS, 35)


def test_the_offline_planner_understands_a_persons_own_notes(me, chat, assistant,
                                                             music_session, heads, capsys):
    run_table("notes phrasings", PHRASINGS, assistant, me, chat, heads, capsys)


@pytest.mark.parametrize(("phrase", "answer", "words"), SAID)
def test_what_cannot_be_done_with_notes_is_said(me, chat, assistant, music_session,
                                                phrase, answer, words):
    result = assistant.turn(me, chat, phrase, plan_only=True)
    assert result.calls == []
    assert result.answer == answer
    assert words in result.reply


def test_typed_notes_through_real_turns_come_in_get_chords_and_go_out_as_abc(
        store, me, chat, assistant):
    """The conversation a person has: type a tune, hear it harmonised, take it away."""
    first = assistant.turn(me, chat, "here's my tune: G4 A4 B4 G4 | D5/2 B4/2")
    assert [c.name for c in first.calls] == ["import_melody"] and all(c.ok for c in first.calls)
    assert "I read: G4/4 A4/4 B4/4 G4/4 D5/2 B4/2" in first.reply
    [made] = first.artifacts
    melody = load_midi(made.files["mid"].read_bytes()).part("melody")
    assert [n.pitch for n in melody.notes] == [67, 69, 71, 67, 74, 71]

    second = assistant.turn(me, chat, "harmonise it")
    assert [c.name for c in second.calls] == ["harmonise_music"], second.reply
    assert all(c.ok for c in second.calls), second.reply
    piece = load_midi(second.artifacts[0].files["mid"].read_bytes())
    assert {p.name for p in piece.parts} >= {"melody", "chords", "bass"}
    assert [n.pitch for n in piece.part("melody").notes] == [67, 69, 71, 67, 74, 71]

    third = assistant.turn(me, chat, "export it as ABC")
    assert [c.name for c in third.calls] == ["export_music"] and all(c.ok for c in third.calls)
    path = next(line.split(": ", 1)[1].rstrip(".") for line in third.reply.splitlines()
                if line.startswith("Wrote "))
    reread = load_abc(open(path, encoding="utf-8").read()).piece
    assert [n.pitch for n in reread.part("melody").notes] == [67, 69, 71, 67, 74, 71]
