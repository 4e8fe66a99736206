"""Training the 16-bar hierarchical melody VAE: ``train_phrases(out_dir)`` reads the
re-barred corpus cache (``phrase_corpus``, parsed on first use), cuts 16-bar windows,
splits them by the 2-bar model's held-out tunes, trains a fixed number of seeded steps with the
2-bar model's loop (``train.fit``: batches of one meter, random transpositions, KL
annealing with free bits) and writes the weights, the encoded held-out phrases, and the
card with the figures ``phrase_eval.evaluate_phrases`` measures.

Reproducible like the 2-bar model: one seed, a fixed step count, one thread."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, cast

import numpy as np

from museforge.models.music.data import METER_NAMES, ensure_cache
from museforge.models.music.numpy_hvae import (
    PHRASE_CARD,
    PHRASE_CONFIG,
    PHRASE_FIGURES,
    PHRASE_HELDOUT,
    PHRASE_WEIGHTS,
    PhraseConfig,
)
from museforge.models.music.phrase_corpus import ensure_phrase_cache
from museforge.models.music.phrase_data import (
    HELDOUT_HOP,
    PHRASE_BARS,
    TRAIN_HOP,
    Phrases,
    save_phrases,
    split_phrases,
    structure_values,
    summarise,
)
from museforge.models.music.train import Progress, Schedule, fit, print_progress

# Sized for well under 40 minutes of one CPU thread (see PHRASE_MODEL_CARD.md).
PHRASE_SCHEDULE = Schedule(steps=2400, batch_size=32, lr=3e-3, final_lr=2e-4, max_beta=0.2,
                           anneal_steps=800, free_nats=96.0, max_shift=6, clip=1.0)


def train_structure(train: list[Phrases]) -> dict[str, Any]:
    """The structure measures (``phrase_data.summarise``) of the training phrases."""
    return summarise([structure_values(w.tokens.astype(np.int64), w.meter) for w in train])


def heldout_subset(windows: list[Phrases], per_meter: int, seed: int) -> list[Phrases]:
    rng = np.random.default_rng(seed)
    return [w.take(np.sort(rng.permutation(len(w))[:per_meter])) for w in windows]


def train_phrases(out_dir: Path | str, *, seed: int = 0, minutes: float | None = None,
                  progress: Progress | None = None, cache_path: Path | None = None,
                  melody_cache: Path | None = None,
                  schedule: Schedule | None = None, config: PhraseConfig | None = None,
                  threads: int | None = 1, heldout_per_meter: int = 300,
                  evaluate: bool = True) -> dict[str, Any]:
    """Train the phrase VAE and write ``phrase_vae.safetensors``, ``phrase_config.json``
    and ``phrase_heldout.npz`` into ``out_dir``, then (``evaluate``) the figures and
    ``PHRASE_MODEL_CARD.md``; returns the figures (the training record without them).
    ``minutes`` stops early by the clock (then not reproducible, and the card says so).
    ``cache_path``: the re-barred corpus (``phrase_corpus``; parsed on first use);
    ``melody_cache``: the 2-bar model's, whose held-out tunes are held out here too."""
    import torch
    from safetensors.torch import save_file

    from museforge.models.music.hvae import PhraseVAE

    started = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if threads is not None:
        torch.set_num_threads(threads)
    schedule = schedule or PHRASE_SCHEDULE
    config = config or PhraseConfig()
    cache = ensure_phrase_cache(cache_path)
    split = split_phrases(cache, ensure_cache(melody_cache))
    heldout = heldout_subset(split.heldout, heldout_per_meter, seed)

    torch.manual_seed(seed)
    net = PhraseVAE(config)
    deadline = started + 60 * minutes if minutes else None
    fit_started, fit_cpu = time.monotonic(), time.process_time()
    logs = fit(net, cast(list[Any], split.train), schedule, seed=seed,
               progress=progress or print_progress, deadline=deadline, log_every=25)
    fit_seconds = time.monotonic() - fit_started
    fit_cpu_seconds = time.process_time() - fit_cpu

    tensors = {k: v.detach().to(torch.float16).contiguous() for k, v in
               net.state_dict().items()}
    save_file(tensors, str(out / PHRASE_WEIGHTS))
    save_phrases(heldout, out / PHRASE_HELDOUT, {"seed": seed})
    with np.load(cache) as f:
        stats = [int(x) for x in f["stats"]]
        tune_source = f["tune_source"]
    training = {
        "seed": seed,
        "tunes_parsed": stats[0],
        "tunes_failed": stats[1],
        "notes_rounded_to_grid": stats[2],
        "parse_seconds": stats[3],
        "tunes_by_source": {name: int((tune_source == i).sum()) for i, name in
                            enumerate(("essen", "oneill", "ryan", "bach"))},
        "steps_run": int(logs[-1]["step"]) if logs else 0,
        "schedule": schedule.__dict__,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "train_seconds": round(fit_seconds),
        "train_cpu_seconds": round(fit_cpu_seconds),
        "total_seconds": round(time.monotonic() - started),
        "stopped_by_clock": bool(logs and logs[-1]["step"] < schedule.steps),
        "torch": torch.__version__,
        "bars": PHRASE_BARS,
        "train_hop": TRAIN_HOP,
        "heldout_hop": HELDOUT_HOP,
        "tunes": split.tunes,
        "tunes_heldout": split.heldout_tunes,
        "train_windows": {METER_NAMES[w.meter]: len(w) for w in split.train},
        "train_tunes": {METER_NAMES[w.meter]: len(set(w.tune.tolist())) for w in split.train},
        "heldout_windows_all": {METER_NAMES[w.meter]: len(w) for w in split.heldout},
        "heldout_tunes_with_phrases": {METER_NAMES[w.meter]: len(set(w.tune.tolist()))
                                       for w in split.heldout},
        "heldout_windows": {METER_NAMES[w.meter]: len(w) for w in heldout},
        # what the composer aims its choice of phrases at (never the held-out figures)
        "train_structure": train_structure(split.train),
        "final_train_log": logs[-1] if logs else {},
        "log": logs[:: max(1, len(logs) // 40)],
    }
    (out / PHRASE_CONFIG).write_text(json.dumps(
        {"model": config.to_dict(), "meters": list(METER_NAMES), "training": training},
        indent=1) + "\n")
    if not evaluate:
        return training
    return write_phrase_card(out)


def write_phrase_card(out: Path) -> dict[str, Any]:
    """Measure the model in ``out`` and write its figures and card."""
    from museforge.models.music.phrase_eval import evaluate_phrases, write_phrase_model_card

    figures = evaluate_phrases(out)
    write_phrase_model_card(figures, out / PHRASE_CARD)
    (out / PHRASE_FIGURES).write_text(json.dumps(figures, indent=1) + "\n")
    return figures
