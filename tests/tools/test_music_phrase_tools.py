"""continue_music, vary_music and interpolate_music on pieces of 8 bars and more go
through the committed 16-bar phrase model (numpy), as a person would check them: a
continued 16-bar piece gets 16 more bars in the same key and meter, ending on the tonic
or the dominant; replay gives the same notes; a morph's first step is nearer its first
piece and its last step nearer the second; the recipe names the model that worked.
Short pieces, and a machine without the phrase model's weights, keep the 2-bar model."""

from __future__ import annotations

import pytest

from museforge.models.music.midi import load_midi, to_midi_bytes
from museforge.models.music.piece import Note, Part, Piece
from museforge.models.music.theory import parse_key
from museforge.tools.base import Services, ToolContext
from museforge.tools.registry import get_tool
from museforge.tools.replay import replay


@pytest.fixture
def store(sqlite_store):
    return sqlite_store


@pytest.fixture(scope="module")
def models():
    from museforge.models.music.model import load_default
    from museforge.models.music.phrase_model import load_phrases

    phrases = load_phrases()
    assert phrases is not None, "the phrase model's weights are committed"
    return load_default(), phrases


@pytest.fixture
def ctx(store, me, chat, models):
    melody, phrases = models
    return ToolContext(store, me, chat, services=Services(melody=melody, phrases=phrases))


def run(ctx, name, **args):
    return get_tool(name).run(ctx, args)


def piece_of(artifact):
    return load_midi(artifact.files["mid"].read_bytes())


def recipe_of(ctx, ref):
    return ctx.resolve(ref)[1].recipe


def melody(piece):
    return piece.part("melody").notes


def test_a_continued_16_bar_piece_gets_16_more_bars_ending_on_tonic_or_dominant(ctx, models):
    for seed, meter in ((3, "4/4"), (4, "3/4"), (5, "6/8"), (6, "2/4")):
        made = run(ctx, "compose_music", prompt="a calm tune", bars=16, seed=seed,
                   time_signature=meter).artifacts[0]
        n = made.artwork
        before = piece_of(made)
        result = run(ctx, "continue_music", artwork=f"#{n}", bars=16, seed=seed)
        assert f"Continued #{n} by 16 bars (32 in all), in a 16-bar phrase answering its " \
               "last one, ending on the " in result.message, result.message
        after = piece_of(result.artifacts[0])
        recipe = recipe_of(ctx, f"#{n} v2")
        key = parse_key(recipe_of(ctx, f"#{n} v1")["key"])
        assert after.bars == 32 and after.time_signature == before.time_signature
        assert recipe["key"] == str(key)
        assert melody(after)[:len(melody(before))] == melody(before)
        new = [x for x in melody(after) if x.start >= 16 * before.beats_per_bar - 1e-9]
        assert len(new) >= 8
        assert (new[-1].pitch - key.pitch_class) % 12 in (0, 7)
        assert sum(key.contains(x.pitch) for x in new) == len(new)  # within the key
        assert recipe["phrase_model"] == models[1].name
        assert recipe["phrase_model_revision"] == models[1].revision
        assert recipe["phrases"]["sections"] == [16]
        report = replay(ctx, f"#{n} v2")
        assert report.identical, report.detail


def test_a_continuation_is_the_same_notes_for_the_same_seed(ctx):
    run(ctx, "compose_music", prompt="a tune", bars=8, seed=1)
    one = piece_of(run(ctx, "continue_music", artwork="#1 v1", bars=8, seed=9).artifacts[0])
    two = piece_of(run(ctx, "continue_music", artwork="#1 v1", bars=8, seed=9).artifacts[0])
    assert melody(one) == melody(two) and one.bars == 16


def test_short_pieces_keep_the_two_bar_model(ctx):
    run(ctx, "compose_music", prompt="a tune", bars=4, seed=2)
    result = run(ctx, "continue_music", artwork="#1", bars=4, seed=2)
    assert "answering" not in result.message
    assert "phrase_model" not in recipe_of(ctx, "#1 v2")
    assert recipe_of(ctx, "#1 v2")["model"] == "museforge-melody-vae"
    assert replay(ctx, "#1 v2").identical


