"""Fine-tuning a copy of the melody VAE on one person's pieces (``learn_style`` for music).

The pieces' melodies are put on the sixteenth grid as bars and cut into windows by the
very code that windows the corpus (``data.windows_from_cache``, fed an in-memory array
file of the same layout). A part of the person's tunes is held out before training (whole
tunes, by a seeded draw; with fewer than ``MIN_TUNES_TO_SPLIT`` tunes, the last bars of
each), and the figures are measured on it, before and after, on the weights as saved:

- reconstruction: the held-out windows' negative log-likelihood per window (teacher-forced
  from the latent mean, nats) and token accuracy;
- sample statistics: prior samples' pitch range, mean interval, notes per bar and rest
  ratio against the held-out windows', as each statistic's gap relative to the person's
  value, averaged ("closer": the tuned model's mean gap against the base model's).

The weights are written as the committed model's are (safetensors, float16, the torch
state-dict names), so the numpy run time loads them (``load_style_model``). torch and
safetensors are imported only when training."""

from __future__ import annotations

import hashlib
import io
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from museforge.models.music.base import MusicError
from museforge.models.music.checkpoint import (
    WEIGHTS_DIR,
    VAEConfig,
    load_checkpoint,
    read_safetensors,
)
from museforge.models.music.data import (
    MAX_PITCH,
    METER_NAMES,
    METERS,
    MIN_PITCH,
    STEPS_PER_BAR,
    STEPS_PER_BEAT,
    Windows,
    transpose_tokens,
    window_stats,
    windows_from_cache,
)
from museforge.models.music.piece import Note, Piece

MAX_TUNES = 100  # pieces one style learns from
MIN_WINDOWS = 12  # 2-bar windows (a bar's hop) to train on, after the held-out part
MIN_NOTES = 48
MIN_TUNES_TO_SPLIT = 4  # fewer: the held-out part is the last bars of each tune
STATS = ("pitch_range", "mean_interval", "notes_per_bar", "rest_ratio")
TIME_SIGNATURES = ((4, 4), (2, 4), (3, 4), (6, 8))  # one per meter id
WEIGHTS_MIME = "application/x-safetensors"

Progress = Callable[[int, int, dict[str, float]], None]  # (step, steps, latest figures)


@dataclass(frozen=True)
class Settings:
    steps: int = 300
    batch_size: int = 32
    lr: float = 5e-4
    # The base model's final KL weight and free nats. A stronger pull to the prior (0.5,
    # 8) brought samples closer but lost held-out reconstruction on some splits; samples
    # are drawn from the person's latent region instead (``StyleModel``).
    beta: float = 0.2
    free_nats: float = 16.0
    max_shift: int = 3  # transpositions of the person's windows, semitones each way
    heldout_share: float = 0.2
    prior_samples: int = 128  # per meter the person's tunes use
    temperature: float = 1.0
    seed: int = 0
    clip: float = 1.0


@dataclass
class Tunes:
    """A person's melodies as windows, split into what trains and what is held out."""

    train: list[Windows]
    heldout: list[Windows]
    tunes: int
    heldout_tunes: int  # 0 when the held-out part is the tunes' last bars
    notes: int
    refused: list[str] = field(default_factory=list)  # "title: why", tunes left out

    @property
    def train_windows(self) -> int:
        return sum(len(w) for w in self.train)

    @property
    def heldout_windows(self) -> int:
        return sum(len(w) for w in self.heldout)


@dataclass
class Finetuned:
    weights: bytes  # safetensors, float16
    config: dict[str, Any]  # what config.json would hold: the layer sizes and the base
    figures: dict[str, Any]
    revision: str  # first 12 hex digits of the weights' sha256


def _style_model_class() -> Any:
    from museforge.models.music.model import MelodyVAEModel

    class StyleModel(MelodyVAEModel):
        """A fine-tuned melody model whose samples come from the person's region of the
        latent space: z ~ N(mean, diag(std²)) of their training phrases' posteriors
        (``config["latent_prior"]``), not N(0, I), so that what compose_music draws
        sounds like their tunes; encode, decode, variations and continuations are the
        plain model's."""

        def sample(self, n: int, time_signature: tuple[int, int], *,
                   temperature: float = 1.0, seed: int = 0) -> list[list[Note]]:
            from museforge.models.music.data import tokens_to_notes

            if not 1 <= n <= 1024:
                raise MusicError(f"can sample 1 to 1024 melodies at once, not {n}")
            prior = self.config["latent_prior"]
            mean = np.asarray(prior["mean"], np.float32)
            std = np.asarray(prior["std"], np.float32)
            rng = np.random.default_rng(seed)
            z = (mean + std * rng.standard_normal((n, self.latent_size))).astype(np.float32)
            if self.backend == "numpy":
                rows = self._generate(z, time_signature, temperature, rng)
            else:
                import torch

                rows = self._generate(torch.from_numpy(z), time_signature, temperature,
                                      torch.Generator().manual_seed(seed))
            return [tokens_to_notes(row) for row in rows]

    return StyleModel


