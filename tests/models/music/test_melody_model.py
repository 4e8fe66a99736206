"""The melody VAE: training on a small slice, the shipped weights and their card, and the
runtime helpers (sample, encode/decode, interpolate, perturb, continue)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("safetensors")

from museforge.models.music import data  # noqa: E402
from museforge.models.music.base import MusicError  # noqa: E402
from museforge.models.music.piece import Note  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
WEIGHTS = ROOT / "museforge" / "models" / "music" / "weights"
TIME_SIGNATURES = [(4, 4), (2, 2), (2, 4), (3, 4), (6, 8)]


@pytest.fixture(scope="module")
def model():
    from museforge.models.music.model import load_default

    return load_default()


@pytest.fixture(scope="module")
def heldout():
    from museforge.models.music.train import load_heldout

    windows, _ = load_heldout(WEIGHTS / "heldout.npz")
    return windows


def tiny_config():
    from museforge.models.music.vae import VAEConfig

    return VAEConfig(embed=16, meter_embed=4, encoder=32, decoder=48, latent=8)


# ---------------------------------------------------------------- training


def test_training_on_a_small_slice_lowers_the_loss(heldout):
    import torch

    from museforge.models.music.train import Schedule, fit
    from museforge.models.music.vae import MelodyVAE

    torch.manual_seed(0)
    net = MelodyVAE(tiny_config())
    schedule = Schedule(steps=60, batch_size=32, lr=1e-2, anneal_steps=30)
    logs = fit(net, [w.take(np.arange(min(len(w), 200))) for w in heldout], schedule,
               seed=0, log_every=10)

    assert logs[-1]["recon"] < 0.7 * logs[0]["recon"]
    assert logs[-1]["accuracy"] > logs[0]["accuracy"]


def test_training_is_reproducible_for_a_seed(heldout):
    import torch

    from museforge.models.music.train import Schedule, fit
    from museforge.models.music.vae import MelodyVAE

    slices = [w.take(np.arange(min(len(w), 64))) for w in heldout]
    states = []
    for _ in range(2):
        torch.manual_seed(3)
        net = MelodyVAE(tiny_config())
        fit(net, slices, Schedule(steps=6, batch_size=16), seed=3, log_every=3)
        states.append(net.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_train_parses_trains_and_writes_weights_split_and_card(tmp_path):
    pytest.importorskip("music21")
    from museforge.models.music.model import MelodyVAEModel
    from museforge.models.music.train import Schedule, train

    cache = data.build_cache(tmp_path / "cache.npz", limit=3)
    out = tmp_path / "weights"
    figures = train(out, cache_path=cache, config=tiny_config(),
                    schedule=Schedule(steps=4, batch_size=8), heldout_per_meter=8,
                    progress=lambda *a: None)

    assert {p.name for p in out.iterdir()} >= {"melody_vae.safetensors", "config.json",
                                               "heldout.npz", "MODEL_CARD.md",
                                               "figures.json"}
    assert 0 <= figures["accuracy"] <= 1
    assert "Per-step reconstruction accuracy" in (out / "MODEL_CARD.md").read_text()
    loaded = MelodyVAEModel.from_dir(out)
    assert len(loaded.sample(2, (3, 4), seed=1)) == 2


# ---------------------------------------------------------------- the shipped weights


def test_the_shipped_weights_are_small_safetensors_with_a_card():
    weights = WEIGHTS / "melody_vae.safetensors"
    assert weights.exists() and weights.stat().st_size < 8_000_000
    card = (WEIGHTS / "MODEL_CARD.md").read_text()
    figures = json.loads((WEIGHTS / "figures.json").read_text())
    assert f"**{figures['accuracy']:.3f}**" in card
    assert figures["accuracy"] >= 0.90


def test_evaluate_reproduces_the_cards_reconstruction_figures(model):
    from museforge.models.music.evaluate import evaluate

    card = json.loads((WEIGHTS / "figures.json").read_text())
    fresh = evaluate(WEIGHTS, full=False)

    for name in ("accuracy", "note_on_accuracy", "kl"):
        assert fresh[name] == pytest.approx(card[name], rel=1e-3, abs=1e-3), name
    for meter, figures in card["meters"].items():
        assert fresh["meters"][meter]["accuracy"] == pytest.approx(figures["accuracy"],
                                                                   abs=1e-3)


@pytest.mark.slow
def test_evaluate_reproduces_the_whole_card(model):
    from museforge.models.music.evaluate import card_figures, evaluate

    card = card_figures(json.loads((WEIGHTS / "figures.json").read_text()))
    fresh = card_figures(evaluate(WEIGHTS))

    for name, value in card.items():
        assert fresh[name] == pytest.approx(value, rel=0.02, abs=0.01), name


def test_encode_then_decode_reconstructs_most_steps(model, heldout):
    for w, ts in zip(heldout, [(4, 4), (2, 4), (3, 4), (6, 8)], strict=True):
        rows = w.tokens[:40]
        zs = model.encode_many([data.tokens_to_notes(r) for r in rows], ts)
        decoded = model.decode_many(zs, ts)
        again = np.stack([data.notes_to_tokens(m, ts) for m in decoded])
        assert (again == rows).mean() > 0.8, ts


def test_interpolation_endpoints_decode_close_to_the_inputs(model, heldout):
    ts = (4, 4)
    a, b = data.tokens_to_notes(heldout[0].tokens[3]), data.tokens_to_notes(heldout[0].tokens[9])
    za, zb = model.encode(a, ts), model.encode(b, ts)
    path = model.interpolate(za, zb, 5)

    assert len(path) == 5
    assert np.allclose(path[0], za) and np.allclose(path[-1], zb)
    for z, notes in ((path[0], a), (path[-1], b)):
        got = data.notes_to_tokens(model.decode(z, ts), ts)
        assert (got == data.notes_to_tokens(notes, ts)).mean() > 0.75
    middle = model.decode(path[2], ts)
    assert middle and middle != model.decode(za, ts)


def test_sampling_is_deterministic_for_a_seed(model):
    first = model.sample(4, (6, 8), temperature=1.0, seed=7)
    assert model.sample(4, (6, 8), temperature=1.0, seed=7) == first
    assert model.sample(4, (6, 8), temperature=1.0, seed=8) != first
    assert model.decode(model.encode(first[0], (6, 8)), (6, 8)) == \
        model.decode(model.encode(first[0], (6, 8)), (6, 8))


@pytest.mark.parametrize("ts", TIME_SIGNATURES)
def test_samples_are_valid_two_bar_melodies(model, ts):
    bar = ts[0] * 4 / ts[1]
    melodies = model.sample(16, ts, temperature=1.0, seed=0)
    assert len(melodies) == 16
    assert sum(1 for m in melodies if m) >= 14
    for notes in melodies:
        for n in notes:
            assert 48 <= n.pitch <= 84
            assert 0 <= n.start < n.end <= 2 * bar
            assert (n.start * 4) % 1 == 0 and (n.end * 4) % 1 == 0
        for a, b in zip(notes, notes[1:], strict=False):
            assert a.end <= b.start  # monophonic


def test_perturb_moves_z_by_the_amount(model, heldout):
    z = model.encode(data.tokens_to_notes(heldout[1].tokens[0]), (2, 4))
    assert np.allclose(model.perturb(z, 0.0, seed=1), z)
    near = np.linalg.norm(np.subtract(model.perturb(z, 0.2, seed=1), z))
    far = np.linalg.norm(np.subtract(model.perturb(z, 0.9, seed=1), z))
    assert 0 < near < far
    assert model.perturb(z, 0.5, seed=2) == model.perturb(z, 0.5, seed=2)


@pytest.mark.parametrize("ts", [(4, 4), (3, 4), (6, 8)])
def test_continue_melody_joins_within_a_fifth(model, heldout, ts):
    meter = data.meter_index(ts)
    bar = ts[0] * 4 / ts[1]
    for i in range(4):
        melody = data.tokens_to_notes(heldout[meter].tokens[i])
        # a melody that stops mid-bar continues from the next bar line
        melody = [n for n in melody if n.start < 1.5 * bar]
        result = model.continue_melody(melody, ts, 3, seed=i)
        end = max(n.end for n in melody)
        assert result.start == pytest.approx(np.ceil(end / bar - 1e-6) * bar)
        assert all(result.start <= n.start < n.end <= result.start + 3 * bar + 1e-9
                   for n in result.notes)
        assert len(result.joins) == 2
        assert all(abs(j) <= 7 for j in result.joins)
        assert abs(result.notes[0].pitch - melody[-1].pitch) <= 7


# ---------------------------------------------------------------- encoding and refusals


def test_tokens_round_trip_and_refusals():
    notes = [Note(60, 0.0, 1.0), Note(62, 1.0, 1.5), Note(64, 2.0, 4.0), Note(67, 5.0, 8.0)]
    tokens = data.notes_to_tokens(notes, (4, 4))
    assert len(tokens) == 32
    assert data.tokens_to_notes(tokens) == notes
    # onsets off the grid are read at the nearest sixteenth; overlaps cut the earlier note
    rough = [Note(60, 0.02, 1.4), Note(62, 1.0, 2.0)]
    assert data.tokens_to_notes(data.notes_to_tokens(rough, (2, 4))) == \
        [Note(60, 0.0, 1.0), Note(62, 1.0, 2.0)]
    chord = [Note(60, 0.0, 1.0), Note(67, 0.0, 1.0), Note(64, 0.0, 1.0)]
    assert data.tokens_to_notes(data.notes_to_tokens(chord, (3, 4))) == [Note(67, 0.0, 1.0)]
    with pytest.raises(MusicError, match="range"):
        data.notes_to_tokens([Note(30, 0, 1)], (4, 4))
    with pytest.raises(MusicError, match="outside the 2-bar window"):
        data.notes_to_tokens([Note(60, 6, 7)], (3, 4))
    with pytest.raises(MusicError, match="5/4"):
        data.meter_index((5, 4))


def test_the_runtime_module_imports_without_torch():
    code = ("import sys, museforge.models.music.model, museforge.models.music.data, "
            "museforge.models.music.train, museforge.models.music.evaluate; "
            "print(sorted(m for m in ('torch', 'music21', 'pretty_midi') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
