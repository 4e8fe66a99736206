"""The 16-bar phrase data and the structure measures of the phrase model: phrase windows
cut from the same parsed corpus cache and split by the same held-out tunes as the 2-bar
model (``data.heldout_tunes``), the per-step features the hierarchical network reads,
and what a phrase's shape is measured by (bars that repeat or sequence an earlier bar,
the cadence note, the pitch range). Plain numpy: no torch, no music21."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from museforge.models.music.data import (
    BEAT_STEPS,
    FIRST_PITCH_TOKEN,
    MAX_PITCH,
    METERS,
    MIN_PITCH,
    N_METERS,
    NO_EVENT,
    NOTE_OFF,
    STEPS_PER_BAR,
)

PHRASE_BARS = 16
N_STEP_FEATURES = 5  # per step inside a bar
N_BAR_FEATURES = 6  # per bar inside the phrase
TRAIN_HOP = 2  # bars between the starts of training windows
HELDOUT_HOP = 8  # held-out windows start on the 8-bar lines of a run (phrase-aligned)

# Krumhansl & Kessler's key profiles (probe-tone ratings), for the phrase's key.
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def step_features(meter: int) -> np.ndarray:
    """``[steps_per_bar, N_STEP_FEATURES]``: bar start, beat start, eighth start and the
    phase in the bar (sine, cosine); the same for every bar of a meter."""
    bar, beat = STEPS_PER_BAR[meter], BEAT_STEPS[meter]
    pos = np.arange(bar)
    phase = 2 * np.pi * pos / bar
    return np.stack([pos == 0, pos % beat == 0, pos % 2 == 0, np.sin(phase), np.cos(phase)],
                    axis=1).astype(np.float32)


def bar_features(bars: int = PHRASE_BARS) -> np.ndarray:
    """``[bars, N_BAR_FEATURES]``: where each bar stands in the phrase (the second of a
    pair, the last of four, of eight, the last bar, and the phase over the 16 bars)."""
    b = np.arange(bars)
    phase = 2 * np.pi * b / PHRASE_BARS
    return np.stack([b % 2 == 1, b % 4 == 3, b % 8 == 7, b == PHRASE_BARS - 1,
                     np.sin(phase), np.cos(phase)], axis=1).astype(np.float32)


@dataclass
class Phrases:
    """Encoded 16-bar windows of one meter: tokens ``[n, 16 * steps_per_bar]``, the tune
    of each, and each window's lowest and highest MIDI pitch."""

    meter: int
    tokens: np.ndarray
    tune: np.ndarray
    lowest: np.ndarray
    highest: np.ndarray

    def __len__(self) -> int:
        return len(self.tokens)

    def take(self, rows: np.ndarray) -> Phrases:
        return Phrases(self.meter, self.tokens[rows], self.tune[rows], self.lowest[rows],
                       self.highest[rows])


def _runs(bars: np.ndarray, meter: int) -> list[tuple[int, int]]:
    """``(first bar row, length)`` of every run of directly following complete bars of one
    tune in ``meter``."""
    sigs = {ts for ts, m in METERS.items() if m == meter}
    steps = STEPS_PER_BAR[meter]
    ok = np.array([(int(r[3]), int(r[4])) in sigs and int(r[2]) == steps for r in bars])
    runs: list[tuple[int, int]] = []
    start = -1
    for i in range(len(bars)):
        joins = start >= 0 and ok[i] and bars[i, 5] == 1 and bars[i, 0] == bars[i - 1, 0] \
            and bars[i, 3] == bars[i - 1, 3] and bars[i, 4] == bars[i - 1, 4]
        if joins:
            continue
        if start >= 0:
            runs.append((start, i - start))
        start = i if ok[i] else -1
    if start >= 0:
        runs.append((start, len(bars) - start))
    return runs


def phrases_from_cache(path: Path, *, hop: int, tunes: np.ndarray | None = None,
                       ) -> list[Phrases]:
    """Every 16-bar window of directly following complete bars of one tune and meter
    whose start lies ``hop`` bars apart from the run's first bar, per meter; only the
    tunes where ``tunes`` (a bool per tune) is true, when given. Encoded as the 2-bar
    windows are (``data.windows_from_cache``): a note held into the window is struck at
    its first step, a window sticking out of C3..C6 is moved by octaves, and one spanning
    more, or all rest, is left out."""
    with np.load(path) as f:
        bars, pitch, onset = f["bars"], f["pitch"], f["onset"]
    out = []
    for meter in range(N_METERS):
        bar = STEPS_PER_BAR[meter]
        starts = [first + k for first, length in _runs(bars, meter)
                  for k in range(0, length - PHRASE_BARS + 1, hop)]
        if tunes is not None:
            starts = [s for s in starts if tunes[bars[s, 0]]]
        rows = bars[np.asarray(starts, np.int64)] if starts else np.zeros((0, 6), np.int64)
        idx = rows[:, 1:2] + np.arange(PHRASE_BARS * bar)
        out.append(_encode(meter, pitch[idx].astype(np.int64), onset[idx].copy(), rows[:, 0]))
    return out