def latent_prior(net: Any, windows: Sequence[Windows]) -> dict[str, list[float]]:
    """Mean and spread of the aggregate posterior over ``windows``: per latent dimension,
    the mean of the means and sqrt(var of the means + mean of the variances)."""
    import torch

    mus, variances = [], []
    with torch.no_grad():
        for w in windows:
            mu, logvar = net.encode(torch.from_numpy(w.tokens.astype(np.int64)), w.meter)
            mus.append(mu.numpy())
            variances.append(logvar.exp().numpy())
    mu_all, var_all = np.concatenate(mus), np.concatenate(variances)
    std = np.sqrt(mu_all.var(0) + var_all.mean(0))
    return {"mean": [round(float(x), 5) for x in mu_all.mean(0)],
            "std": [round(float(x), 5) for x in std]}


# ---------------------------------------------------------------- pieces -> windows


def _melody(piece: Piece) -> list[Note]:
    part = piece.part("melody") or next((p for p in piece.parts if not p.is_drum), None)
    return list(part.notes) if part is not None else []


def _bars_of(piece: Piece, tune: int, first_step: int,
             ) -> tuple[list[tuple[int, int, int, int, int, int]], np.ndarray, np.ndarray]:
    """The piece's melody as the corpus cache holds a tune: bar rows ``(tune, first step,
    steps, numerator, denominator, follows)``, MIDI pitch per step (0 = rest) and onsets.
    Notes are rounded to the sixteenth grid; of notes starting together the highest wins;
    the last bar is completed with rest."""
    num, den = piece.time_signature
    bar = STEPS_PER_BAR[METERS[(num, den)]]
    notes = sorted(_melody(piece), key=lambda n: (n.start, -n.pitch))
    total = max(1, math.ceil(max((n.end for n in notes), default=0) * STEPS_PER_BEAT / bar))
    pitch = np.zeros(total * bar, np.int8)
    onset = np.zeros(total * bar, bool)
    taken = -1
    for n in notes:
        s = max(0, round(n.start * STEPS_PER_BEAT))
        e = min(len(pitch), max(s + 1, round(n.end * STEPS_PER_BEAT)))
        if s <= taken or s >= len(pitch):
            continue  # a lower note struck with the top one, or a note after the end
        pitch[s:e], onset[s:e] = n.pitch, False
        onset[s] = True
        taken = s
    rows = [(tune, first_step + i * bar, bar, num, den, int(i > 0)) for i in range(total)]
    return rows, pitch, onset


def tunes_to_windows(pieces: Sequence[Piece], names: Sequence[str] | None = None,
                     ) -> tuple[list[Windows], int, list[str]]:
    """Windows of every piece (per meter, each window's ``tune`` the piece's index), the
    notes read, and the pieces left out with the reason."""
    names = list(names) if names is not None else [p.title or f"piece {i + 1}"
                                                   for i, p in enumerate(pieces)]
    bars: list[tuple[int, int, int, int, int, int]] = []
    pitches: list[np.ndarray] = []
    onsets: list[np.ndarray] = []
    refused: list[str] = []
    step = notes = 0
    for i, piece in enumerate(pieces):
        ts = tuple(piece.time_signature)
        if ts not in METERS:
            refused.append(f"{names[i]}: in {ts[0]}/{ts[1]}; the melody model knows 4/4, "
                           "2/2, 2/4, 3/4 and 6/8")
            continue
        melody = _melody(piece)
        if not melody:
            refused.append(f"{names[i]}: it has no melody notes")
            continue
        rows, p, o = _bars_of(piece, i, step)
        bars.extend(rows)
        pitches.append(p)
        onsets.append(o)
        step += len(p)
        notes += len(melody)
    if not bars:
        return [], 0, refused
    buffer = io.BytesIO()
    np.savez(buffer, bars=np.array(bars, np.int64), pitch=np.concatenate(pitches),
             onset=np.concatenate(onsets))
    buffer.seek(0)
    windows = windows_from_cache(buffer)  # type: ignore[arg-type]  # np.load reads a file
    return [w for w in windows if len(w)], notes, refused


