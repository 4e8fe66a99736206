"""Training the melody VAE on the music21 corpus: ``train(out_dir)`` parses (once, cached),
splits by tune, trains a fixed number of seeded steps and writes the weights, the
encoded held-out split and MODEL_CARD.md with the figures ``evaluate`` measures.

Reproducible: one seed sets the initial weights (``torch.manual_seed``), the batch order
and the transpositions (numpy), and the latent noise (a torch generator); the step count
is fixed, so the same machine and thread count give the same weights. ``minutes`` caps
the run by the clock instead, which trades that away (the card says so)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# The weights folder's file names live in checkpoint.py: the run-time model reads them
# without importing this module (callers that train still find them here).
from museforge.models.music.checkpoint import (
    CARD_FILE,
    CONFIG_FILE,
    FIGURES_FILE,
    HELDOUT_FILE,
    WEIGHTS_FILE,
)
from museforge.models.music.data import (
    MAX_PITCH,
    METER_NAMES,
    METERS,
    MIN_PITCH,
    N_METERS,
    Windows,
    ensure_cache,
    heldout_tunes,
    transpose_tokens,
    windows_from_cache,
)

Progress = Callable[[int, int, dict[str, float]], None]  # (step, steps, latest figures)


@dataclass(frozen=True)
class Schedule:
    steps: int = 4500
    batch_size: int = 128
    lr: float = 2e-3
    final_lr: float = 1e-4
    max_beta: float = 0.2
    anneal_steps: int = 1500
    free_nats: float = 16.0  # per window: KL under this is not penalised
    max_shift: int = 6  # transpositions drawn from -max_shift..+max_shift (that fit)
    clip: float = 1.0

    def beta(self, step: int) -> float:
        return self.max_beta * min(1.0, step / max(1, self.anneal_steps))

    def learning_rate(self, step: int) -> float:
        return self.lr * (self.final_lr / self.lr) ** (step / max(1, self.steps))


@dataclass
class Split:
    train: list[Windows]
    heldout: list[Windows]
    tunes: int
    heldout_tunes: int


def split_corpus(cache: Path, *, heldout_share: float = 0.1) -> Split:
    held = heldout_tunes(cache, heldout_share)
    train, heldout = [], []
    for w in windows_from_cache(cache):
        is_held = held[w.tune]
        train.append(w.take(np.flatnonzero(~is_held)))
        heldout.append(w.take(np.flatnonzero(is_held)))
    return Split(train, heldout, len(held), int(held.sum()))


def heldout_subset(windows: list[Windows], per_meter: int, seed: int) -> list[Windows]:
    """At most ``per_meter`` held-out windows per meter, chosen by a seeded draw (what is
    committed: small, and enough for figures to two decimals)."""
    rng = np.random.default_rng(seed)
    out = []
    for w in windows:
        rows = np.sort(rng.permutation(len(w))[:per_meter])
        out.append(w.take(rows))
    return out


def save_heldout(windows: list[Windows], path: Path, extra: dict[str, Any]) -> None:
    arrays: dict[str, np.ndarray] = {"info": np.array(json.dumps(extra))}
    for w in windows:
        arrays[f"tokens_{w.meter}"] = w.tokens.astype(np.int8)
        arrays[f"tune_{w.meter}"] = w.tune.astype(np.int32)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def load_heldout(path: Path) -> tuple[list[Windows], dict[str, Any]]:
    from museforge.models.music.data import FIRST_PITCH_TOKEN

    out = []
    with np.load(path) as f:
        info = json.loads(str(f["info"]))
        for meter in range(N_METERS):
            tokens = f[f"tokens_{meter}"].astype(np.int64)
            on = np.where(tokens >= FIRST_PITCH_TOKEN, tokens - FIRST_PITCH_TOKEN + MIN_PITCH, -1)
            lo = np.where(on >= 0, on, 999).min(1)
            hi = on.max(1)
            out.append(Windows(meter, tokens, f[f"tune_{meter}"].astype(np.int64),
                               np.where(hi >= 0, lo, 0), np.maximum(hi, 0)))
    return out, info


def batches(windows: list[Windows], schedule: Schedule, rng: np.random.Generator,
            ) -> Any:
    """Endless seeded batches ``(meter, tokens)``: each epoch shuffles every meter's
    windows, cuts them into batches of one meter, shuffles the batches, and moves each
    window by a random transposition that keeps it inside the pitch range."""
    while True:
        plan = []
        for w in windows:
            order = rng.permutation(len(w))
            for i in range(0, len(order) - schedule.batch_size + 1, schedule.batch_size):
                plan.append((w.meter, order[i:i + schedule.batch_size]))
        if not plan:
            raise ValueError("no full batch in the training windows")
        for k in rng.permutation(len(plan)):
            meter, rows = plan[k]
            w = windows[meter] if windows[meter].meter == meter else \
                next(x for x in windows if x.meter == meter)
            lo, hi = w.lowest[rows], w.highest[rows]
            low = np.maximum(-schedule.max_shift, MIN_PITCH - lo)
            high = np.minimum(schedule.max_shift, MAX_PITCH - hi)
            shift = low + (rng.random(len(rows)) * (high - low + 1)).astype(np.int64)
            yield meter, transpose_tokens(w.tokens[rows], shift)


def fit(net: Any, windows: list[Windows], schedule: Schedule, *, seed: int = 0,
        progress: Progress | None = None, deadline: float | None = None,
        log_every: int = 50) -> list[dict[str, float]]:
    """Train ``net`` in place; returns the running means logged every ``log_every`` steps."""
    import torch

    rng = np.random.default_rng(seed)
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=schedule.lr)
    net.train()
    logs: list[dict[str, float]] = []
    running: dict[str, float] = {}
    count = 0
    stream = batches(windows, schedule, rng)
    for step in range(schedule.steps):
        if deadline is not None and time.monotonic() > deadline:
            break
        meter, tokens = next(stream)
        for group in optimizer.param_groups:
            group["lr"] = schedule.learning_rate(step)
        out = net.loss(torch.from_numpy(tokens), meter, beta=schedule.beta(step),
                       free_nats=schedule.free_nats, generator=generator)
        optimizer.zero_grad()
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), schedule.clip)
        optimizer.step()
        for k, v in out.items():
            running[k] = running.get(k, 0.0) + float(v.detach())
        count += 1
        if (step + 1) % log_every == 0 or step + 1 == schedule.steps:
            entry = {k: v / count for k, v in running.items()}
            entry["step"] = step + 1
            logs.append(entry)
            running, count = {}, 0
            if progress is not None:
                progress(step + 1, schedule.steps, entry)
    net.eval()
    return logs


def print_progress(step: int, steps: int, figures: dict[str, float]) -> None:
    width = 30
    done = int(width * step / steps)
    sys.stderr.write(f"\rtraining [{'#' * done}{'.' * (width - done)}] {step}/{steps}  "
                     f"loss {figures['loss']:.2f}  acc {figures['accuracy']:.3f}  "
                     f"kl {figures['kl']:.1f}")
    if step == steps:
        sys.stderr.write("\n")
    sys.stderr.flush()


def train(out_dir: Path | str, *, seed: int = 0, minutes: float | None = None,
          progress: Progress | None = None, cache_path: Path | None = None,
          schedule: Schedule | None = None, config: Any = None, threads: int | None = 1,
          heldout_per_meter: int = 1500, parse_progress: Callable[[int, int, str], None]
          | None = None) -> dict[str, Any]:
    """Train the melody VAE and write ``melody_vae.safetensors``, ``config.json``,
    ``heldout.npz`` and ``MODEL_CARD.md`` into ``out_dir``; returns the card's figures.

    ``cache_path``: the parsed corpus (default: under the data dir; parsed on first use,
    about 6 minutes). ``minutes`` stops early by the clock (not reproducible). ``threads``:
    torch's CPU threads; one by default, because float sums depend on how the work is split
    (the same thread count reproduces the same weights) and small LSTM steps gain little
    from a second thread on a busy machine."""
    import torch
    from safetensors.torch import save_file

    from museforge.models.music.evaluate import evaluate, write_model_card
    from museforge.models.music.vae import MelodyVAE, VAEConfig

    started = time.monotonic()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if threads is not None:
        torch.set_num_threads(threads)
    schedule = schedule or Schedule()
    config = config or VAEConfig()
    cache = ensure_cache(cache_path, progress=parse_progress)
    split = split_corpus(cache)
    heldout = heldout_subset(split.heldout, heldout_per_meter, seed)

    torch.manual_seed(seed)
    net = MelodyVAE(config)
    deadline = started + 60 * minutes if minutes else None
    fit_started, fit_cpu = time.monotonic(), time.process_time()
    logs = fit(net, split.train, schedule, seed=seed, progress=progress or print_progress,
               deadline=deadline)
    fit_seconds = time.monotonic() - fit_started
    # CPU seconds too: on a shared machine the wall clock mostly measures the neighbours
    fit_cpu_seconds = time.process_time() - fit_cpu

    tensors = {k: v.detach().to(torch.float16).contiguous() for k, v in
               net.state_dict().items()}
    save_file(tensors, str(out / WEIGHTS_FILE))
    with np.load(cache) as f:
        tune_source = f["tune_source"]
        parse_stats = [int(x) for x in f["stats"]]
        parse_limit = int(f["limit"]) if "limit" in f else -1
        bar_meters = [tuple(int(x) for x in row) for row in f["bars"][:, 3:5]]
    known = sum(1 for ts in bar_meters if ts in METERS)
    training = {
        "seed": seed,
        "steps_run": int(logs[-1]["step"]) if logs else 0,
        "schedule": schedule.__dict__,
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "train_seconds": round(fit_seconds),
        "train_cpu_seconds": round(fit_cpu_seconds),
        "total_seconds": None,
        "stopped_by_clock": bool(logs and logs[-1]["step"] < schedule.steps),
        "torch": torch.__version__,
        "tunes_parsed": parse_stats[0],
        "tunes_failed": parse_stats[1],
        "notes_rounded_to_grid": parse_stats[2],
        "parse_seconds": parse_stats[3],
        "parse_limit": None if parse_limit < 0 else parse_limit,
        "bars": len(bar_meters),
        "bars_in_known_meters": known,
        "tunes_by_source": {name: int((tune_source == i).sum()) for i, name in
                            enumerate(("essen", "oneill", "ryan", "bach"))},
        "tunes_heldout": split.heldout_tunes,
        "train_windows": {METER_NAMES[w.meter]: len(w) for w in split.train},
        "heldout_windows_all": {METER_NAMES[w.meter]: len(w) for w in split.heldout},
        "heldout_windows": {METER_NAMES[w.meter]: len(w) for w in heldout},
        "final_train_log": logs[-1] if logs else {},
        "log": logs[:: max(1, len(logs) // 40)],
    }
    save_heldout(heldout, out / HELDOUT_FILE, {"seed": seed})
    training["total_seconds"] = round(time.monotonic() - started)
    (out / CONFIG_FILE).write_text(json.dumps(
        {"model": config.to_dict(), "pitch_range": [MIN_PITCH, MAX_PITCH],
         "meters": list(METER_NAMES), "training": training}, indent=1) + "\n")
    figures = evaluate(out)
    write_model_card(figures, out / CARD_FILE)
    (out / FIGURES_FILE).write_text(json.dumps(figures, indent=1) + "\n")
    return figures
