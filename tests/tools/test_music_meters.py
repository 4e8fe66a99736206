"""Morphing and continuing across meters: a piece in a related meter (3/4 and 6/8, 2/4
and 4/4) is re-barred first, the reply says so, and the result replays byte for byte;
meters that cannot be re-barred note for note are refused with a reason."""

from __future__ import annotations

import pytest

from museforge.models.music.midi import load_midi
from museforge.tools.base import Services, ToolContext, ToolError
from museforge.tools.registry import get_tool
from museforge.tools.replay import replay


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture
def ctx(store, me, chat, tiny_melody_model):
    return ToolContext(store, me, chat, services=Services(melody=tiny_melody_model))


def run(ctx, name, **args):
    return get_tool(name).run(ctx, args)


def piece_of(artifact):
    return load_midi(artifact.files["mid"].read_bytes())


def compose(ctx, style, seed=3, **more):
    return run(ctx, "compose_music", prompt=f"a {style}", style=style, seed=seed, bars=2,
               **more).artifacts[0]


@pytest.mark.parametrize(("first", "second", "said"), [
    ("waltz", "jig", "#2 was in 6/8; I re-barred it in 3/4 before morphing"),
    ("jig", "waltz", "#2 was in 3/4; I re-barred it in 6/8 before morphing"),
    ("reel", "march", "#2 was in 2/4; I re-barred it in 4/4 before morphing"),
])
def test_pieces_in_related_meters_are_morphed_after_rebarring(ctx, first, second, said):
    a, _ = compose(ctx, first), compose(ctx, second, seed=4)
    result = run(ctx, "interpolate_music", artwork_a="#1", artwork_b="#2", steps=1)
    assert result.message.startswith(said + ". Interpolated #1 into #2"), result.message
    [made] = result.artifacts
    assert piece_of(made).time_signature == piece_of(a).time_signature
    report = replay(ctx, f"#{made.artwork} v1")
    assert report.identical, report.detail


def test_pieces_in_one_meter_are_morphed_without_a_word_about_meters(ctx):
    compose(ctx, "reel"), compose(ctx, "rock", seed=5)
    result = run(ctx, "interpolate_music", artwork_a="#1", artwork_b="#2", steps=1)
    assert result.message.startswith("Interpolated #1 into #2"), result.message


def test_meters_that_do_not_rebar_are_refused_with_the_pairs_that_do(ctx):
    compose(ctx, "reel"), compose(ctx, "waltz")
    with pytest.raises(ToolError, match="only between 3/4 and 6/8 and between 2/4 and 4/4"):
        run(ctx, "interpolate_music", artwork_a="#1", artwork_b="#2", steps=2)


@pytest.mark.parametrize(("style", "meter", "said"), [
    ("jig", "3/4", "#1 was in 6/8; I re-barred it in 3/4 before carrying on"),
    ("march", "4/4", "#1 was in 2/4; I re-barred it in 4/4 before carrying on"),
])
def test_a_piece_carries_on_in_a_related_meter(ctx, style, meter, said):
    before = piece_of(compose(ctx, style))
    result = run(ctx, "continue_music", artwork="#1", bars=2, time_signature=meter, seed=1)
    assert result.message.startswith(said + ". Continued #1 by 2 bars"), result.message
    after = piece_of(result.artifacts[0])
    assert after.time_signature == tuple(int(x) for x in meter.split("/"))
    old = before.part("melody").notes
    assert after.part("melody").notes[:len(old)] == old  # the tune as it was, re-barred
    assert after.end_beat > before.end_beat
    assert replay(ctx, "#1 v2").identical


def test_carrying_on_into_an_unrelated_meter_is_refused(ctx):
    compose(ctx, "jig")
    with pytest.raises(ToolError, match="#1 is in 6/8 and I can re-bar only"):
        run(ctx, "continue_music", artwork="#1", bars=2, time_signature="4/4")


@pytest.mark.parametrize(("meter", "said"), [((12, 8), "6/8"), ((3, 8), "6/8"),
                                             ((6, 4), "3/4")])
def test_a_tune_in_a_meter_the_model_writes_as_another_carries_on_in_its_own(
        ctx, tmp_path, meter, said):
    from museforge.models.music.midi import to_midi_bytes
    from museforge.models.music.piece import Note, Part, Piece
    from museforge.tools.music_support import import_midi

    bpb = meter[0] * 4 / meter[1]
    bars = 4
    scale = [62, 64, 66, 67, 69, 71, 73, 74]
    notes = [Note(scale[i % 8], i * 0.5, i * 0.5 + 0.5) for i in range(int(bars * bpb * 2))]
    path = tmp_path / "tune.mid"
    path.write_bytes(to_midi_bytes(Piece([Part("melody", 0, False, notes)], 120.0, meter,
                                         "D major")))
    import_midi(ctx, path)
    result = run(ctx, "continue_music", artwork="#1", bars=2, seed=1)
    after = piece_of(result.artifacts[0])
    assert after.time_signature == meter and after.bars == bars + 2, (after.bars, said)
    melody = after.part("melody").notes
    assert melody[:len(notes)] == notes and len(melody) > len(notes)
    assert max(n.end for n in melody) <= (bars + 2) * bpb + 1e-6
    [varied] = run(ctx, "vary_music", artwork="#1 v1", seed=2).artifacts
    assert piece_of(varied).time_signature == meter
    assert replay(ctx, "#1 v2").identical and replay(ctx, "#2").identical
