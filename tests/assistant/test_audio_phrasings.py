"""Audio clips through the offline planner: recordings asked for in audio words, the
edits that need no model ("trim it to 8 seconds", "fade out", "louder", "mix it with the
jig") on a clip, and the same words about a piece or a picture still going to their own
tools. Real ``--plan-only`` turns, then a real turn with no audio weights.

Session: #1 "a red fox" (image), #2 "a jig" (music), #3 "rain on a tin roof" (audio); "it"
is the clip unless a case says otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest
from phrasing import Call, check_table_shape, run_table


def edit(**kw: Any) -> list[Call]:
    return [("edit_audio", {"artwork": "#3", **kw})]


PHRASINGS: list[tuple[str, list[Call]]] = [
    ("trim it to 8 seconds", edit(trim=[0.0, 8.0])),
    ("a 10 second clip of rain, stable audio",
     [("generate_audio", {"prompt": "rain", "seconds": 10.0, "model": "stable-audio-open"})]),
    ("use stable audio: thunderstorm at night, 15 s",
     [("generate_audio", {"prompt": "thunderstorm at night", "seconds": 15.0,
                          "model": "stable-audio-open"})]),
    ("a 5 second recording of a busy street, without car horns",
     [("generate_audio", {"prompt": "a busy street", "seconds": 5.0,
                          "negative_prompt": "car horns"})]),
    ("make a lofi song with ace-step, 20 seconds",
     [("generate_audio", {"prompt": "a lofi song", "seconds": 20.0, "model": "ace-step"})]),
    ("keep only the first 4 seconds", edit(trim=[0.0, 4.0])),
    ("cut the first 2 seconds", edit(trim=[2.0, 0.0])),
    ("trim from 3 to 9 seconds", edit(trim=[3.0, 9.0])),
    ("fade out over 3 seconds", edit(fade_out=3.0)),
    ("fade it in", edit(fade_in=2.0)),
    ("add a 1.5 second fade-out", edit(fade_out=1.5)),
    ("loop it to 30 seconds", edit(loop_to=30.0)),
    ("loop the rain for 1 minute", edit(loop_to=60.0)),
    ("louder", edit(gain=3.0)),
    ("much quieter please", edit(gain=-6.0)),
    ("turn it up 4 dB", edit(gain=4.0)),
    ("normalise it", edit(normalise=True)),
    ("a bit faster", edit(tempo_scale=1.1)),
    ("slow the rain down", edit(tempo_scale=0.83)),
    ("mix it with the jig", edit(mix_with="#2")),
    ("layer #3 over #2", edit(mix_with="#2")),
    # recordings
    ("generate audio of a busy cafe", [("generate_audio", {"prompt": "a busy cafe"})]),
    ("a sound effect of a door creaking",
     [("generate_audio", {"prompt": "a sound effect of a door creaking"})]),
    ("make a 12 second recording of waves on pebbles",
     [("generate_audio", {"seconds": 12.0})]),
    ("make a full-band recording of #2", [("generate_audio", {"melody_from": "#2"})]),
    ("record the jig with a real band", [("generate_audio", {"melody_from": "#2"})]),
    ("a soundscape for the fox, 20 seconds",
     [("generate_audio", {"inspired_by": "#1", "seconds": 20.0})]),
    # the same words about a piece or a picture
    ("the jig faster", [("edit_music", {"artwork": "#2", "tempo_scale": 1.2})]),
    ("crop the fox to a square", [("reframe_image", {"artwork": "#1", "aspect": "1:1"})]),
    ("list my clips", [("list_artworks", {"kind": "audio"})]),
    ("show me my recordings", [("list_artworks", {"kind": "audio"})]),
]


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def audio_session(paint, remember):
    paint("a red fox")
    paint("a jig", kind="music")
    paint("rain on a tin roof", kind="audio")
    remember([3], kind="audio")


def test_the_audio_phrasing_table_is_big_and_has_no_duplicates():
    check_table_shape(PHRASINGS, 25)


def test_the_offline_planner_understands_audio_requests(me, chat, assistant, audio_session,
                                                        heads, capsys):
    run_table("audio phrasings", PHRASINGS, assistant, me, chat, heads, capsys)


def test_showing_a_clip_asks_what_to_do_with_it_and_paints_nothing(me, chat, assistant,
                                                                   audio_session):
    result = assistant.turn(me, chat, "here is my recording", plan_only=True)
    assert result.calls == [] and result.answer == "ask"
    assert "#3" in result.reply and "fade" in result.reply


def test_a_recording_with_no_audio_weights_says_how_to_get_them_and_makes_nothing(
        store, me, chat, assistant, heads):
    before = heads()
    result = assistant.turn(me, chat, "make a 5 second recording of rain on a window")
    assert [c.name for c in result.calls] == ["generate_audio"]
    assert not result.calls[0].ok
    assert "museforge models pull musicgen-small" in result.reply
    assert heads() == before and result.artifacts == []
