"""The corpus re-barred for 16-bar phrases: every tune's melody as one continuous stream
of sixteenth steps, cut into bars from its first full bar line, so that a pickup and the
split bars at repeats no longer break a tune into pieces of 7 or 15 bars.

The 2-bar model's cache (``data.build_cache``) keeps only the complete bars as printed:
right for 2-bar windows, but an O'Neill jig with a pickup then holds two runs of seven
bars, never a 16-bar phrase. Here the bars are counted on the timeline instead: the part
of a bar before a repeat sign and the pickup after it add up to one bar, as they sound.
Where the stream stops lining up with the bar lines (a first ending cut short, a change
of meter), the bars start again from the next printed complete bar.

Written to a cache of the same layout as the 2-bar one (so ``phrase_data`` reads both),
with each tune's name: the held-out split is the 2-bar model's, looked up by name."""

from __future__ import annotations

import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np

from museforge.models.music.data import (
    SOURCES,
    _melody_part,
    corpus_tunes,
    default_cache_path,
    ensure_cache,
    heldout_tunes,
    print_progress,
)

PHRASE_CACHE_VERSION = 1
PHRASE_CACHE_NAME = f"music21-phrases-v{PHRASE_CACHE_VERSION}.npz"

Bar = tuple[tuple[int, int], np.ndarray, np.ndarray, bool]  # ts, pitch, onset, follows


