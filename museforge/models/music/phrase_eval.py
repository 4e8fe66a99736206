"""The phrase model's figures, measured on its committed held-out phrases: what
PHRASE_MODEL_CARD.md reports and ``museforge eval-phrases`` reproduces. Deterministic
(fixed seeds). Beside the phrase model, the 2-bar model is measured on the same phrases
cut into its 2-bar windows, chained (each window encoded and decoded on its own), and
its prior samples chained eight at a time stand in for a 16-bar piece the old way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from museforge.models.music.data import (
    FIRST_PITCH_TOKEN,
    METER_LABELS,
    METER_NAMES,
    NO_EVENT,
    STEPS_PER_BAR,
    notes_to_tokens,
    window_stats,
)
from museforge.models.music.phrase_composer import PHRASE_CANDIDATES, PHRASE_TEMPERATURE
from museforge.models.music.phrase_data import PHRASE_BARS, structure_values, summarise

PRIOR_SAMPLES = 128  # per meter
PRIOR_TEMPERATURE = 1.0
COOL_TEMPERATURE = 0.5
CHAINED_SAMPLES = 64  # per meter: 16-bar pieces of eight 2-bar prior samples
BATCH = 200
TIME_SIGNATURES = ((4, 4), (2, 4), (3, 4), (6, 8))  # one per meter id
COMPOSED_SEEDS = tuple(range(8))  # composed 16-bar plain pieces per meter


def two_bar_windows(tokens: np.ndarray, meter: int) -> np.ndarray:
    """A phrase's 8 two-bar windows, ``[n * 8, 2 * steps_per_bar]``, each encoded as the
    2-bar model's data is: a window that opens inside a note or a rest strikes the note
    (or starts the rest) at its first step."""
    steps = 2 * STEPS_PER_BAR[meter]
    out = tokens.reshape(-1, steps).copy()
    flat = tokens.reshape(len(tokens), -1)
    for i in range(len(tokens)):
        last = int(flat[i, 0])
        for w in range(PHRASE_BARS // 2):
            row = out[i * (PHRASE_BARS // 2) + w]
            if row[0] == NO_EVENT:
                row[0] = last
            events = row[row != NO_EVENT]
            last = int(events[-1]) if len(events) else last
    return out


def _reconstruction(net: Any, meter: int, tokens: np.ndarray, full: bool,
                    steps: int | None = None) -> dict[str, float]:
    """Per-step accuracy teacher-forced, on note onsets, free-running greedy from the
    latent mean, and the KL, of windows ``tokens`` (a torch network; ``steps`` for the
    2-bar one's ``generate``)."""
    import torch

    def generate(z: Any) -> Any:
        return net.generate(z, meter) if steps is None else net.generate(z, meter, steps)

    correct = on_correct = greedy = 0
    kl = 0.0
    for i in range(0, len(tokens), BATCH):
        batch = torch.from_numpy(tokens[i:i + BATCH].astype(np.int64))
        with torch.no_grad():
            mu, logvar = net.encode(batch, meter)
            predicted = net.logits(mu, batch, meter).argmax(2)
            kl += float((0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)).sum())
            if full:
                greedy += int((generate(mu) == batch).sum())
        on = batch >= FIRST_PITCH_TOKEN
        correct += int((predicted == batch).sum())
        on_correct += int(((predicted == batch) & on).sum())
    steps = tokens.size
    ons = int((tokens >= FIRST_PITCH_TOKEN).sum())
    out = {"windows": len(tokens), "steps": steps, "note_ons": ons,
           "accuracy": correct / steps, "note_on_accuracy": on_correct / max(1, ons),
           "kl": kl / max(1, len(tokens))}
    if full:
        out["greedy_accuracy"] = greedy / steps
    return out


def _pooled(parts: list[dict[str, float]], full: bool) -> dict[str, float]:
    steps = sum(p["steps"] for p in parts)
    ons = sum(p["note_ons"] for p in parts)
    windows = sum(p["windows"] for p in parts)
    out = {"windows": windows, "steps": steps, "note_ons": ons,
           "accuracy": sum(p["accuracy"] * p["steps"] for p in parts) / steps,
           "note_on_accuracy": sum(p["note_on_accuracy"] * p["note_ons"] for p in parts) / ons,
           "kl": sum(p["kl"] * p["windows"] for p in parts) / windows}
    if full:
        out["greedy_accuracy"] = sum(p["greedy_accuracy"] * p["steps"] for p in parts) / steps
    return out


