"""Fine-tuning the committed melody VAE on one idiom: the 6/8 airs of Aird's Airs book 1
(in the music21 corpus, but not among the collections the base model was trained on),
read through the safe ABC loader as a person's pieces would be. Held-out reconstruction
improves over the base model, the prior samples' statistics come closer to the idiom's,
the saved weights load on the numpy run time, and the base model is left as it was."""

from __future__ import annotations

import re
import sys

import numpy as np
import pytest

from museforge.models.music.base import MusicError
from museforge.models.music.data import corpus_dir, notes_to_tokens
from museforge.models.music.finetune import (
    Settings,
    finetune,
    load_style_model,
    split_tunes,
    tunes_to_windows,
)
from museforge.models.music.model import load_default
from museforge.models.music.piece import Note, Part, Piece


def aird_jigs(count: int) -> list[Piece]:
    from museforge.models.music.scorefiles import load_abc

    text = (corpus_dir() / "airdsAirs" / "book1.abc").read_text(encoding="latin-1")
    blocks = [b for b in re.split(r"(?m)^(?=X:)", text)
              if b.startswith("X:") and re.search(r"(?m)^M:\s*6/8", b)]
    pieces = []
    for block in blocks:  # a tune the safe loader refuses is left out, as a person's would be
        try:
            pieces.append(load_abc(block).piece)
        except MusicError:
            continue
        if len(pieces) == count:
            break
    return pieces


@pytest.fixture(scope="module")
def jigs() -> list[Piece]:
    return aird_jigs(36)


@pytest.fixture(scope="module")
def tuned(jigs):
    base = load_default()
    probe = base.sample(4, (6, 8), seed=3)
    made = finetune(base, jigs, settings=Settings(steps=150), threads=1)
    return made, probe


def test_heldout_reconstruction_of_the_idiom_improves(tuned):
    made, _ = tuned
    f = made.figures
    rec = f["heldout_reconstruction"]

    assert f["tunes"] == 36 and f["heldout_tunes"] == 7 and f["meters"] == ["6/8"]
    assert rec["after"]["nll_per_window"] < 0.9 * rec["before"]["nll_per_window"]
    assert rec["after"]["accuracy"] > rec["before"]["accuracy"]


def test_samples_come_closer_to_the_idioms_statistics(tuned):
    made, _ = tuned
    gap = made.figures["stat_gap"]

    assert gap["mean_tuned"] < gap["mean_base"]
    assert made.figures["closer"] > 0.1
    better = [k for k in gap["base"] if gap["tuned"][k] < gap["base"][k]]
    assert len(better) >= 2, gap


def test_the_weights_load_on_numpy_and_reconstruct_as_measured(tuned, jigs, tmp_path):
    made, _ = tuned
    path = tmp_path / "style.safetensors"
    path.write_bytes(made.weights)
    model = load_style_model(path, made.config)
    tunes = split_tunes(jigs, share=0.2, seed=0)

    assert model.backend == "numpy" and model.revision == made.revision
    correct = steps = 0
    for w in tunes.heldout:
        mu, _ = model._net.encode(w.tokens.astype(np.int64), w.meter)
        predicted = model._net.logits(mu, w.tokens.astype(np.int64), w.meter).argmax(2)
        correct += int((predicted == w.tokens).sum())
        steps += w.tokens.size
    after = made.figures["heldout_reconstruction"]["after"]["accuracy"]
    assert correct / steps == pytest.approx(after, abs=2e-3)


def test_the_base_model_is_left_as_it_was(tuned):
    _, probe = tuned
    assert load_default().sample(4, (6, 8), seed=3) == probe


def test_windows_are_cut_as_the_corpus_is():
    bar = [Note(60 + i, i * 1.5, i * 1.5 + 1.5) for i in range(2)]  # two dotted quarters
    notes = [Note(n.pitch + 2 * b, n.start + 3 * b, n.end + 3 * b) for b in range(3)
             for n in bar]
    piece = Piece([Part("melody", notes=notes)], time_signature=(6, 8))

    [windows], count, refused = tunes_to_windows([piece])

    assert (count, refused, len(windows)) == (6, [], 2)  # 3 bars: windows at bars 1 and 2
    first = notes_to_tokens([n for n in notes if n.start < 6], (6, 8))
    assert windows.tokens[0].tolist() == first.tolist()


def test_too_few_notes_is_refused_with_what_was_found():
    piece = Piece([Part("melody", notes=[Note(60, 0, 1), Note(62, 1, 2)])])
    waltz = Piece([Part("melody", notes=[Note(60, 0, 1)])], time_signature=(5, 4))

    with pytest.raises(MusicError, match=r"too few notes.*2 notes.*in 5/4"):
        finetune(load_default(), [piece, waltz], names=["#1", "#2"])


def test_without_the_training_extra_it_says_what_to_install(jigs, monkeypatch):
    monkeypatch.setitem(sys.modules, "safetensors.torch", None)  # as if not installed

    with pytest.raises(MusicError, match=r"pip install 'museforge\[music-train\]'"):
        finetune(load_default(), jigs)


@pytest.mark.slow
def test_a_longer_run_on_the_whole_book(tmp_path):
    jigs = aird_jigs(98)  # the book's 6/8 airs that the safe loader reads
    made = finetune(load_default(), jigs, settings=Settings(steps=600), threads=1)
    f = made.figures

    assert len(jigs) > 80 and f["tunes"] == len(jigs)
    rec = f["heldout_reconstruction"]
    assert rec["after"]["nll_per_window"] < 0.8 * rec["before"]["nll_per_window"]
    assert f["stat_gap"]["mean_tuned"] < f["stat_gap"]["mean_base"]