def _timeline_bars(part: object) -> tuple[list[Bar], int]:
    """The bars of ``part`` counted on its timeline, and how many notes were rounded onto
    the sixteenth grid. A bar where two onsets round onto one sixteenth is left out (the
    next bar then does not follow)."""
    from music21 import chord, note, stream

    events: list[tuple[Fraction, Fraction, int, bool]] = []  # start, end, pitch (0 rest), tie
    segments: list[tuple[Fraction, Fraction, tuple[int, int]]] = []  # start, end, ts
    ts: tuple[int, int] | None = None
    origin: Fraction | None = None
    seg_ts: tuple[int, int] | None = None
    quantized = 0
    last_end = Fraction(0)
    for m in part.getElementsByClass(stream.Measure):  # type: ignore[attr-defined]
        if m.timeSignature is not None:
            ts = (m.timeSignature.numerator, m.timeSignature.denominator)
        if ts is None:
            continue
        offset = Fraction(m.offset).limit_denominator(96)
        bar_len = Fraction(m.barDuration.quarterLength).limit_denominator(96)
        length = Fraction(m.duration.quarterLength).limit_denominator(96)
        complete = length == bar_len and not m.paddingLeft and not bar_len * 4 % 1
        aligned = origin is not None and seg_ts == ts and (offset - origin) % bar_len == 0
        if complete and not aligned:  # (re)start the bar lines here
            if origin is not None and seg_ts is not None:
                segments.append((origin, offset, seg_ts))
            origin, seg_ts = offset, ts
        elif not complete and origin is not None and seg_ts != ts:
            segments.append((origin, offset, seg_ts))  # type: ignore[arg-type]
            origin, seg_ts = None, None
        voices = list(m.voices)
        source = voices[0] if voices else m
        for e in source.flatten().notesAndRests:
            if e.duration.isGrace:
                continue
            start = offset + Fraction(e.offset).limit_denominator(96)
            end = start + Fraction(e.duration.quarterLength).limit_denominator(96)
            if start * 4 % 1 or end * 4 % 1:
                quantized += 1
            if isinstance(e, note.Rest):
                events.append((start, end, 0, False))
            else:
                p = e.pitches[-1].midi if isinstance(e, chord.Chord) else e.pitch.midi
                tied = e.tie is not None and e.tie.type in ("stop", "continue")
                events.append((start, end, int(p), tied))
        last_end = offset + length
    if origin is not None and seg_ts is not None:
        segments.append((origin, last_end, seg_ts))
    bars: list[Bar] = []
    for begin, finish, sig in segments:
        steps_per_bar = sig[0] * 16 // sig[1]
        span = int((finish - begin) * 4)
        n_bars = span // steps_per_bar
        if finish == last_end and span % steps_per_bar:
            # a tune's last bar, shortened by its pickup: its last note or rest is held
            # to the bar line, as it is held in the ear
            n_bars += 1
        if n_bars <= 0:
            continue
        total = n_bars * steps_per_bar
        pitch = np.zeros(total, np.int16)
        onset = np.zeros(total, bool)
        owner_start = np.full(total, -1)
        bad = np.zeros(n_bars, bool)
        for start, end, p, tied in events:
            s, t = int(round((start - begin) * 4)), min(total, int(round((end - begin) * 4)))
            if s < 0 or s >= total:
                continue  # before this run's first bar line (a pickup), or after its last
            if t <= s:
                if p:
                    bad[s // steps_per_bar] = True  # a sounding note rounded away
                continue
            if p and owner_start[s] == s:
                bad[s // steps_per_bar] = True  # two onsets on one sixteenth
            held = tied and s > 0 and pitch[s - 1] == p
            pitch[s:t] = p
            onset[s:t] = False
            onset[s] = bool(p) and not held
            owner_start[s:t] = s
        if 0 < span < total:
            pitch[span:] = pitch[span - 1]
        follows = False
        for b in range(n_bars):
            if bad[b]:
                follows = False
                continue
            sl = slice(b * steps_per_bar, (b + 1) * steps_per_bar)
            bars.append((sig, pitch[sl].astype(np.int8), onset[sl].copy(), follows))
            follows = True
    return bars, quantized


def build_phrase_cache(path: Path, *, limit: int | None = None,
                       progress: Callable[[int, int, str], None] | None = None) -> Path:
    """Parse the corpus (the 2-bar cache's tunes, in its order) into re-barred bars."""
    import logging
    import warnings

    logging.getLogger("music21").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    tunes = corpus_tunes()
    if limit is not None:
        per: dict[str, int] = {}
        chosen = []
        for t in tunes:
            per[t.source] = per.get(t.source, 0) + 1
            if per[t.source] <= limit:
                chosen.append(t)
        tunes = chosen
    tune_source: list[int] = []
    tune_name: list[str] = []
    rows: list[tuple[int, int, int, int, int, int]] = []
    pitches: list[np.ndarray] = []
    onsets: list[np.ndarray] = []
    failed, quantized, step = 0, 0, 0
    started = time.monotonic()
    for i, tune in enumerate(tunes):
        if progress is not None:
            progress(i, len(tunes), tune.name)
        try:
            bars, q = _timeline_bars(_melody_part(tune.load()))
        except Exception:  # noqa: BLE001 - a tune music21 cannot read is skipped, counted
            failed += 1
            continue
        idx = len(tune_name)
        tune_source.append(SOURCES.index(tune.source))
        tune_name.append(tune.name)
        quantized += q
        for ts, pitch, onset, follows in bars:
            rows.append((idx, step, len(pitch), ts[0], ts[1], int(follows)))
            pitches.append(pitch)
            onsets.append(onset)
            step += len(pitch)
    if progress is not None:
        progress(len(tunes), len(tunes), "done")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        version=np.array(PHRASE_CACHE_VERSION),
        tune_source=np.array(tune_source, np.int8),
        tune_name=np.array(tune_name),
        bars=np.array(rows, np.int64).reshape(-1, 6),
        pitch=np.concatenate(pitches) if pitches else np.zeros(0, np.int8),
        onset=np.concatenate(onsets) if onsets else np.zeros(0, bool),
        stats=np.array([len(tunes), failed, quantized, int(time.monotonic() - started)]),
        limit=np.array(-1 if limit is None else limit),
    )
    tmp.replace(path)
    return path


def default_phrase_cache_path() -> Path:
    return default_cache_path().with_name(PHRASE_CACHE_NAME)


def ensure_phrase_cache(path: Path | None = None, *, progress: Callable[[int, int, str], None]
                        | None = None) -> Path:
    path = path or default_phrase_cache_path()
    if path.exists():
        with np.load(path) as f:
            if int(f["version"]) == PHRASE_CACHE_VERSION:
                return path
    return build_phrase_cache(path, progress=progress or print_progress)


def phrase_heldout(phrase_cache: Path, melody_cache: Path | None = None,
                   share: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """``(held, known)`` per tune of ``phrase_cache``: held out by the 2-bar model's split
    (``data.heldout_tunes`` on its cache, matched by tune name), and whether the 2-bar
    cache has the tune at all (one that only this parse could read is used for neither
    side, so no held-out tune of the 2-bar model can reach training here)."""
    melody_cache = ensure_cache(melody_cache)
    held_melody = heldout_tunes(melody_cache, share)
    with np.load(melody_cache) as f:
        index = {str(name): i for i, name in enumerate(f["tune_name"])}
    with np.load(phrase_cache) as f:
        names = [str(n) for n in f["tune_name"]]
    known = np.array([n in index for n in names], bool)
    held = np.array([held_melody[index[n]] if n in index else False for n in names], bool)
    return held, known