def evaluate_phrases(weights_dir: Path | str, *, full: bool = True) -> dict[str, Any]:
    """The card's figures for the phrase model in ``weights_dir`` (and the 2-bar model
    there) on ``phrase_heldout.npz``. ``full=False`` measures only the teacher-forced
    figures of the phrase model (seconds, for a quick check of the card)."""
    from museforge.models.music.model import MelodyVAEModel
    from museforge.models.music.numpy_hvae import PHRASE_CONFIG, PHRASE_HELDOUT, PHRASE_WEIGHTS
    from museforge.models.music.phrase_data import load_phrases
    from museforge.models.music.phrase_model import PhraseVAEModel

    weights_dir = Path(weights_dir)
    model = PhraseVAEModel.from_dir(weights_dir, backend="torch")
    net = model._net
    heldout, _ = load_phrases(weights_dir / PHRASE_HELDOUT)
    config = json.loads((weights_dir / PHRASE_CONFIG).read_text())
    figures: dict[str, Any] = {
        "model": {"name": model.name, "revision": model.revision,
                  "parameters": sum(p.numel() for p in net.parameters()),
                  "weights_bytes": (weights_dir / PHRASE_WEIGHTS).stat().st_size,
                  "config": config["model"]},
        "training": config.get("training", {}),
        "meters": {},
    }
    two_bar = MelodyVAEModel.from_dir(weights_dir, backend="torch") if full else None
    if two_bar is not None:
        figures["two_bar_latent"] = two_bar.latent_size
    phrase_parts, chained_parts = [], []
    values: dict[str, list[dict[str, np.ndarray]]] = {}
    stats_rows: dict[str, list[np.ndarray]] = {}
    for w in heldout:
        if not len(w):
            continue
        m = w.meter
        tokens = w.tokens.astype(np.int64)
        rec = _reconstruction(net, m, tokens, full)
        phrase_parts.append(rec)
        meter: dict[str, Any] = {"label": METER_LABELS[m], "phrase": rec}
        figures["meters"][METER_NAMES[m]] = meter
        if not full or two_bar is None:
            continue
        chained = _reconstruction(two_bar._net, m, two_bar_windows(tokens, m), full,
                                  2 * STEPS_PER_BAR[m])
        chained_parts.append(chained)
        rows = list(tokens)
        prior = model.sample_tokens(PRIOR_SAMPLES, m, temperature=PRIOR_TEMPERATURE, seed=m)
        cool = model.sample_tokens(PRIOR_SAMPLES, m, temperature=COOL_TEMPERATURE, seed=m)
        ts = TIME_SIGNATURES[m]
        pieces = [np.concatenate([notes_to_tokens(x, ts) for x in two_bar.sample(
            PHRASE_BARS // 2, ts, temperature=PRIOR_TEMPERATURE, seed=1000 * m + k)])
            for k in range(CHAINED_SAMPLES)]
        sets = {"heldout": rows, "prior": list(prior), "prior_cool": list(cool),
                "chained": pieces}
        for name, group in sets.items():
            v = structure_values(group, m)
            values.setdefault(name, []).append(v)
            meter[f"{name}_structure"] = summarise([v])
        meter.update({
            "chained_two_bar": chained,
            "heldout_stats": window_stats(rows, bars=PHRASE_BARS),
            "prior_stats": window_stats(list(prior), bars=PHRASE_BARS),
        })
        stats_rows.setdefault("heldout", []).extend(rows)
        stats_rows.setdefault("prior", []).extend(list(prior))
    if full:
        degrees: list[int] = []
        values["composed"] = composed_structure(weights_dir, degrees)
        figures["composed_named_key_cadence"] = sum(d in (0, 7) for d in degrees) / len(degrees)
        from museforge.models.music.phrase_latent_eval import latent_tool_figures

        figures["latent_tools"] = latent_tool_figures(weights_dir)
    figures["phrase"] = _pooled(phrase_parts, full)
    if full and chained_parts:
        figures["chained_two_bar"] = _pooled(chained_parts, full)
        figures["structure"] = {name: summarise(v) for name, v in values.items()}
        figures["stats"] = {name: window_stats(rows, bars=PHRASE_BARS)
                            for name, rows in stats_rows.items()}
    return figures


def composed_melodies(weights_dir: Path, ts: tuple[int, int], degrees: list[int] | None = None,
                      ) -> list[np.ndarray]:
    """The melodies (token rows, moved by octaves into the model's range) of plain 16-bar
    pieces the composer writes with the phrase model on numpy, one per seed; ``degrees``
    collects each last note's semitones above the tonic of the key the piece names."""
    from museforge.models.music.composer import ComposeRequest, compose
    from museforge.models.music.model import MelodyVAEModel
    from museforge.models.music.phrase_model import PhraseVAEModel
    from museforge.models.music.piece import Note
    from museforge.models.music.theory import parse_key

    two_bar = MelodyVAEModel.from_dir(weights_dir)
    phrases = PhraseVAEModel.from_dir(weights_dir)
    rows = []
    for seed in COMPOSED_SEEDS:
        result = compose(ComposeRequest(prompt="a tune", bars=PHRASE_BARS, seed=seed,
                                        time_signature=ts), two_bar, phrases)
        melody = result.piece.parts[0].notes
        if degrees is not None:
            degrees.append((melody[-1].pitch - parse_key(result.recipe["key"]).pitch_class) % 12)
        low, high = min(n.pitch for n in melody), max(n.pitch for n in melody)
        shift = 12 * -(-(48 - low) // 12) if low < 48 else -12 * -(-(high - 84) // 12) \
            if high > 84 else 0
        moved = [Note(_into_range(n.pitch + shift), n.start, n.end, n.velocity)
                 for n in melody]  # (a note nudged past the range goes by an octave)
        rows.append(notes_to_tokens(moved, ts, PHRASE_BARS))
    return rows


def _into_range(pitch: int) -> int:
    while pitch < 48:
        pitch += 12
    while pitch > 84:
        pitch -= 12
    return pitch


def composed_structure(weights_dir: Path, degrees: list[int] | None = None,
                       ) -> list[dict[str, np.ndarray]]:
    return [structure_values(composed_melodies(weights_dir, ts, degrees), m)
            for m, ts in enumerate(TIME_SIGNATURES)]


# MusicVAE's own 16-bar melody figures (Roberts et al. 2018, Table 1) are quoted only
# from a source read while writing the card; none could be reached from here, so the
# card says so instead of quoting numbers from memory.
MUSICVAE_PUBLISHED: dict[str, dict[str, float]] | None = None


def _struct_row(name: str, s: dict[str, Any]) -> str:
    r, p = s["repeated_bars"], s["pitch_range"]
    return (f"| {name} | {s['phrases']:,} | {r['mean']:.3f} ({r['p10']:.2f}..{r['p90']:.2f}) | "
            f"{100 * s['cadence_tonic_or_dominant']:.1f} % ({100 * s['cadence_tonic']:.1f} %) | "
            f"{p['mean']:.1f} ({p['p10']:.0f}..{p['p90']:.0f}) |")


def within_spread(sample: dict[str, Any], heldout: dict[str, Any]) -> dict[str, str]:
    """Where a set of phrases lands against the held-out phrases' spread: its mean
    repeated-bar share and pitch range against their 10th..90th percentiles, and its share
    of tonic-or-dominant endings against 2 standard errors of theirs (``"inside"``,
    ``"below"`` or ``"above"`` each)."""
    n = max(1, heldout["phrases"])
    share = heldout["cadence_tonic_or_dominant"]
    se = (share * (1 - share) / n) ** 0.5

    def where(value: float, low: float, high: float) -> str:
        return "below" if value < low else "above" if value > high else "inside"

    return {
        "repeated_bars": where(sample["repeated_bars"]["mean"],
                               heldout["repeated_bars"]["p10"], heldout["repeated_bars"]["p90"]),
        "pitch_range": where(sample["pitch_range"]["mean"], heldout["pitch_range"]["p10"],
                             heldout["pitch_range"]["p90"]),
        "cadence": where(sample["cadence_tonic_or_dominant"], share - 2 * se, share + 2 * se),
    }


def write_phrase_model_card(figures: dict[str, Any], path: Path | str) -> None:
    """PHRASE_MODEL_CARD.md from ``evaluate_phrases``' figures."""
    t = figures["training"]
    m = figures["model"]
    cfg = m["config"]
    sched = t.get("schedule", {})
    ph, ch = figures["phrase"], figures["chained_two_bar"]
    st = figures["structure"]
    lines = [
        "# museforge phrase VAE — model card",
        "",
        "A 16-bar hierarchical melody VAE in the manner of MusicVAE's hierarchical model (a "
        "conductor RNN writing one embedding per bar, a bar decoder under it), trained here "
        "on the same music21 corpus as the 2-bar melody model (`MODEL_CARD.md`) and held out "
        "by the same tunes. Made by `museforge train-phrases`; every figure below is measured "
        "by `museforge eval-phrases` (`evaluate_phrases()` in "
        "`museforge/models/music/phrase_eval.py`) on the committed weights and held-out "
        "phrases.",
        "",
        "## Model",
        "",
        f"- Weights: `phrase_vae.safetensors`, {m['parameters']:,} parameters stored as "
        f"float16 ({m['weights_bytes'] / 1e6:.1f} MB); revision `{m['revision']}`.",
        f"- Encoder: a bidirectional LSTM over each bar's sixteenth steps ({cfg['bar_encoder']} "
        f"units each way), then a bidirectional LSTM over the 16 bar vectors "
        f"({cfg['phrase_encoder']} units each way), to a {cfg['latent']}-dimensional latent "
        "(mean and log-variance). MusicVAE reads the 256 steps with one LSTM; reading bars "
        "first carries the same notes to z and trains several times faster on a CPU.",
        f"- Conductor: an LSTM ({cfg['conductor']} units) started from z and the meter, fed z "
        "and the bar's place in the phrase (second of a pair, last of four, of eight, last "
        "bar, phase), one step per bar; its output per bar is the bar's embedding.",
        f"- Bar decoder: an LSTM ({cfg['decoder']} units) started afresh at every bar from "
        "that bar's embedding (tanh of a linear map), fed at every step the bar embedding "
        f"(projected to {cfg['bar_embed']} numbers), the previous token (across the bar line "
        "too) and the step's metrical features (bar, beat and eighth starts, phase in the "
        "bar, the meter's embedding). Restarting at each bar makes the decoder depend on the "
        "conductor, which is how MusicVAE keeps a 16-bar latent in use.",
        "- Run time: museforge runs the network in numpy (`numpy_hvae.py`, float32, weights "
        "read by our own safetensors reader), so composing needs no torch. On the held-out "
        "phrases the numpy network gives the torch network's greedy tokens and its logits "
        "within 1e-4 (`tests/models/music/test_phrase_model.py`). Figures below are measured "
        "on the torch network.",
        "- Tokens: the 2-bar model's (39 classes: no-event, note-off, note-on for MIDI 48..84), "
        "one per sixteenth; 16 bars are 256 steps in 4/4 (C, 2/2, C|), 128 in 2/4, 192 in "
        "3/4 and 6/8. One model for the four meters, conditioned on the meter.",
        "",
        "## Data",
        "",
        f"- The corpus re-barred (`phrase_corpus.py`): {t.get('tunes_parsed', 0):,} tunes "
        f"parsed ({t.get('tunes_failed', 0)} unreadable), by source "
        + ", ".join(f"{k} {v:,}" for k, v in t.get("tunes_by_source", {}).items())
        + ". The 2-bar model's cache keeps only the bars as printed complete, so a tune with "
        "a pickup breaks at every repeat into runs of 7 or 15 bars and has no 16-bar phrase. "
        "Here each melody is one timeline cut into bars from its first full bar line: the "
        "part-bar before a repeat and the pickup after it make one bar, as they sound, and a "
        "tune's last bar, shortened by its pickup, holds its last note to the bar line. "
        "Where the timeline stops lining up with the printed bar lines, the bars restart at "
        f"the next complete bar. Parsing took {t.get('parse_seconds', 0) / 60:.1f} minutes by "
        "the wall clock on the shared machine (once; cached in the data dir).",
        "- Phrases: 16 directly following bars of one tune in one meter. Training windows "
        f"start every {t.get('train_hop', '?')} bars; held-out windows every "
        f"{t.get('heldout_hop', '?')} bars from the first bar of a run, so that most begin "
        "where a strain begins and end where one ends (the cadence measure needs that). A "
        "window sticking out of C3..C6 is moved by octaves, or left out.",
        "- Held out: the 2-bar model's held-out tunes exactly (its split, looked up by tune "
        f"name in its cache): {t.get('tunes_heldout', 0):,} of {t.get('tunes', 0):,} tunes. "
        "Training windows: "
        + ", ".join(f"{k} {v:,}" for k, v in t.get("train_windows", {}).items())
        + " (from " + ", ".join(f"{v:,}" for v in t.get("train_tunes", {}).values())
        + " tunes); held-out phrases: " + ", ".join(
            f"{k} {v:,}" for k, v in t.get("heldout_windows_all", {}).items())
        + (", all committed (`phrase_heldout.npz`) and measured below."
           if t.get("heldout_windows") == t.get("heldout_windows_all") else
           f", of which a seeded draw of at most "
           f"{max(t.get('heldout_windows', {0: 0}).values())} per meter is committed "
           "(`phrase_heldout.npz`) and measured below."),
        f"- Augmentation: random transpositions in ±{sched.get('max_shift', '?')} semitones that "
        "keep a window in range.",
        "",
        "## Training",
        "",
        f"- {t.get('steps_run', 0):,} steps of {sched.get('batch_size', '?')} phrases (each "
        f"batch one meter), Adam, learning rate {sched.get('lr', '?')} decaying exponentially "
        f"to {sched.get('final_lr', '?')}, gradient norm clipped at {sched.get('clip', '?')}; "
        f"KL weight annealed from 0 to {sched.get('max_beta', '?')} over "
        f"{sched.get('anneal_steps', '?')} steps with free bits: KL under "
        f"{sched.get('free_nats', '?')} nats per phrase is not penalised.",
        f"- Seed {t.get('seed', 0)}, a fixed step count"
        + (" — but this run was stopped by the clock, so it is not reproducible."
           if t.get("stopped_by_clock") else ", so a rerun on one thread gives the same weights.")
        + f" Training took {t.get('train_cpu_seconds', 0) / 60:.1f} minutes of CPU time on "
        f"{t.get('threads', '?')} thread (torch {t.get('torch', '?')}), "
        f"{t.get('train_seconds', 0) / 60:.1f} minutes by the wall clock on a "
        f"{t.get('cpu_count', '?')}-core machine shared with other work.",
        "",
        "## Held-out reconstruction",
        "",
        f"Over {ph['windows']:,} held-out 16-bar phrases, z = the encoder's mean. The 2-bar "
        "model chained: the same phrases cut into their eight 2-bar windows, each encoded and "
        "decoded on its own by the committed 2-bar model (a window opening inside a note "
        "strikes it, as its training data did, so it is scored on its own encoding); it "
        f"carries 8 latents of {figures.get('two_bar_latent', '?')} numbers per "
        f"phrase, the phrase model one of {cfg['latent']}.",
        "",
        "| | per-step accuracy, teacher-forced | on note onsets | free-running greedy "
        "| KL (nats per phrase) |",
        "|---|---|---|---|---|",
        f"| phrase model | **{ph['accuracy']:.3f}** | {ph['note_on_accuracy']:.3f} | "
        f"**{ph['greedy_accuracy']:.3f}** | {ph['kl']:.1f} |",
        f"| 2-bar model chained | {ch['accuracy']:.3f} | {ch['note_on_accuracy']:.3f} | "
        f"{ch['greedy_accuracy']:.3f} | {8 * ch['kl']:.1f} (8 windows) |",
    ]
    for f in figures["meters"].values():
        p, c = f["phrase"], f["chained_two_bar"]
        label = f["label"].replace("|", "\\|")
        lines.append(f"| {label}: phrase model ({p['windows']:,}) | {p['accuracy']:.3f} | "
                     f"{p['note_on_accuracy']:.3f} | {p['greedy_accuracy']:.3f} | "
                     f"{p['kl']:.1f} |")
        lines.append(f"| {label}: 2-bar chained | {c['accuracy']:.3f} | "
                     f"{c['note_on_accuracy']:.3f} | {c['greedy_accuracy']:.3f} | "
                     f"{8 * c['kl']:.1f} |")
    lines += ["", "## MusicVAE's published 16-bar figures", ""]
    if MUSICVAE_PUBLISHED:
        lines.append("(quoted in `phrase_eval.MUSICVAE_PUBLISHED`)")
    else:
        lines += [
            "Roberts et al. (2018) report teacher-forced and sampled reconstruction accuracy "
            "of their flat and hierarchical 16-bar melody models (their Table 1). The table "
            "could not be read from this machine (the paper's text was not reachable through "
            "the sources available here), so no number of theirs is quoted: compare with "
            "the paper itself. What differs, whatever the numbers: MusicVAE's melody models "
            "learn from a large collection of MIDI files (the paper's data section, which we "
            "could not re-read here), not from folk song, Irish dance tunes and chorale "
            "sopranos; their 16-bar data is 4/4 only, ours four meters in one model; and "
            "Magenta's `configs.py` for `hierdec-mel_16bar` gives a far larger network (a "
            "2 x 2048-unit bidirectional encoder, a 2 x 1024-unit conductor and decoder, a "
            "512-dimensional latent, free bits 256, batches of 512) than ours, trained here "
            f"on one CPU thread for {t.get('train_cpu_seconds', 0) / 60:.0f} minutes.",
        ]
    lines += [
        "",
        "## Structure: prior samples against held-out phrases",
        "",
        f"{PRIOR_SAMPLES} prior samples per meter (z ~ N(0, I), seeds 0..3), at decoder "
        f"temperature {PRIOR_TEMPERATURE} and {COOL_TEMPERATURE}; and, for comparison, "
        f"{CHAINED_SAMPLES} pieces per meter of eight 2-bar prior samples chained (how a "
        "16-bar melody was written before). Per phrase: the share of its 15 later bars that "
        "repeat an earlier bar (the same notes and rhythm) or sequence one (the same rhythm "
        "and rests, at least two notes, each interval within a semitone of the earlier "
        "bar's, moved to another pitch); whether its last note is the tonic or the dominant "
        "of its key (Krumhansl-Schmuckler on the phrase's note durations); its pitch range "
        "in semitones. Means with the 10th..90th percentiles in brackets; the cadence column "
        "gives tonic or dominant (tonic alone).",
        "",
        "| | phrases | repeated or sequenced bars | ends on tonic or dominant (tonic) "
        "| pitch range |",
        "|---|---|---|---|---|",
        _struct_row("held-out phrases", st["heldout"]),
        _struct_row(f"prior samples, T = {PRIOR_TEMPERATURE}", st["prior"]),
        _struct_row(f"prior samples, T = {COOL_TEMPERATURE}", st["prior_cool"]),
        _struct_row("2-bar samples chained", st["chained"]),
    ]
    if "composed" in st:
        lines.append(_struct_row(f"composed plain pieces, 16 bars ({len(COMPOSED_SEEDS)} "
                                 "seeds per meter)", st["composed"]))
    for name, f in figures["meters"].items():
        lines.append(_struct_row(f"{name} held-out", f["heldout_structure"]))
        lines.append(_struct_row(f"{name} samples, T = {PRIOR_TEMPERATURE}",
                                 f["prior_structure"]))
    lines.append("")
    for name, label in (("prior", f"Prior samples at T = {PRIOR_TEMPERATURE}"),
                        ("prior_cool", f"Prior samples at T = {COOL_TEMPERATURE}"),
                        ("composed", "Composed pieces")):
        inside = within_spread(st[name], st["heldout"])
        lines.append(
            f"- {label} against the held-out spread: repeated bars "
            f"{inside['repeated_bars']} the 10th..90th percentiles, pitch range "
            f"{inside['pitch_range']} them, tonic-or-dominant endings "
            + ("within two standard errors of the held-out share." if inside["cadence"] ==
               "inside" else f"more than two standard errors {inside['cadence']} the "
               "held-out share."))
    lines += [
        "",
        f"The composer samples {PHRASE_CANDIDATES} phrases at T = {PHRASE_TEMPERATURE} for "
        "each new section and keeps the one with most notes in the key, an ending on the "
        "tonic (or the dominant), a share of repeated or sequenced bars near the training "
        "phrases' mean ("
        f"{t.get('train_structure', {}).get('repeated_bars', {}).get('mean', 0):.3f}; the "
        "held-out figures are not used) and a smooth join: that choice, not the network "
        "alone, is why its pieces cadence more often than raw samples. The cadence column "
        "reads each phrase's key from its notes (a piece in G major whose tune sits in E "
        "minor ends on E's tonic or dominant there); in the key the composer names, "
        f"{100 * figures.get('composed_named_key_cadence', 0):.1f} % of the composed pieces "
        "end on its tonic or dominant.",
        "",
        "## Limits",
        "",
        f"- Reconstruction is far below the chained 2-bar model's: one latent of "
        f"{cfg['latent']} numbers carries {ph['kl']:.0f} nats for 16 bars, where the eight "
        f"2-bar latents carry {8 * ch['kl']:.0f}; note onsets are "
        f"{100 * ph['note_on_accuracy']:.0f} % right (teacher-forced), so it gives back "
        "much of a phrase's rhythm but few of its exact pitches. It was trained for "
        f"{t.get('train_cpu_seconds', 0) / 60:.0f} minutes on one CPU thread, and its "
        "training loss was still falling.",
        "- Used by the composer for plain pieces only: jigs, reels, hornpipes and jazz keep "
        "the 2-bar model (their corpus idioms live in its latent space)"
        + ("; the latent tools use it on pieces of 8 bars and more, dances too (their "
           "rhythm put back as for the 2-bar model), and keep much less of a varied "
           "phrase's pitches than the 2-bar model does." if "latent_tools" in figures else
           "; `continue_music`, `vary_music` and `interpolate_music` still work on 2-bar "
           "windows."),
        "- 16 bars is the unit: the composer cuts a phrase for 8 to 14 bars (choosing, among "
        "several samples, one whose cut ends well) and chains phrases beyond 16; it was "
        "never trained to end a phrase before bar 16.",
        "- The corpus is European and Irish folk song and Bach chorales; other idioms are "
        "outside what it has seen. Pitches C3..C6; 4/4 (2/2), 2/4, 3/4 and 6/8 only.",
        "- A held-out phrase window starts on an 8-bar line of a run, not on a phrase "
        "boundary read from the music: a tune whose strains are not 8 bars long ends some "
        "windows mid-strain, and those need not end on the tonic or dominant.",
        "",
    ]
    if "latent_tools" in figures:
        from museforge.models.music.phrase_latent_eval import latent_card_lines

        at = lines.index("## Limits")
        lines[at:at] = latent_card_lines(figures["latent_tools"], st["heldout"])
    Path(path).write_text("\n".join(lines))


def card_figures(figures: dict[str, Any]) -> dict[str, float]:
    """The headline numbers (what tests compare between the card and a fresh run)."""
    st = figures["structure"]
    out = {f"phrase_{k}": v for k, v in figures["phrase"].items()
           if k in ("accuracy", "note_on_accuracy", "greedy_accuracy", "kl")}
    out.update({f"chained_{k}": v for k, v in figures["chained_two_bar"].items()
                if k in ("accuracy", "note_on_accuracy", "greedy_accuracy", "kl")})
    for name in ("heldout", "prior", "prior_cool", "chained", "composed"):
        out[f"{name}_repeated_bars"] = st[name]["repeated_bars"]["mean"]
        out[f"{name}_pitch_range"] = st[name]["pitch_range"]["mean"]
        out[f"{name}_cadence"] = st[name]["cadence_tonic_or_dominant"]
    lt: dict[str, Any] = figures.get("latent_tools") or {}
    for way in ("phrase", "two_bar") if lt else ():
        for name in ("tonic_or_dominant", "repeated_bars", "answered_bars"):
            out[f"continue_{way}_{name}"] = lt["continue"][way][name]["mean"]
        for name in ("between_pitch_range", "first_nearer_a", "last_nearer_b"):
            out[f"morph_{way}_{name}"] = lt["morph"][way][name]
        out[f"vary_{way}_notes_kept"] = lt["vary"][way]["notes_kept"]
    return out