def _encode(meter: int, p: np.ndarray, o: np.ndarray, tune: np.ndarray) -> Phrases:
    if len(p):
        o[:, 0] = p[:, 0] > 0
    sounding = p > 0
    lo = np.where(sounding, p, 999).min(1) if len(p) else np.zeros(0, np.int64)
    hi = p.max(1) if len(p) else np.zeros(0, np.int64)
    shift = np.zeros(len(p), np.int64)
    shift[lo < MIN_PITCH] = 12 * np.ceil((MIN_PITCH - lo[lo < MIN_PITCH]) / 12)
    shift[hi > MAX_PITCH] = -12 * np.ceil((hi[hi > MAX_PITCH] - MAX_PITCH) / 12)
    keep = sounding.any(1) & (lo + shift >= MIN_PITCH) & (hi + shift <= MAX_PITCH)
    lo, hi = (lo + shift)[keep], (hi + shift)[keep]
    p, o, shift = p[keep], o[keep], shift[keep]
    p = np.where(p > 0, p + shift[:, None], 0)
    tokens = np.zeros(p.shape, np.int64)
    previous = np.concatenate([np.full((len(p), 1), -1), p[:, :-1]], axis=1)
    strike = (p > 0) & (o | (previous != p))
    tokens[strike] = FIRST_PITCH_TOKEN + p[strike] - MIN_PITCH
    tokens[(p == 0) & (previous != 0)] = NOTE_OFF
    return Phrases(meter, tokens.astype(np.int8), tune[keep], lo, hi)


@dataclass
class PhraseSplit:
    train: list[Phrases]
    heldout: list[Phrases]
    tunes: int
    heldout_tunes: int


def split_phrases(cache: Path, melody_cache: Path | None = None, *,
                  heldout_share: float = 0.1) -> PhraseSplit:
    """Training windows (hop 2 bars) from the training tunes, held-out windows (hop 8,
    from each run's first bar) from the held-out tunes of the re-barred ``cache``
    (``phrase_corpus``): the 2-bar model's split, matched by tune name."""
    from museforge.models.music.phrase_corpus import phrase_heldout

    held, known = phrase_heldout(cache, melody_cache, heldout_share)
    train = phrases_from_cache(cache, hop=TRAIN_HOP, tunes=known & ~held)
    heldout = phrases_from_cache(cache, hop=HELDOUT_HOP, tunes=known & held)
    return PhraseSplit(train, heldout, int(known.sum()), int(held.sum()))


def save_phrases(windows: list[Phrases], path: Path, extra: dict[str, Any]) -> None:
    arrays: dict[str, np.ndarray] = {"info": np.array(json.dumps(extra))}
    for w in windows:
        arrays[f"tokens_{w.meter}"] = w.tokens.astype(np.int8)
        arrays[f"tune_{w.meter}"] = w.tune.astype(np.int32)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def load_phrases(path: Path) -> tuple[list[Phrases], dict[str, Any]]:
    out = []
    with np.load(path) as f:
        info = json.loads(str(f["info"]))
        for meter in range(N_METERS):
            tokens = f[f"tokens_{meter}"].astype(np.int64).reshape(
                -1, PHRASE_BARS * STEPS_PER_BAR[meter])
            on = np.where(tokens >= FIRST_PITCH_TOKEN, tokens - FIRST_PITCH_TOKEN + MIN_PITCH,
                          -1)
            lo = np.where(on >= 0, on, 999).min(1) if len(on) else np.zeros(0, np.int64)
            hi = on.max(1) if len(on) else np.zeros(0, np.int64)
            out.append(Phrases(meter, tokens, f[f"tune_{meter}"].astype(np.int64),
                               np.where(hi >= 0, lo, 0), np.maximum(hi, 0)))
    return out, info


# ---------------------------------------------------------------- structure measures


def _bar_events(tokens: np.ndarray, bar: int) -> list[list[tuple[int, int]]]:
    """Per bar, its events ``(step in the bar, token)`` (no-events left out)."""
    rows = np.asarray(tokens).reshape(-1, bar)
    return [[(int(s), int(t)) for s, t in enumerate(row) if t != NO_EVENT] for row in rows]


