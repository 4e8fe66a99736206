"""The 16-bar phrase model (hierarchical VAE): numpy against torch on a tiny random model
and on the committed weights' held-out phrases, the card's figures from the committed
weights, the structure measures, the re-barred corpus, and the composer writing plain
pieces of 8 bars and more with it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from museforge.models.music import phrase_data as pd
from museforge.models.music.checkpoint import WEIGHTS_DIR
from museforge.models.music.data import FIRST_PITCH_TOKEN, NO_EVENT, NOTE_OFF, STEPS_PER_BAR
from museforge.models.music.numpy_hvae import (
    PHRASE_CARD,
    PHRASE_FIGURES,
    PHRASE_HELDOUT,
    PHRASE_WEIGHTS,
    NumpyPhraseVAE,
    PhraseConfig,
)

TIME_SIGNATURES = [(4, 4), (2, 4), (3, 4), (6, 8)]  # one per meter id
PER_METER = 24  # committed held-out phrases compared per meter
TINY = PhraseConfig(embed=8, meter_embed=4, bar_encoder=12, phrase_encoder=12, latent=8,
                    conductor=16, bar_embed=6, decoder=20)


def tok(pitch: int) -> int:
    return FIRST_PITCH_TOKEN + pitch - 48


@pytest.fixture(scope="module")
def tiny():
    torch = pytest.importorskip("torch")
    from museforge.models.music.hvae import PhraseVAE

    torch.manual_seed(1)
    net = PhraseVAE(TINY).eval()
    return net, NumpyPhraseVAE(TINY, {k: v.numpy() for k, v in net.state_dict().items()})


@pytest.fixture(scope="module")
def committed():
    pytest.importorskip("torch")
    from museforge.models.music.phrase_model import PhraseVAEModel

    return (PhraseVAEModel.from_dir(WEIGHTS_DIR, backend="torch"),
            PhraseVAEModel.from_dir(WEIGHTS_DIR))


@pytest.fixture(scope="module")
def heldout():
    windows, _ = pd.load_phrases(WEIGHTS_DIR / PHRASE_HELDOUT)
    return [w.take(np.arange(min(len(w), PER_METER))) for w in windows]


def _compare(tnet, nnet, tokens, meter, *, tf_floor=None):
    import torch

    with torch.no_grad():
        mu_t, logvar_t = tnet.encode(torch.from_numpy(tokens), meter)
        logits_t = tnet.logits(mu_t, torch.from_numpy(tokens), meter).numpy()
        greedy_t = tnet.generate(mu_t, meter).numpy()
    mu_n, logvar_n = nnet.encode(tokens, meter)
    logits_n = nnet.logits(mu_n, tokens, meter)
    assert np.abs(mu_n - mu_t.numpy()).max() < 1e-4
    assert np.abs(logvar_n - logvar_t.numpy()).max() < 1e-4
    assert np.abs(logits_n - logits_t).max() < 1e-4
    assert np.array_equal(nnet.generate(mu_n, meter), greedy_t)
    assert np.array_equal(nnet.generate(mu_t.numpy(), meter), greedy_t)
    if tf_floor is not None:  # not a vacuous match: the model reconstructs these phrases
        assert (logits_n.argmax(2) == tokens).mean() > tf_floor


# ---------------------------------------------------------------- numpy against torch


@pytest.mark.parametrize("meter", range(4))
def test_numpy_matches_torch_on_a_tiny_random_model(tiny, meter):
    rng = np.random.default_rng(meter)
    tokens = rng.integers(0, 39, (5, 16 * STEPS_PER_BAR[meter]))
    _compare(*tiny, tokens, meter)


@pytest.mark.parametrize("meter", range(4))
def test_numpy_matches_torch_on_the_committed_heldout_phrases(committed, heldout, meter):
    torch_model, numpy_model = committed
    assert numpy_model.backend == "numpy" and torch_model.backend == "torch"
    w = heldout[meter]
    _compare(torch_model._net, numpy_model._net, w.tokens.astype(np.int64), meter,
             tf_floor=0.55)


def test_the_runtime_api_gives_the_same_phrases_on_both(committed, heldout):
    from museforge.models.music.data import tokens_to_notes

    torch_model, numpy_model = committed
    for w, ts in zip(heldout, TIME_SIGNATURES, strict=True):
        melodies = [tokens_to_notes(row) for row in w.tokens[:4]]
        zn, zt = numpy_model.encode_many(melodies, ts), torch_model.encode_many(melodies, ts)
        assert np.abs(np.subtract(zn, zt)).max() < 1e-4
        assert numpy_model.decode_many(zn, ts) == torch_model.decode_many(zt, ts)


def test_sampling_on_numpy_is_seeded_and_stays_in_range(committed):
    _, model = committed
    first = model.sample(3, (3, 4), temperature=1.0, seed=4)
    assert model.sample(3, (3, 4), temperature=1.0, seed=4) == first
    assert model.sample(3, (3, 4), temperature=1.0, seed=5) != first
    for notes in first:
        assert all(48 <= n.pitch <= 84 and 0 <= n.start < n.end <= 16 * 3 for n in notes)


# ---------------------------------------------------------------- the committed card


def test_the_committed_weights_are_small_with_a_card():
    weights = WEIGHTS_DIR / PHRASE_WEIGHTS
    assert weights.stat().st_size <= 20_000_000
    figures = json.loads((WEIGHTS_DIR / PHRASE_FIGURES).read_text())
    card = (WEIGHTS_DIR / PHRASE_CARD).read_text()
    assert f"**{figures['phrase']['accuracy']:.3f}**" in card
    assert f"**{figures['phrase']['greedy_accuracy']:.3f}**" in card
    assert f"revision `{figures['model']['revision']}`" in card


def test_evaluate_reproduces_the_cards_teacher_forced_figures(committed):
    from museforge.models.music.phrase_eval import evaluate_phrases

    card = json.loads((WEIGHTS_DIR / PHRASE_FIGURES).read_text())
    fresh = evaluate_phrases(WEIGHTS_DIR, full=False)
    for name in ("accuracy", "note_on_accuracy", "kl"):
        assert fresh["phrase"][name] == pytest.approx(card["phrase"][name], rel=1e-3,
                                                      abs=1e-3), name


@pytest.mark.slow
def test_evaluate_reproduces_the_whole_card(committed):
    from museforge.models.music.phrase_eval import card_figures, evaluate_phrases

    card = card_figures(json.loads((WEIGHTS_DIR / PHRASE_FIGURES).read_text()))
    fresh = card_figures(evaluate_phrases(WEIGHTS_DIR))
    for name, value in card.items():
        assert fresh[name] == pytest.approx(value, rel=0.02, abs=0.01), name


# ---------------------------------------------------------------- structure measures


def _bar(meter, events):
    row = np.zeros(STEPS_PER_BAR[meter], np.int64)
    for step, token in events:
        row[step] = token
    return row


def test_repeats_and_sequences_are_counted_and_others_not():
    m = 2  # 3/4: 12 steps a bar
    a = _bar(m, [(0, tok(60)), (4, tok(62)), (8, tok(64))])
    seq = _bar(m, [(0, tok(62)), (4, tok(64)), (8, tok(65))])  # a diatonic step up
    other_rhythm = _bar(m, [(0, tok(60)), (6, tok(62))])
    rest = _bar(m, [(0, NOTE_OFF)])
    phrase = np.concatenate([a, a, seq, other_rhythm] + [rest] * 12)
    # bars 2 (repeat) and 3 (sequence) count; bar 4 does not; the rests repeat each other
    # from bar 6 on (bar 5 is the first rest bar)
    assert pd.repeated_bars(phrase, m) == pytest.approx((2 + 11) / 15)
    leap = _bar(m, [(0, tok(62)), (4, tok(67)), (8, tok(65))])  # the contour, not the steps
    assert not pd._same_or_sequence(pd._bar_events(a, 12)[0], pd._bar_events(leap, 12)[0])


def test_cadence_and_range_read_the_key_from_the_phrase():
    m = 0
    c_major = [tok(p) for p in (60, 64, 67, 72, 65, 69, 67, 62)]
    bars = [_bar(m, [(0, c_major[b % 8]), (8, c_major[(b + 3) % 8])]) for b in range(15)]
    ending = {"tonic": 60, "dominant": 67, "other": 62}
    for name, pitch in ending.items():
        phrase = np.concatenate(bars + [_bar(m, [(0, tok(pitch))])])
        assert pd.cadence(phrase) == name
        assert pd.phrase_key(phrase) == (0, "major")
    assert pd.pitch_range(np.concatenate(bars + [_bar(m, [(0, tok(60))])])) == 12
    assert pd.cadence(np.zeros(256, np.int64)) == "none"


def test_the_heldout_phrases_are_the_two_bar_models_heldout_tunes():
    _, info = pd.load_phrases(WEIGHTS_DIR / PHRASE_HELDOUT)
    figures = json.loads((WEIGHTS_DIR / PHRASE_FIGURES).read_text())
    t = figures["training"]
    assert sum(t["heldout_windows"].values()) == figures["phrase"]["windows"]
    # every committed phrase is 16 whole bars and starts with an event
    for w in pd.load_phrases(WEIGHTS_DIR / PHRASE_HELDOUT)[0]:
        assert w.tokens.shape[1] == 16 * STEPS_PER_BAR[w.meter]
        assert (w.tokens[:, 0] != NO_EVENT).all()


# ---------------------------------------------------------------- the re-barred corpus

JIG = """X:1
T:Test jig
M:6/8
L:1/8
K:G
D|:GAB cde|dBG AFD|GAB cde|dBG A2D:|
|:gfe dcB|cAF GFE|DEF GAB|cAF G2:|
"""


def test_the_rebarred_parse_joins_the_bars_a_pickup_splits(tmp_path):
    pytest.importorskip("music21")
    from music21 import converter

    from museforge.models.music.data import _melody_part
    from museforge.models.music.phrase_corpus import _timeline_bars

    bars, _ = _timeline_bars(_melody_part(converter.parse(JIG, format="abc")))
    # the pickup D is left before the first bar line; 4 + 4 whole bars follow, the last
    # one (five eighths as printed, the pickup's eighth missing) held to its bar line
    assert len(bars) == 8
    assert all(ts == (6, 8) and len(p) == 12 for ts, p, _, _ in bars)
    assert [f for *_, f in bars] == [False] + [True] * 7
    assert bars[0][1][0] == 67 and bars[0][2][0]  # G on the first downbeat, not the D
    last_pitch, last_onset = bars[7][1], bars[7][2]
    assert (last_pitch[6:] == 67).all() and last_onset[6] and not last_onset[7:].any()


# ---------------------------------------------------------------- the composer


@pytest.fixture(scope="module")
def two_bar():
    from museforge.models.music.model import load_default

    return load_default()


def _compose(two_bar, phrases, bars, style=None, seed=0):
    from museforge.models.music.composer import ComposeRequest, compose

    return compose(ComposeRequest(prompt="a tune", bars=bars, style=style, seed=seed),
                   two_bar, phrases)


def test_the_composer_writes_plain_pieces_of_8_bars_and_more_in_phrases(committed, two_bar):
    _, phrases = committed
    for bars, sections, shape in ((8, [8], "A"), (16, [16], "A"), (32, [16, 16], "AB"),
                                  (20, [10, 10], "AB"), (64, [16] * 4, "AABA")):
        r = _compose(two_bar, phrases, bars)
        assert r.recipe["phrase_model"] == phrases.name
        assert r.recipe["phrase_model_revision"] == phrases.revision
        assert (r.recipe["sections"], r.recipe["form"], r.recipe["bars"]) == \
            (sections, shape, bars)
        melody = r.piece.parts[0].notes
        assert max(n.end for n in melody) <= bars * 4 + 1e-9
    # an AABA's returning A is its first A again
    r = _compose(two_bar, phrases, 64)
    melody = r.piece.parts[0].notes
    a1 = [(n.pitch, n.start) for n in melody if n.start < 64]
    a2 = [(n.pitch, n.start - 64) for n in melody if 64 <= n.start < 128]
    assert a1 == a2


def test_dances_jazz_and_short_pieces_keep_the_two_bar_model(committed, two_bar):
    _, phrases = committed
    for bars, style in ((16, "jig"), (16, "reel"), (16, "jazz"), (4, None)):
        assert "phrase_model" not in _compose(two_bar, phrases, bars, style).recipe
    assert "phrase_model" not in _compose(two_bar, None, 16).recipe


def test_composed_16_bar_pieces_have_the_structure_the_card_claims(committed):
    """The card's composed row, re-made: plain 16-bar pieces of each meter (the
    composer's own seeds) repeat or sequence bars and span a range inside the held-out
    phrases' 10th..90th percentiles, and end on the tonic or dominant at least as often
    as the held-out phrases do."""
    from museforge.models.music.phrase_eval import composed_structure

    figures = json.loads((WEIGHTS_DIR / PHRASE_FIGURES).read_text())
    held, card = figures["structure"]["heldout"], figures["structure"]["composed"]
    degrees: list[int] = []
    fresh = pd.summarise(composed_structure(WEIGHTS_DIR, degrees))
    # in the key the piece names, nearly every one ends on its tonic or dominant
    named = sum(d in (0, 7) for d in degrees) / len(degrees)
    assert named == figures["composed_named_key_cadence"] and named >= 0.9
    assert fresh == card  # numpy and seeded: the same pieces as when the card was written
    for name in ("repeated_bars", "pitch_range"):
        assert held[name]["p10"] <= fresh[name]["mean"] <= held[name]["p90"], name
    assert fresh["cadence_tonic_or_dominant"] >= held["cadence_tonic_or_dominant"]
