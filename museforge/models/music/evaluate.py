"""The melody model's figures, measured on the committed held-out split: what
MODEL_CARD.md reports and what ``museforge eval-music`` reproduces. Deterministic: the
prior samples and continuations use fixed seeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from museforge.models.music.data import (
    FIRST_PITCH_TOKEN,
    METER_LABELS,
    METER_NAMES,
    VOCAB,
    notes_to_tokens,
    tokens_to_notes,
    window_stats,
)
from museforge.models.music.piece import Note

PRIOR_SAMPLES = 256  # per meter
PRIOR_TEMPERATURE = 1.0
COOL_TEMPERATURE = 0.5  # a second set: what a composer sampling cooler gets
CONTINUATIONS = 32  # per meter, each by 4 bars (two joins)
TIME_SIGNATURES = ((4, 4), (2, 4), (3, 4), (6, 8))  # one per meter id


def evaluate(weights_dir: Path | str, *, full: bool = True) -> dict[str, Any]:
    """The card's figures for the model in ``weights_dir`` on its ``heldout.npz``.
    ``full=False`` measures only the teacher-forced reconstruction figures (accuracy,
    note-on accuracy, KL): seconds instead of a minute, for a quick check of the card."""
    import torch

    from museforge.models.music.checkpoint import HELDOUT_FILE, WEIGHTS_FILE
    from museforge.models.music.model import MelodyVAEModel
    from museforge.models.music.train import load_heldout

    weights_dir = Path(weights_dir)
    model = MelodyVAEModel.from_dir(weights_dir, backend="torch")  # figures of the torch net
    net = model._net
    heldout, _ = load_heldout(weights_dir / HELDOUT_FILE)
    config = json.loads((weights_dir / "config.json").read_text())
    figures: dict[str, Any] = {
        "model": {
            "name": model.name,
            "revision": model.revision,
            "parameters": sum(p.numel() for p in net.parameters()),
            "weights_bytes": (weights_dir / WEIGHTS_FILE).stat().st_size,
            "config": config["model"],
        },
        "training": config.get("training", {}),
        "meters": {},
        "vocab": VOCAB,
    }
    totals = {"steps": 0, "correct": 0, "greedy": 0, "on_steps": 0, "on_correct": 0,
              "kl": 0.0, "windows": 0}
    all_heldout: list[np.ndarray] = []
    all_prior: list[np.ndarray] = []
    all_cool: list[np.ndarray] = []
    joins: list[int] = []
    for w, ts in zip(heldout, TIME_SIGNATURES, strict=True):
        tokens = torch.from_numpy(w.tokens.astype(np.int64))
        n, steps = tokens.shape
        if n == 0:
            continue
        with torch.no_grad():
            mu, logvar = net.encode(tokens, w.meter)
            predicted = net.logits(mu, tokens, w.meter).argmax(2)
            kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        on = tokens >= FIRST_PITCH_TOKEN
        correct = int((predicted == tokens).sum())
        on_correct = int(((predicted == tokens) & on).sum())
        meter = figures["meters"][METER_NAMES[w.meter]] = {
            "label": METER_LABELS[w.meter],
            "windows": n,
            "accuracy": correct / (n * steps),
            "note_on_accuracy": on_correct / max(1, int(on.sum())),
            "kl": float(kl.mean()),
        }
        totals["steps"] += n * steps
        totals["correct"] += correct
        totals["on_steps"] += int(on.sum())
        totals["on_correct"] += on_correct
        totals["kl"] += float(kl.sum())
        totals["windows"] += n
        if not full:
            continue
        with torch.no_grad():
            greedy = torch.cat([net.generate(mu[i:i + 512], w.meter, steps)
                                for i in range(0, n, 512)])
        greedy_correct = int((greedy == tokens).sum())
        totals["greedy"] += greedy_correct
        prior = [np.asarray(notes_to_tokens(m, ts)) for m in
                 model.sample(PRIOR_SAMPLES, ts, temperature=PRIOR_TEMPERATURE,
                              seed=w.meter)]
        cool = [np.asarray(notes_to_tokens(m, ts)) for m in
                model.sample(PRIOR_SAMPLES, ts, temperature=COOL_TEMPERATURE, seed=w.meter)]
        all_cool.extend(cool)
        rows = list(w.tokens)
        joins.extend(_continuation_joins(model, rows[:CONTINUATIONS], ts))
        all_heldout.extend(rows)
        all_prior.extend(prior)
        meter.update({
            "greedy_accuracy": greedy_correct / (n * steps),
            "heldout": window_stats(rows),
            "prior": window_stats(prior),
        })
    figures.update({
        "windows": totals["windows"],
        "accuracy": totals["correct"] / totals["steps"],
        "note_on_accuracy": totals["on_correct"] / totals["on_steps"],
        "kl": totals["kl"] / totals["windows"],
    })
    if not full:
        return figures
    joins_abs = np.abs(np.asarray(joins))
    held = window_stats(all_heldout)
    figures.update({
        "greedy_accuracy": totals["greedy"] / totals["steps"],
        "heldout": held,
        "prior": window_stats(all_prior),
        "prior_cool": window_stats(all_cool),
        "continuation": {
            "joins": len(joins),
            "mean_join_interval": float(joins_abs.mean()) if len(joins) else 0.0,
            "within_fifth": float((joins_abs <= 7).mean()) if len(joins) else 0.0,
            "largest_join": int(joins_abs.max()) if len(joins) else 0,
            "corpus_mean_interval": held["mean_interval"],
        },
    })
    return figures


def _continuation_joins(model: Any, rows: list[np.ndarray], ts: tuple[int, int]) -> list[int]:
    joins = []
    for i, row in enumerate(rows):
        notes: list[Note] = tokens_to_notes(row)
        if not notes:
            continue
        joins.extend(model.continue_melody(notes, ts, 4, seed=i).joins)
    return joins


def _row(name: str, stats: dict[str, float]) -> str:
    return (f"| {name} | {stats['key_share']:.3f} | {stats['pitch_range']:.1f} | "
            f"{stats['notes_per_bar']:.2f} | {stats['rest_ratio']:.3f} | "
            f"{stats['mean_interval']:.2f} |")


def write_model_card(figures: dict[str, Any], path: Path | str) -> None:
    """MODEL_CARD.md from ``evaluate``'s figures (and the training record inside them)."""
    t = figures["training"]
    m = figures["model"]
    c = figures["continuation"]
    cfg = m["config"]
    sched = t.get("schedule", {})
    lines = [
        "# museforge melody VAE — model card",
        "",
        "A MusicVAE-style model of 2-bar monophonic melodies, trained here on the folk and "
        "chorale melodies that the music21 package ships. Made by `museforge train-music`; "
        "every figure below is measured by `museforge eval-music` (`evaluate()` in "
        "`museforge/models/music/evaluate.py`) on the committed weights and held-out split.",
        "",
        "## Model",
        "",
        f"- Weights: `melody_vae.safetensors`, {m['parameters']:,} parameters stored as "
        f"float16 ({m['weights_bytes'] / 1e6:.1f} MB); revision `{m['revision']}`.",
        f"- Encoder: bidirectional LSTM, {cfg['encoder']} units each way, to a "
        f"{cfg['latent']}-dimensional latent (mean and log-variance).",
        f"- Decoder: autoregressive LSTM ({cfg['decoder_layers']} x {cfg['decoder']} units), "
        "its state initialised from z, fed z, the previous token and the step's metrical "
        "position at every step; teacher forcing in training, greedy or sampled at run time.",
        "- Run time: museforge runs the network in numpy (`numpy_vae.py`, float32, the "
        "weights read from this safetensors file by our own reader), so composing needs "
        "neither torch nor the safetensors package; torch is needed to train and to "
        "evaluate. On the held-out windows the numpy network gives the torch network's "
        "greedy tokens and its logits within 1e-4 "
        "(`tests/models/music/test_numpy_runtime.py`). The figures below are measured on "
        "the torch network. Sampling on numpy draws from the same distributions with "
        "numpy's random generator, so a seed's samples differ from torch's.",
        f"- Tokens (MusicVAE's melody encoding, {figures['vocab']} classes): no-event, "
        "note-off, and note-on for each MIDI pitch 48..84 (C3..C6), one per sixteenth note.",
        "- Meters: one model for all, conditioned on the meter (a learned meter embedding "
        "plus per-step features: bar start, beat start, eighth start, second bar, phase in "
        "the bar). Windows are 2 bars: 4/4 (also C, 2/2 and C|, which share its grid) = 32 "
        "steps, 2/4 = 16, 3/4 and 6/8 = 24 (6/8 beats on dotted quarters).",
        "- Why one conditioned model rather than one per meter family: the meters share "
        "nearly everything a melody model learns (scales, steps and leaps, cadences, note "
        "lengths), and the duple and triple families each hold two meters with different "
        "window lengths anyway, so per-family models would still need conditioning "
        "while each seeing half the data; one model also trains once within the 30-minute "
        "budget and ships as one file.",
        "",
        "## Data",
        "",
        f"- Parsed once with music21 into a cached array file: {t.get('tunes_parsed', 0):,} "
        f"tunes ({t.get('tunes_failed', 0)} unreadable, skipped); by source "
        + ", ".join(f"{k} {v:,}" for k, v in t.get("tunes_by_source", {}).items())
        + " (Essen folk songs without its test files, O'Neill's 1850, Ryan's Mammoth, and "
        "the soprano line of each Bach chorale file). "
        + ("The whole corpus is used, no subset." if t.get("parse_limit") is None else
           f"Only the first {t['parse_limit']} tunes of each source were parsed."),
        "- Kept: complete bars on the sixteenth grid (pickups, the split bars at repeats and "
        "bars where two onsets round onto one sixteenth are left out; triplets are rounded "
        "to the grid; grace notes dropped; double stops keep their top note); windows are "
        "two directly following bars of one meter, hopping by one bar; a window sticking "
        "out of C3..C6 is moved by octaves, or left out if it spans more. "
        f"{t.get('bars_in_known_meters', 0):,} of the {t.get('bars', 0):,} complete bars "
        "kept are in the five meters; the rest (3/8, 4/2, 3/2, 9/8, 6/4 and rarer) are not "
        f"used. {t.get('notes_rounded_to_grid', 0):,} notes (triplets, mostly) were "
        "rounded onto the grid.",
        "- Held-out split by tune: a tune is held out when the hash of its opening "
        "(intervals and rhythm of its first 12 notes) falls in a 10 % bucket, so a tune "
        "printed twice, even in another key, stays on one side. "
        f"{t.get('tunes_heldout', 0):,} tunes held out.",
        "- Windows for training: " + ", ".join(
            f"{k} {v:,}" for k, v in t.get("train_windows", {}).items())
        + "; held out: " + ", ".join(
            f"{k} {v:,}" for k, v in t.get("heldout_windows_all", {}).items())
        + f", of which a seeded draw of at most {max(t.get('heldout_windows', {0: 0}).values())}"
        " per meter is committed (`heldout.npz`) and measured below.",
        f"- Augmentation: each training window moved by a random transposition in "
        f"±{sched.get('max_shift', '?')} semitones that keeps it inside the range.",
        "",
        "## Training",
        "",
        f"- {t.get('steps_run', 0):,} steps of {sched.get('batch_size', '?')} windows (each "
        "batch one meter), Adam, learning rate "
        f"{sched.get('lr', '?')} decaying exponentially to {sched.get('final_lr', '?')}, "
        f"gradient norm clipped at {sched.get('clip', '?')}.",
        f"- KL weight annealed linearly from 0 to {sched.get('max_beta', '?')} over "
        f"{sched.get('anneal_steps', '?'):,} steps, with free bits: KL under "
        f"{sched.get('free_nats', '?')} nats per window is not penalised.",
        f"- Seed {t.get('seed', 0)} (weights, batch order, transpositions, latent noise); a "
        "fixed step count, so a rerun on the same thread count gives the same weights"
        + (" — this run was stopped by the clock (`minutes`), so it is not reproducible."
           if t.get("stopped_by_clock") else "."),
        f"- Training took {t.get('train_cpu_seconds', 0) / 60:.1f} minutes of CPU time on "
        f"{t.get('threads', '?')} thread (torch {t.get('torch', '?')}); "
        f"{t.get('train_seconds', 0) / 60:.1f} minutes by the wall clock on a "
        f"{t.get('cpu_count', '?')}-core machine shared with other work, "
        f"{t.get('total_seconds', 0) / 60:.1f} with loading the "
        "cached corpus and writing the split "
        f"(parsing the corpus, once, took {t.get('parse_seconds', 0) / 60:.1f} minutes).",
        "",
        "## Held-out figures",
        "",
        f"Over {figures['windows']:,} held-out windows, with z = the encoder's mean:",
        "",
        f"- Per-step reconstruction accuracy (teacher forcing, as MusicVAE reports it): "
        f"**{figures['accuracy']:.3f}** (target ≥ 0.90).",
        f"- Of that, on the steps where a note starts: {figures['note_on_accuracy']:.3f}.",
        f"- Free-running greedy decoding from z, per step: {figures['greedy_accuracy']:.3f}.",
        f"- KL(q(z|x) ‖ N(0, I)): {figures['kl']:.1f} nats per window.",
        "",
        "| meter | windows | accuracy | note-on accuracy | greedy accuracy | KL (nats) |",
        "|---|---|---|---|---|---|",
    ]
    for f in figures["meters"].values():
        label = f["label"].replace("|", "\\|")
        lines.append(f"| {label} | {f['windows']:,} | {f['accuracy']:.3f} | "
                     f"{f['note_on_accuracy']:.3f} | {f['greedy_accuracy']:.3f} | "
                     f"{f['kl']:.1f} |")
    lines += [
        "",
        "## Prior samples against held-out data",
        "",
        f"{PRIOR_SAMPLES} samples per meter, z ~ N(0, I), decoder temperature "
        f"{PRIOR_TEMPERATURE} (and {COOL_TEMPERATURE}), seeds 0..3 (one per meter). Per "
        "window: the share of notes in the best-fitting key (the major/relative-minor "
        "scale holding most of its notes), the pitch range in semitones, notes per bar, "
        "the share of sixteenth steps that are rest, the mean absolute interval between "
        "consecutive notes.",
        "",
        "| | notes in key | pitch range | notes per bar | rest ratio | mean interval |",
        "|---|---|---|---|---|---|",
        _row("held-out data", figures["heldout"]),
        _row(f"prior samples, T = {PRIOR_TEMPERATURE}", figures["prior"]),
        _row(f"prior samples, T = {COOL_TEMPERATURE}", figures["prior_cool"]),
    ]
    for name, f in figures["meters"].items():
        lines.append(_row(f"{name} held-out", f["heldout"]))
        lines.append(_row(f"{name} samples, T = {PRIOR_TEMPERATURE}", f["prior"]))
    lines += [
        "",
        "## Continuation",
        "",
        f"`continue_melody` on the first {CONTINUATIONS} held-out windows of each meter, "
        f"by 4 bars each (seed = the window's index): {c['joins']} joins, mean absolute "
        f"interval at the joins **{c['mean_join_interval']:.2f}** semitones against "
        f"**{c['corpus_mean_interval']:.2f}** between consecutive notes in the held-out "
        f"data; {100 * c['within_fifth']:.1f} % of joins within a fifth (largest "
        f"{c['largest_join']}).",
        "",
        "## Limits",
        "",
        "- Two bars at a time; longer melodies are chained by the composer and "
        "`continue_melody`, so phrasing beyond two bars is not learned.",
        "- Prior samples are less tonal and leap more than the data (the table above): the "
        "latent carries much of each window (the KL), so N(0, I) reaches regions no "
        "training window encodes to. Sample several and keep the ones that fit, as the "
        "composer does; lowering the temperature helps little.",
        "- Only 4/4, 2/2, 2/4, 3/4 and 6/8; other meters are refused.",
        "- The corpus is European and Irish folk song and Bach chorales: other idioms "
        "(blues, modal jazz, pop syncopation) are outside what it has seen.",
        "- Pitches are C3..C6; melodies outside are refused by `encode` (transpose first).",
        "",
    ]
    Path(path).write_text("\n".join(lines))


def card_figures(figures: dict[str, Any]) -> dict[str, float]:
    """The headline numbers (what tests compare between the card and a fresh run)."""
    c = figures["continuation"]
    return {
        "accuracy": figures["accuracy"],
        "note_on_accuracy": figures["note_on_accuracy"],
        "greedy_accuracy": figures["greedy_accuracy"],
        "kl": figures["kl"],
        **{f"prior_{k}": v for k, v in figures["prior"].items()},
        **{f"prior_cool_{k}": v for k, v in figures["prior_cool"].items()},
        **{f"heldout_{k}": v for k, v in figures["heldout"].items()},
        "mean_join_interval": c["mean_join_interval"],
        "within_fifth": c["within_fifth"],
    }