def _same_or_sequence(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    """Bar ``b`` repeats bar ``a`` (the same events), or sequences it: the same rhythm
    and rests, at least two notes, every note moved by a whole number of scale steps
    either way (each interval between its notes within a semitone of ``a``'s, as a
    diatonic sequence alters major and minor seconds and thirds)."""
    if a == b:
        return bool(a)
    if [s for s, _ in a] != [s for s, _ in b] or \
            [t == NOTE_OFF for _, t in a] != [t == NOTE_OFF for _, t in b]:
        return False
    pa = [t for _, t in a if t >= FIRST_PITCH_TOKEN]
    pb = [t for _, t in b if t >= FIRST_PITCH_TOKEN]
    if len(pa) < 2:
        return False
    return all(abs((x1 - x0) - (y1 - y0)) <= 1
               for x0, x1, y0, y1 in zip(pa, pa[1:], pb, pb[1:], strict=False))


def repeated_bars(tokens: np.ndarray, meter: int) -> float:
    """The share of bars after the first that repeat or sequence an earlier bar."""
    bars = _bar_events(tokens, STEPS_PER_BAR[meter])
    hits = sum(any(_same_or_sequence(bars[a], bars[b]) for a in range(b))
               for b in range(1, len(bars)))
    return hits / max(1, len(bars) - 1)


def _notes(tokens: np.ndarray) -> list[tuple[int, int, int]]:
    """``(pitch, start step, end step)`` of each note of a token row."""
    out: list[tuple[int, int, int]] = []
    pitch, start = -1, 0
    row = [int(t) for t in tokens]
    for step, tok in enumerate(row + [NOTE_OFF]):
        if tok == NO_EVENT:
            continue
        if pitch >= 0:
            out.append((pitch, start, step))
            pitch = -1
        if tok >= FIRST_PITCH_TOKEN:
            pitch, start = MIN_PITCH + tok - FIRST_PITCH_TOKEN, step
    return out


def phrase_key(tokens: np.ndarray) -> tuple[int, str]:
    """The best-correlating key (tonic pitch class, mode) of the notes' durations
    (Krumhansl-Schmuckler)."""
    hist = np.zeros(12)
    for pitch, start, end in _notes(tokens):
        hist[pitch % 12] += end - start
    best = (-2.0, 0, "major")
    if hist.sum() == 0:
        return 0, "major"
    for mode, profile in (("major", _MAJOR), ("minor", _MINOR)):
        for tonic in range(12):
            r = float(np.corrcoef(hist, np.roll(profile, tonic))[0, 1])
            if r > best[0]:
                best = (r, tonic, mode)
    return best[1], best[2]


def cadence(tokens: np.ndarray) -> str:
    """Where the phrase's last note lies in its key: ``"tonic"``, ``"dominant"`` or
    ``"other"`` (``"none"`` for a phrase without notes)."""
    notes = _notes(tokens)
    if not notes:
        return "none"
    tonic, _ = phrase_key(tokens)
    last = (notes[-1][0] - tonic) % 12
    return "tonic" if last == 0 else "dominant" if last == 7 else "other"


def pitch_range(tokens: np.ndarray) -> int:
    notes = _notes(tokens)
    return max(n[0] for n in notes) - min(n[0] for n in notes) if notes else 0


def structure_values(rows: np.ndarray | list[np.ndarray], meter: int) -> dict[str, np.ndarray]:
    """Per phrase of ``rows``: the share of repeated or sequenced bars, the pitch range,
    and where its last note lies (``cadence``)."""
    return {"repeated_bars": np.array([repeated_bars(r, meter) for r in rows], float),
            "pitch_range": np.array([pitch_range(r) for r in rows], float),
            "cadence": np.array([cadence(r) for r in rows], dtype=object)}


def summarise(values: list[dict[str, np.ndarray]]) -> dict[str, Any]:
    """The mean and the 10th..90th percentile spread of the repeated-bar share and the
    pitch range, and the share of phrases ending on the tonic or the dominant (and on
    the tonic alone), over the phrases of ``values`` (``structure_values`` outputs)."""
    repeats = np.concatenate([v["repeated_bars"] for v in values]) if values else np.zeros(0)
    ranges = np.concatenate([v["pitch_range"] for v in values]) if values else np.zeros(0)
    ends = np.concatenate([v["cadence"] for v in values]) if values else np.zeros(0, object)
    n = max(1, len(ends))
    return {
        "phrases": len(ends),
        "repeated_bars": _spread(repeats),
        "pitch_range": _spread(ranges),
        "cadence_tonic_or_dominant": float(sum(e in ("tonic", "dominant") for e in ends) / n),
        "cadence_tonic": float(sum(e == "tonic" for e in ends) / n),
    }


def structure(rows: np.ndarray | list[np.ndarray], meter: int) -> dict[str, Any]:
    """``summarise`` of one meter's phrases."""
    return summarise([structure_values(rows, meter)])


def _spread(values: np.ndarray) -> dict[str, float]:
    if not len(values):
        return {"mean": 0.0, "p10": 0.0, "p90": 0.0}
    return {"mean": float(values.mean()), "p10": float(np.percentile(values, 10)),
            "p90": float(np.percentile(values, 90))}