def split_tunes(pieces: Sequence[Piece], names: Sequence[str] | None = None, *,
                share: float = 0.2, seed: int = 0) -> Tunes:
    """The person's windows split into training and held-out parts (see the module doc);
    a MusicError when too little is left to learn from."""
    if len(pieces) > MAX_TUNES:
        raise MusicError(f"a style learns from at most {MAX_TUNES} pieces, not {len(pieces)}")
    windows, notes, refused = tunes_to_windows(pieces, names)
    usable = sorted({int(t) for w in windows for t in w.tune})
    if notes < MIN_NOTES or sum(len(w) for w in windows) < MIN_WINDOWS + 2:
        why = f" ({'; '.join(refused)})" if refused else ""
        raise MusicError(f"too few notes to learn a style from: {notes} notes in "
                         f"{sum(len(w) for w in windows)} two-bar phrases; I need at least "
                         f"{MIN_NOTES} notes in {MIN_WINDOWS + 2} phrases (about "
                         f"{(MIN_WINDOWS + 3)} bars of melody){why}")
    rng = np.random.default_rng(seed)
    train, heldout = [], []
    if len(usable) >= MIN_TUNES_TO_SPLIT:
        count = max(1, round(share * len(usable)))
        held = set(rng.permutation(usable)[:count].tolist())
        for w in windows:
            is_held = np.isin(w.tune, list(held))
            train.append(w.take(np.flatnonzero(~is_held)))
            heldout.append(w.take(np.flatnonzero(is_held)))
        held_tunes = len(held)
    else:
        for w in windows:  # each tune's last windows; the one straddling the cut is dropped
            keep_train, keep_held = [], []
            for t in np.unique(w.tune):
                rows = np.flatnonzero(w.tune == t)
                cut = len(rows) - max(1, round(share * len(rows)))
                keep_train.extend(rows[:max(0, cut - 1)].tolist())
                keep_held.extend(rows[cut:].tolist())
            train.append(w.take(np.array(keep_train, np.int64)))
            heldout.append(w.take(np.array(keep_held, np.int64)))
        held_tunes = 0
    train = [w for w in train if len(w)]
    heldout = [w for w in heldout if len(w)]
    out = Tunes(train, heldout, len(usable), held_tunes, notes, refused)
    if out.train_windows < MIN_WINDOWS or not out.heldout_windows:
        raise MusicError(f"too few notes to learn a style from: {out.train_windows} two-bar "
                         f"phrases to learn from after holding out {out.heldout_windows} to "
                         f"check it on; I need at least {MIN_WINDOWS}")
    return out


# ---------------------------------------------------------------- the base model


def base_checkpoint(model: Any) -> tuple[VAEConfig, dict[str, np.ndarray], str]:
    """The layer sizes, float32 tensors and revision of a ``MelodyVAEModel`` to start
    from: a torch network's own state, or, on numpy, the weights folder it was loaded
    from (the committed one)."""
    net = getattr(model, "_net", None)
    if net is not None and hasattr(net, "state_dict"):
        tensors = {k: v.detach().float().cpu().numpy() for k, v in net.state_dict().items()}
        return net.config, tensors, str(model.revision)
    ckpt = load_checkpoint(WEIGHTS_DIR)
    if ckpt.revision != getattr(model, "revision", None):
        raise MusicError("this melody model cannot be fine-tuned: only the committed model "
                         "or a torch network can")
    return ckpt.model, ckpt.tensors, ckpt.revision


def style_checkpoint(weights: Path | str, config: dict[str, Any],
                     ) -> tuple[VAEConfig, dict[str, np.ndarray], str]:
    """A fine-tuned model's layer sizes, float32 tensors and revision, to train on."""
    path = Path(weights)
    tensors = {k: v.astype(np.float32) for k, v in read_safetensors(path).items()}
    return (VAEConfig(**config["model"]), tensors,
            hashlib.sha256(path.read_bytes()).hexdigest()[:12])


# ---------------------------------------------------------------- figures


