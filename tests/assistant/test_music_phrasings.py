"""The offline planner's music rules against the way people ask for music: phrasing ->
expected call, through real ``--plan-only`` turns. Prints its accuracy, lists misses.

Session: #1 "a red fox" (image), #2 "a calm piano melody" and #3 "a sad waltz" (music);
the last thing touched was #2, so "it" is #2.
"""

from __future__ import annotations

from typing import Any

import pytest
from phrasing import Call, check_table_shape, run_table


def compose(**kw: Any) -> list[Call]:
    return [("compose_music", kw)]


def edit(n: int = 2, **kw: Any) -> list[Call]:
    return [("edit_music", {"artwork": f"#{n}", **kw})]


PHRASINGS: list[tuple[str, list[Call]]] = [
    # -- compose ------------------------------------------------------------------------
    ("compose a calm piano piece", compose(mood="calm", instrument="piano")),
    ("write a sad song in D minor", compose(mood="sad", key="D minor")),
    ("compose a waltz", compose(style="waltz")),
    ("compose a hornpipe", compose(style="hornpipe")),
    ("a jazzy tune on the sax", compose(style="jazz", instrument="sax")),
    ("a swing tune for the dance", compose(style="jazz")),
    ("continue #2 in 3/4 for 4 bars",
     [("continue_music", {"artwork": "#2", "bars": 4, "time_signature": "3/4"})]),
    ("keep going but in 6/8", [("continue_music", {"artwork": "#2", "time_signature": "6/8"})]),
    ("make a lullaby on the music box", compose(style="lullaby", instrument="music box")),
    ("compose a jig in 6/8 on the fiddle",
     compose(style="jig", time_signature="6/8", instrument="fiddle")),
    ("compose 16 bars of ambient music", compose(style="ambient", bars=16)),
    ("write a happy tune at 120 bpm", compose(mood="happy", tempo=120.0)),
    ("create a melody for the violin", compose(instrument="violin")),
    ("play me something cheerful", compose(mood="cheerful")),
    ("compose an epic march with drums", compose(mood="epic", style="march")),
    ("write a rock song", compose(style="rock")),
    ("compose a mysterious piece in E minor", compose(mood="mysterious", key="E minor")),
    ("compose a piece in three-four time", compose(time_signature="3/4")),
    ("compose a melody only, no chords", compose(parts=["melody"])),
    ("compose a calm piano piece that fits #1", compose(inspired_by="#1")),
    ("write a song that matches the picture", compose(inspired_by="#1")),
    ("compose a tune in Bb major", compose(key="Bb major")),
    ("make a gentle ballad on the guitar", compose(style="ballad", instrument="guitar")),
    # -- tempo --------------------------------------------------------------------------
    ("a bit faster", edit(tempo_scale=1.1)),
    ("faster", edit(tempo_scale=1.2)),
    ("much faster please", edit(tempo_scale=1.5)),
    ("slower", edit(tempo_scale=0.83)),
    ("slow it down a little", edit(tempo_scale=0.91)),
    ("set the tempo to 90 bpm", edit(tempo=90.0)),
    ("play #3 at 140 bpm", edit(3, tempo=140.0)),
    ("double time", edit(tempo_scale=2.0)),
    # -- pitch --------------------------------------------------------------------------
    ("transpose it up two semitones", edit(transpose=2)),
    ("transpose +3", edit(transpose=3)),
    ("transpose #3 down 5", edit(3, transpose=-5)),
    ("move it up a fourth", edit(transpose=5)),
    ("down an octave", edit(transpose=-12)),
    ("raise it a whole tone", edit(transpose=2)),
    ("put it in D minor", edit(key="D minor")),
    ("change the key to E major", edit(key="E major")),
    ("make it minor", edit(mode="minor")),
    ("switch #3 to major", edit(3, mode="major")),
    # -- instrument, length, feel ----------------------------------------------------------
    ("play it on the violin", edit(instrument="violin")),
    ("switch the melody to flute", edit(instrument="flute")),
    ("make the bass a cello", edit(instrument="cello", part="bass")),
    ("make it 16 bars long", edit(bars=16)),
    ("trim #3 to 4 bars", edit(3, bars=4)),
    ("humanize it", edit(humanize=0.5)),
    ("quantize it to sixteenths", edit(quantize="1/16")),
    ("tighten the timing", edit(quantize="1/16")),
    # -- the model's latent space ----------------------------------------------------------
    ("a variation of the melody", [("vary_music", {"artwork": "#2", "amount": 0.3})]),
    ("vary #3 a lot", [("vary_music", {"artwork": "#3", "amount": 0.6})]),
    ("give me 3 variations of the song", [("vary_music", {"artwork": "#2", "count": 3})]),
    ("continue it", [("continue_music", {"artwork": "#2", "bars": 4})]),
    ("keep going for 8 more bars", [("continue_music", {"artwork": "#2", "bars": 8})]),
    ("extend #3 by 6 bars", [("continue_music", {"artwork": "#3", "bars": 6})]),
    ("add 4 more bars", [("continue_music", {"artwork": "#2", "bars": 4})]),
    ("morph #2 into #3", [("interpolate_music", {"artwork_a": "#2", "artwork_b": "#3"})]),
    ("interpolate between #2 and #3 in 6 steps",
     [("interpolate_music", {"artwork_a": "#2", "artwork_b": "#3", "steps": 6})]),
    ("blend #2 and #3", [("interpolate_music", {"artwork_a": "#2", "artwork_b": "#3"})]),
    # -- several requests, and pictures still go to the image tools -------------------------
    ("compose a waltz and then make it faster",
     compose(style="waltz") + [("edit_music", {"artwork": "#4", "tempo_scale": 1.2})]),
    # two changes of one piece in one message are one edit (one new version), as the
    # corpus writers expect ("transpose -3 and quantize to 1/8")
    ("transpose it up 2 and slow it down", edit(transpose=2, tempo_scale=0.83)),
    ("blend #1 and #1 v1", [("blend_images", {})]),
    ("a variation of #1", [("vary_image", {"artwork": "#1"})]),
    ("extend the canvas of #1", [("reframe_image", {"artwork": "#1"})]),
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






def test_the_music_phrasing_table_is_big_and_has_no_duplicates():
    check_table_shape(PHRASINGS, 50)


def test_the_offline_planner_understands_music_requests(me, chat, assistant, music_session,
        heads, capsys):
    run_table("music phrasings", PHRASINGS, assistant, me, chat, heads, capsys)