def test_without_the_phrase_weights_the_latent_tools_keep_the_two_bar_model(
        store, me, chat, models, monkeypatch):
    from museforge.models.music import phrase_model

    monkeypatch.setattr(phrase_model, "load_phrases", lambda *a, **k: None)
    ctx = ToolContext(store, me, chat, services=Services(melody=models[0]))
    run(ctx, "compose_music", prompt="a tune", bars=16, seed=2)
    assert "phrase_model" not in recipe_of(ctx, "#1")
    run(ctx, "continue_music", artwork="#1", bars=8, seed=2)
    run(ctx, "vary_music", artwork="#1 v1", seed=2)
    for ref in ("#1 v2", "#2"):
        assert "phrase_model" not in recipe_of(ctx, ref), ref
        assert replay(ctx, ref).identical


def test_a_variation_of_a_phrase_piece_moves_its_phrase_latent_and_replays(ctx, models):
    source = piece_of(run(ctx, "compose_music", prompt="a tune", bars=16, seed=7).artifacts[0])
    result = run(ctx, "vary_music", artwork="#1", seed=3)
    assert "phrase by phrase (16 bars)" in result.message, result.message
    varied = piece_of(result.artifacts[0])
    assert varied.time_signature == source.time_signature and varied.bars == source.bars
    assert melody(varied) != melody(source)
    assert [p.notes for p in varied.parts[1:]] == [p.notes for p in source.parts[1:]]
    assert recipe_of(ctx, "#2")["phrase_model_revision"] == models[1].revision
    assert replay(ctx, "#2").identical


def _tune(ctx, tmp_path, name, meter, notes):
    from museforge.tools.music_support import import_midi

    path = tmp_path / f"{name}.mid"
    path.write_bytes(to_midi_bytes(Piece([Part("melody", 0, False, notes)], 100.0, meter,
                                         "D major")))
    return import_midi(ctx, path)


def _notes_per_bar(piece):
    return len(melody(piece)) / piece.bars


def test_morphing_phrase_pieces_across_meters_starts_near_one_and_ends_near_the_other(
        ctx, tmp_path):
    scale = [62, 64, 66, 67, 69, 71, 73, 74]
    # a: 16 bars of 3/4 in dotted halves and quarters; b: 16 bars of 6/8 in running eighths
    slow = [Note(scale[(i * 3) % 8], bar * 3.0 + (0 if i % 2 == 0 else 2), bar * 3.0
                 + (2 if i % 2 == 0 else 3)) for bar in range(16) for i in (2 * bar, 2 * bar + 1)]
    fast = [Note(scale[(i % 14) if i % 14 < 8 else 14 - i % 14], i * 0.5, i * 0.5 + 0.5)
            for i in range(16 * 6)]
    a = _tune(ctx, tmp_path, "slow", (3, 4), slow)
    b = _tune(ctx, tmp_path, "fast", (6, 8), fast)
    result = run(ctx, "interpolate_music", artwork_a=a.ref, artwork_b=b.ref, steps=3)
    assert result.message.startswith("#2 was in 6/8; I re-barred it in 3/4 before morphing. "
                                     "Interpolated #1 into #2 in 3 steps, phrase by phrase "
                                     "(16 bars)"), result.message
    [made] = result.artifacts
    steps = [load_midi(ctx.resolve(f"#{made.artwork} v{v}")[1].files["mid"].read_bytes())
             for v in (1, 2, 3)]
    assert all(s.time_signature == (3, 4) and s.bars == 16 for s in steps)
    density_a, density_b = len(slow) / 16, len(fast) / 16
    first, last = _notes_per_bar(steps[0]), _notes_per_bar(steps[-1])
    assert abs(first - density_a) < abs(first - density_b), (first, density_a, density_b)
    assert abs(last - density_b) < abs(last - density_a), (last, density_a, density_b)
    assert first < last, (first, last)
    recipe = recipe_of(ctx, f"#{made.artwork} v2")
    assert recipe["phrase_model"] and recipe["phrases"]["sections"] == [16]
    assert replay(ctx, f"#{made.artwork} v2").identical