def reconstruction(net: Any, windows: Sequence[Windows]) -> dict[str, float]:
    """Held-out NLL per window (nats, teacher-forced from the latent mean) and accuracy."""
    import torch
    from torch.nn import functional as F

    nll, correct, steps, count = 0.0, 0, 0, 0
    with torch.no_grad():
        for w in windows:
            tokens = torch.from_numpy(w.tokens.astype(np.int64))
            mu, _ = net.encode(tokens, w.meter)
            logits = net.logits(mu, tokens, w.meter)
            nll += float(F.cross_entropy(logits.transpose(1, 2), tokens,
                                         reduction="none").sum())
            correct += int((logits.argmax(2) == tokens).sum())
            steps += tokens.numel()
            count += len(tokens)
    return {"nll_per_window": nll / count, "accuracy": correct / steps}


def sample_stats(model: Any, windows: Sequence[Windows], settings: Settings,
                 ) -> dict[str, float]:
    """Statistics of prior samples in the meters of ``windows``, as many per meter as
    the person's windows are shared among them."""
    from museforge.models.music.data import notes_to_tokens

    total = sum(len(w) for w in windows)
    rows: list[np.ndarray] = []
    for w in windows:
        ts = TIME_SIGNATURES[w.meter]
        n = max(8, round(settings.prior_samples * len(w) / total))
        for m in model.sample(n, ts, temperature=settings.temperature,
                              seed=settings.seed + w.meter):
            rows.append(np.asarray(notes_to_tokens(m, ts)))
    return _stats(rows)


def _stats(rows: Sequence[np.ndarray]) -> dict[str, float]:
    s = window_stats(rows)
    return {k: round(s[k], 4) for k in STATS}


def _gap(stats: dict[str, float], target: dict[str, float]) -> dict[str, float]:
    """Each statistic's distance from the person's, relative to theirs (rest ratio: to
    at least 0.05, so that a nearly rest-free idiom does not blow the figure up)."""
    floor = {"rest_ratio": 0.05}
    return {k: round(abs(stats[k] - target[k]) / max(abs(target[k]), floor.get(k, 0.5)), 4)
            for k in STATS}


# ---------------------------------------------------------------- training


def _batch(windows: Sequence[Windows], settings: Settings, rng: np.random.Generator,
           ) -> tuple[int, np.ndarray]:
    sizes = np.array([len(w) for w in windows], np.float64)
    w = windows[int(rng.choice(len(windows), p=sizes / sizes.sum()))]
    rows = rng.integers(0, len(w), settings.batch_size)
    lo, hi = w.lowest[rows], w.highest[rows]
    low = np.maximum(-settings.max_shift, MIN_PITCH - lo)
    high = np.minimum(settings.max_shift, MAX_PITCH - hi)
    shift = low + (rng.random(len(rows)) * (high - low + 1)).astype(np.int64)
    return w.meter, transpose_tokens(w.tokens[rows], shift)


def finetune(base: Any, pieces: Sequence[Piece], *, names: Sequence[str] | None = None,
             settings: Settings | None = None, progress: Progress | None = None,
             threads: int | None = None,
             start: tuple[VAEConfig, dict[str, np.ndarray], str] | None = None,
             ) -> Finetuned:
    """Fine-tune a copy of ``base`` (a ``MelodyVAEModel``) on ``pieces``; ``base`` is not
    changed. ``start``: other weights to start from (a style's earlier version, from
    ``style_checkpoint``); the figures' "before" and "base" are then theirs.
    ``progress`` is called every 25 steps (it may raise to stop the training: nothing is
    returned then). A MusicError when the pieces hold too little melody."""
    try:
        import torch
        from safetensors.torch import save as save_bytes
    except ImportError as exc:  # the base install composes without them
        raise MusicError("learning a style trains the melody model, which needs torch and "
                         "safetensors: pip install 'museforge[music-train]'") from exc

    from museforge.models.music.model import MelodyVAEModel
    from museforge.models.music.vae import MelodyVAE

    settings = settings or Settings()
    started, cpu = time.monotonic(), time.process_time()
    tunes = split_tunes(pieces, names, share=settings.heldout_share, seed=settings.seed)
    config, tensors, base_revision = start or base_checkpoint(base)
    saved_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        torch.manual_seed(settings.seed)
        net = MelodyVAE(config)
        net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in tensors.items()})
        net.eval()
        base_model = MelodyVAEModel(net, {"model": config.to_dict()}, base_revision)
        before = reconstruction(net, tunes.heldout)
        base_stats = sample_stats(base_model, tunes.heldout, settings)
        logs = _fit(net, tunes, settings, progress)
        state = {k: v.detach().to(torch.float16).contiguous() for k, v in
                 net.state_dict().items()}
        weights = save_bytes(state)
        # the figures of the weights as saved (float16), not of the float32 network
        net.load_state_dict({k: v.float() for k, v in state.items()})
        net.eval()
        revision = hashlib.sha256(weights).hexdigest()[:12]
        prior = latent_prior(net, tunes.train)
        tuned_model = _style_model_class()(net, {"model": config.to_dict(),
                                                 "latent_prior": prior}, revision)
        after = reconstruction(net, tunes.heldout)
        tuned_stats = sample_stats(tuned_model, tunes.heldout, settings)
    finally:
        torch.set_num_threads(saved_threads)
    target = _stats([row for w in tunes.heldout for row in w.tokens])
    base_gap, tuned_gap = _gap(base_stats, target), _gap(tuned_stats, target)
    mean_base, mean_tuned = float(np.mean(list(base_gap.values()))), \
        float(np.mean(list(tuned_gap.values())))
    figures = {
        "tunes": tunes.tunes, "heldout_tunes": tunes.heldout_tunes, "notes": tunes.notes,
        "train_windows": tunes.train_windows, "heldout_windows": tunes.heldout_windows,
        "meters": sorted({METER_NAMES[w.meter] for w in tunes.train}),
        "refused": tunes.refused,
        "heldout_reconstruction": {"before": _round(before), "after": _round(after)},
        "sample_stats": {"person": target, "base": base_stats, "tuned": tuned_stats},
        "stat_gap": {"base": base_gap, "tuned": tuned_gap,
                     "mean_base": round(mean_base, 4), "mean_tuned": round(mean_tuned, 4)},
        "closer": round(1 - mean_tuned / mean_base, 4) if mean_base > 0 else 0.0,
        "final_train_log": logs[-1] if logs else {},
        "seconds": round(time.monotonic() - started, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
    }
    style_config = {"model": config.to_dict(), "latent_prior": prior,
                    "pitch_range": [MIN_PITCH, MAX_PITCH], "meters": list(METER_NAMES),
                    "base": {"name": getattr(base, "name", "melody model"),
                             "revision": base_revision},
                    "settings": asdict(settings), "torch": torch.__version__}
    return Finetuned(weights, style_config, figures, revision)


def _fit(net: Any, tunes: Tunes, settings: Settings, progress: Progress | None,
         ) -> list[dict[str, float]]:
    import torch

    rng = np.random.default_rng(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    optimizer = torch.optim.Adam(net.parameters(), lr=settings.lr)
    net.train()
    logs: list[dict[str, float]] = []
    running: dict[str, float] = {}
    count = 0
    for step in range(settings.steps):
        meter, tokens = _batch(tunes.train, settings, rng)
        out = net.loss(torch.from_numpy(tokens), meter, beta=settings.beta,
                       free_nats=settings.free_nats, generator=generator)
        optimizer.zero_grad()
        out["loss"].backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), settings.clip)
        optimizer.step()
        for k, v in out.items():
            running[k] = running.get(k, 0.0) + float(v.detach())
        count += 1
        if (step + 1) % 25 == 0 or step + 1 == settings.steps:
            entry = {k: round(v / count, 4) for k, v in running.items()}
            entry["step"] = step + 1
            logs.append(entry)
            running, count = {}, 0
            if progress is not None:
                progress(step + 1, settings.steps, entry)
    net.eval()
    return logs


def _round(d: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in d.items()}


# ---------------------------------------------------------------- at run time


def load_style_model(weights: Path | str, config: dict[str, Any]) -> Any:
    """A fine-tuned model on numpy (no torch) from its weights file and the config
    ``finetune`` returned (a style's recipe keeps it)."""
    from museforge.models.music.numpy_vae import NumpyMelodyVAE

    model_config, tensors, revision = style_checkpoint(weights, config)
    path = Path(weights)
    try:
        net = NumpyMelodyVAE(model_config, tensors)
    except (KeyError, ValueError) as exc:
        raise MusicError(f"{path.name} does not hold this style's melody model") from exc
    return _style_model_class()(net, dict(config), revision)
