"""The melody data: monophonic tunes from the corpus inside the music21 package, parsed
once into a cached array file, cut into bar-aligned 2-bar windows and encoded the
MusicVAE way (one token per sixteenth step: no-event, note-off, note-on per pitch).

The parse is slow (music21 builds a full score per tune), so ``build_cache`` writes every
complete bar of every tune, on the sixteenth grid, to one ``.npz``; windows, splits and
transpositions are cheap numpy work on that file. music21 is imported only inside
``build_cache``."""

from __future__ import annotations

import re
import sys
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from museforge.models.music.base import MusicError, meter_family
from museforge.models.music.piece import Note

# Bump when what build_cache writes changes: an old cache is then re-parsed, not misread.
CACHE_VERSION = 1
CACHE_NAME = f"music21-melodies-v{CACHE_VERSION}.npz"

STEPS_PER_BEAT = 4  # sixteenth notes per quarter
# MusicVAE's melody tokens: 0 = no event (hold the note or the rest), 1 = note-off
# (a rest starts), 2 + (pitch - MIN_PITCH) = note-on. C3..C6 holds 99.8 % of the corpus's
# notes after octave-free transposition (see MODEL_CARD.md).
NO_EVENT, NOTE_OFF, FIRST_PITCH_TOKEN = 0, 1, 2
MIN_PITCH, MAX_PITCH = 48, 84
VOCAB = FIRST_PITCH_TOKEN + MAX_PITCH - MIN_PITCH + 1

# The meters the model is trained on, and the only ones it accepts. C (4/4) and
# C| (2/2) share 4/4's grid: 16 steps a bar, beats every 4 steps.
METERS: dict[tuple[int, int], int] = {(4, 4): 0, (2, 2): 0, (2, 4): 1, (3, 4): 2, (6, 8): 3}
METER_NAMES = ("4/4", "2/4", "3/4", "6/8")
METER_LABELS = ("4/4 (C, 2/2, C|)", "2/4", "3/4", "6/8")
N_METERS = len(METER_NAMES)
STEPS_PER_BAR = (16, 8, 12, 12)
BEAT_STEPS = (4, 4, 4, 6)  # 6/8 counts in dotted quarters
N_POSITION_FEATURES = 6

SOURCES = ("essen", "oneill", "ryan", "bach")


def meter_index(time_signature: tuple[int, int]) -> int:
    """The model's meter id for a time signature, or a MusicError naming the ones it knows."""
    ts = (int(time_signature[0]), int(time_signature[1]))
    if ts not in METERS:
        raise MusicError(
            f"the melody model knows the meters 4/4 (C), 2/2 (C|), 2/4, 3/4 and 6/8, "
            f"not {ts[0]}/{ts[1]} ({meter_family(ts)} family)")
    return METERS[ts]


def window_steps(time_signature: tuple[int, int]) -> int:
    return 2 * STEPS_PER_BAR[meter_index(time_signature)]


def position_features(meter: int) -> np.ndarray:
    """Per-step metrical features of a 2-bar window, ``[steps, N_POSITION_FEATURES]``:
    bar start, beat start, eighth start, second bar, and the phase within the bar. They
    tell the LSTMs where the beats of this meter fall (the same for every window)."""
    bar, beat = STEPS_PER_BAR[meter], BEAT_STEPS[meter]
    steps = np.arange(2 * bar)
    pos = steps % bar
    phase = 2 * np.pi * pos / bar
    return np.stack([
        pos == 0, pos % beat == 0, pos % 2 == 0, steps >= bar,
        np.sin(phase), np.cos(phase),
    ], axis=1).astype(np.float32)


# ---------------------------------------------------------------- tokens <-> notes


def notes_to_tokens(notes: list[Note] | tuple[Note, ...], time_signature: tuple[int, int],
                    bars: int = 2) -> np.ndarray:
    """The token row of a 2-bar melody (or one of ``bars`` bars). Onsets and ends are
    rounded to the sixteenth grid (the model's resolution); a note that starts while
    another sounds ends that one (the melody is read as monophonic). Pitches outside
    C3..C6 or notes past the bars are refused: the caller transposes or cuts, knowingly."""
    steps = bars * STEPS_PER_BAR[meter_index(time_signature)]
    tokens = np.zeros(steps, dtype=np.int64)
    tokens[0] = NOTE_OFF
    ordered = sorted(notes, key=lambda n: (n.start, n.pitch))
    end_beat = steps / STEPS_PER_BEAT
    for n in ordered:
        if not MIN_PITCH <= n.pitch <= MAX_PITCH:
            raise MusicError(f"pitch {n.pitch} is outside the melody model's range "
                             f"{MIN_PITCH}..{MAX_PITCH} (C3..C6); transpose it first")
        if n.start < -1e-6 or n.end > end_beat + 0.125:
            raise MusicError(f"a note at beats {n.start:g}..{n.end:g} lies outside the "
                             f"{bars}-bar window (0..{end_beat:g} beats in "
                             f"{time_signature[0]}/{time_signature[1]})")
    starts = [min(steps - 1, round(n.start * STEPS_PER_BEAT)) for n in ordered]
    for i, n in enumerate(ordered):
        s = starts[i]
        if i + 1 < len(ordered) and starts[i + 1] == s:
            continue  # two onsets on one sixteenth: the higher note wins (the top line)
        e = max(s + 1, min(steps, round(n.end * STEPS_PER_BEAT)))
        if i + 1 < len(ordered):
            e = min(e, starts[i + 1])
        tokens[s] = FIRST_PITCH_TOKEN + n.pitch - MIN_PITCH
        tokens[s + 1:e] = NO_EVENT
        if e < steps:
            tokens[e] = NOTE_OFF
    return tokens


def tokens_to_notes(tokens: np.ndarray | list[int], velocity: int = 80) -> list[Note]:
    """Notes (beats from 0) of a token row."""
    notes: list[Note] = []
    pitch, start = -1, 0
    row = [int(t) for t in tokens]
    for step, tok in enumerate(row + [NOTE_OFF]):
        if tok == NO_EVENT:
            continue
        if pitch >= 0:
            notes.append(Note(pitch, start / STEPS_PER_BEAT, step / STEPS_PER_BEAT, velocity))
            pitch = -1
        if tok >= FIRST_PITCH_TOKEN:
            pitch, start = MIN_PITCH + tok - FIRST_PITCH_TOKEN, step
    return notes


# ---------------------------------------------------------------- the parse (music21)


@dataclass(frozen=True)
class TuneSource:
    source: str  # one of SOURCES
    name: str  # file (and X: number) inside the corpus
    load: Callable[[], object]  # returns a music21 stream


def corpus_dir() -> Path:
    import music21

    return Path(music21.__file__).parent / "corpus"


def _abc_tunes(path: Path, source: str, root: Path) -> Iterator[TuneSource]:
    text = path.read_text(encoding="latin-1")
    blocks = [b for b in re.split(r"(?m)^(?=X:)", text) if b.startswith("X:")]
    for block in blocks:
        number = block[2:].split("\n", 1)[0].strip()
        title = re.search(r"(?m)^T:(.*)$", block)
        label = f"{path.relative_to(root)}#{number}"
        if title and title.group(1).strip():
            label += f" {title.group(1).strip()}"

        def load(block: str = block) -> object:
            from music21 import converter

            return converter.parse(block, format="abc")

        yield TuneSource(source, label, load)


def corpus_tunes() -> list[TuneSource]:
    """Every tune the cache is built from, in a fixed order: Essen (without its test
    files), O'Neill's 1850, Ryan's Mammoth, then the Bach chorales (soprano lines)."""
    root = corpus_dir()
    tunes: list[TuneSource] = []
    for path in sorted((root / "essenFolksong").glob("*.abc")):
        if not path.stem.startswith("test"):
            tunes.extend(_abc_tunes(path, "essen", root))
    for path in sorted((root / "oneills1850").glob("*.abc")):
        tunes.extend(_abc_tunes(path, "oneill", root))
    for path in sorted((root / "ryansMammoth").glob("*.abc")):
        tunes.extend(_abc_tunes(path, "ryan", root))
    for path in sorted((root / "bach").glob("bwv*.mxl")):
        def load(path: Path = path) -> object:
            from music21 import converter

            return converter.parse(path)

        tunes.append(TuneSource("bach", str(path.relative_to(root)), load))
    return tunes


def _melody_part(score: object) -> object:
    from music21 import stream

    parts = list(score.getElementsByClass(stream.Part))  # type: ignore[attr-defined]
    if not parts:
        return score
    return parts[0]  # ABC: the only part; chorales: the soprano


def _bars(part: object) -> list[tuple[tuple[int, int], Fraction, np.ndarray, np.ndarray, int]]:
    """``(time signature, offset, pitch per step, onset per step, quantized notes)`` for
    every complete bar with a known meter on the sixteenth grid (the pickup, the split
    bars at repeats and bars where two onsets round onto one sixteenth are left out)."""
    from music21 import chord, note, stream

    bars = []
    ts = None
    prev_pitch = 0
    for m in part.getElementsByClass(stream.Measure):  # type: ignore[attr-defined]
        if m.timeSignature is not None:
            ts = (m.timeSignature.numerator, m.timeSignature.denominator)
        bar_len = Fraction(m.barDuration.quarterLength).limit_denominator(96)
        length = Fraction(m.duration.quarterLength).limit_denominator(96)
        if ts is None or length != bar_len or m.paddingLeft or bar_len * 4 % 1:
            prev_pitch = 0
            continue
        n_steps = int(bar_len * 4)
        pitch = np.zeros(n_steps, np.int8)
        onset = np.zeros(n_steps, bool)
        owner = np.full(n_steps, -1)
        ok, quantized = True, 0
        voices = list(m.voices)
        source = voices[0] if voices else m
        events = [e for e in source.flatten().notesAndRests if not e.duration.isGrace]
        for i, e in enumerate(events):
            off = Fraction(e.offset).limit_denominator(96)
            dur = Fraction(e.duration.quarterLength).limit_denominator(96)
            s, t = round(off * 4), round((off + dur) * 4)
            if off * 4 % 1 or dur * 4 % 1:
                quantized += 1
            s, t = max(0, min(s, n_steps)), max(0, min(t, n_steps))
            if t <= s:
                if isinstance(e, note.Rest):
                    continue
                ok = False  # a sounding note rounded away: this bar cannot be kept
                break
            if (owner[s:t] >= 0).any() and isinstance(e, note.NotRest):
                if owner[s] >= 0:
                    ok = False
                    break
            if isinstance(e, note.Rest):
                pitch[s:t], onset[s:t] = 0, False
                owner[s:t] = i
                continue
            p = e.pitches[-1].midi if isinstance(e, chord.Chord) else e.pitch.midi
            tied = e.tie is not None and e.tie.type in ("stop", "continue")
            held = tied and ((s == 0 and prev_pitch == p) or (s > 0 and pitch[s - 1] == p))
            pitch[s:t] = p
            onset[s:t] = False
            onset[s] = not held
            owner[s:t] = i
        if not ok:
            prev_pitch = 0
            continue
        prev_pitch = int(pitch[-1])
        bars.append((ts, Fraction(m.offset).limit_denominator(96), pitch, onset, quantized))
    return bars


def build_cache(path: Path, *, limit: int | None = None,
                progress: Callable[[int, int, str], None] | None = None) -> Path:
    """Parse the corpus once and write every usable bar to ``path`` (an ``.npz``).

    Per tune: its source and name; per bar: tune, first step, steps, time signature and
    whether it follows the previous kept bar directly; per step: MIDI pitch (0 = rest)
    and onset. ``limit`` parses only the first tunes of each source (for tests)."""
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
    bar_rows: list[tuple[int, int, int, int, int, int]] = []
    pitches: list[np.ndarray] = []
    onsets: list[np.ndarray] = []
    failed, quantized, step = 0, 0, 0
    started = time.monotonic()
    for i, tune in enumerate(tunes):
        if progress is not None:
            progress(i, len(tunes), tune.name)
        try:
            bars = _bars(_melody_part(tune.load()))
        except Exception:  # noqa: BLE001 - a tune music21 cannot read is skipped, counted
            failed += 1
            continue
        idx = len(tune_name)
        tune_source.append(SOURCES.index(tune.source))
        tune_name.append(tune.name)
        prev_end: Fraction | None = None
        for ts, offset, pitch, onset, q in bars:
            follows = int(prev_end is not None and offset == prev_end)
            bar_rows.append((idx, step, len(pitch), ts[0], ts[1], follows))
            pitches.append(pitch)
            onsets.append(onset)
            step += len(pitch)
            quantized += q
            prev_end = offset + Fraction(len(pitch), 4)
    if progress is not None:
        progress(len(tunes), len(tunes), "done")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez_compressed(
        tmp,
        version=np.array(CACHE_VERSION),
        tune_source=np.array(tune_source, np.int8),
        tune_name=np.array(tune_name),
        bars=np.array(bar_rows, np.int64).reshape(-1, 6),
        pitch=np.concatenate(pitches) if pitches else np.zeros(0, np.int8),
        onset=np.concatenate(onsets) if onsets else np.zeros(0, bool),
        stats=np.array([len(tunes), failed, quantized, int(time.monotonic() - started)]),
        limit=np.array(-1 if limit is None else limit),
    )
    tmp.replace(path)
    return path


def default_cache_path() -> Path:
    from museforge.config import Settings

    return Settings().home / "cache" / CACHE_NAME


def ensure_cache(path: Path | None = None, *, progress: Callable[[int, int, str], None]
                 | None = None) -> Path:
    """The cache file, parsing the corpus first if it is missing or from an older version."""
    path = path or default_cache_path()
    if path.exists():
        with np.load(path) as f:
            if int(f["version"]) == CACHE_VERSION:
                return path
    return build_cache(path, progress=progress or print_progress)


def print_progress(done: int, total: int, what: str) -> None:
    if done % 100 == 0 or done == total:
        sys.stderr.write(f"\rparsing the music21 corpus: {done}/{total} tunes  {what[:40]:40}")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()


# ---------------------------------------------------------------- windows and splits


@dataclass
class Windows:
    """Encoded 2-bar windows of one meter: model tokens ``[n, steps]``, the tune of each,
    and each window's lowest and highest MIDI pitch (0 and 0 when it is all rest)."""

    meter: int
    tokens: np.ndarray
    tune: np.ndarray
    lowest: np.ndarray
    highest: np.ndarray

    def __len__(self) -> int:
        return len(self.tokens)

    def take(self, rows: np.ndarray) -> Windows:
        return Windows(self.meter, self.tokens[rows], self.tune[rows], self.lowest[rows],
                       self.highest[rows])


def heldout_tunes(path: Path, share: float) -> np.ndarray:
    """Which tunes are held out (a bool per tune). The key is a fingerprint of the tune's
    opening (the intervals and rhythm of its first 12 notes), hashed: the same tune
    printed twice (O'Neill and Ryan share many; chorale melodies recur in several
    harmonisations, in other keys) lands on one side, and the split does not depend on
    which tunes were parsed or in what order."""
    with np.load(path) as f:
        bars, pitch, onset = f["bars"], f["pitch"], f["onset"]
        n_tunes = len(f["tune_name"])
    held = np.zeros(n_tunes, bool)
    first: dict[int, list[np.ndarray]] = {}
    for row in bars:
        first.setdefault(int(row[0]), []).append(row)
    for tune, rows in first.items():
        notes: list[tuple[int, int]] = []
        for row in rows:
            p = pitch[row[1]:row[1] + row[2]]
            o = onset[row[1]:row[1] + row[2]]
            for s in np.flatnonzero(o & (p > 0)):
                notes.append((int(p[s]), int(row[1] + s)))
            if len(notes) >= 13:
                break
        notes = notes[:13]
        key = ",".join(f"{b[0] - a[0]}:{b[1] - a[1]}" for a, b in zip(notes, notes[1:],
                                                                      strict=False))
        held[tune] = zlib.crc32(key.encode()) % 10_000 < share * 10_000
    return held


def windows_from_cache(path: Path) -> list[Windows]:
    """Every bar-aligned 2-bar window of two directly following complete bars of one
    meter (a hop of one bar), per meter. A note held into the window is re-struck at its
    first step. Windows are moved by octaves into C3..C6 where they stick out; those
    spanning more than that, and all-rest ones, are left out."""
    with np.load(path) as f:
        bars, pitch, onset = f["bars"], f["pitch"], f["onset"]
    out = []
    for meter in range(N_METERS):
        sigs = [ts for ts, m in METERS.items() if m == meter]
        bar = STEPS_PER_BAR[meter]
        a, b = bars[:-1], bars[1:]
        same_ts = np.zeros(len(a), bool)
        for num, den in sigs:
            same_ts |= (a[:, 3] == num) & (a[:, 4] == den)
        ok = same_ts & (b[:, 3] == a[:, 3]) & (b[:, 4] == a[:, 4]) & (b[:, 5] == 1) \
            & (a[:, 0] == b[:, 0]) & (a[:, 2] == bar)
        rows = a[ok]
        idx = rows[:, 1:2] + np.arange(2 * bar)
        p = pitch[idx].astype(np.int64)
        o = onset[idx].copy()
        o[:, 0] = p[:, 0] > 0
        sounding = p > 0
        lo = np.where(sounding, p, 999).min(1)
        hi = p.max(1)
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
        out.append(Windows(meter, tokens.astype(np.int8), rows[keep, 0], lo, hi))
    return out


def transpose_tokens(tokens: np.ndarray, semitones: np.ndarray) -> np.ndarray:
    """Model tokens moved by ``semitones`` (one shift per row)."""
    tokens = tokens.astype(np.int64)
    return np.where(tokens >= FIRST_PITCH_TOKEN, tokens + semitones[:, None], tokens)


def window_stats(tokens: Sequence[np.ndarray] | np.ndarray, bars: int = 2,
                 ) -> dict[str, float]:
    """Means over windows of: the share of notes in the best-fitting major/minor key
    (the diatonic collection holding most of the window's notes), the pitch range
    (semitones), notes per bar, the share of steps that are rest, and the mean absolute
    interval between consecutive notes (semitones)."""
    diatonic = np.array([[(pc - root) % 12 in (0, 2, 4, 5, 7, 9, 11) for pc in range(12)]
                         for root in range(12)])
    key_share, span, density, rests, intervals = [], [], [], [], []
    for row in tokens:
        notes = tokens_to_notes(row)
        steps = len(row)
        density.append(len(notes) / bars)
        sounding = sum(round((n.end - n.start) * STEPS_PER_BEAT) for n in notes)
        rests.append(1 - sounding / steps)
        if not notes:
            continue
        pitches = np.array([n.pitch for n in notes])
        counts = np.bincount(pitches % 12, minlength=12)
        key_share.append((diatonic @ counts).max() / len(pitches))
        span.append(int(pitches.max() - pitches.min()))
        intervals.extend(np.abs(np.diff(pitches)).tolist())
    return {
        "key_share": float(np.mean(key_share)) if key_share else 0.0,
        "pitch_range": float(np.mean(span)) if span else 0.0,
        "notes_per_bar": float(np.mean(density)),
        "rest_ratio": float(np.mean(rests)),
        "mean_interval": float(np.mean(intervals)) if intervals else 0.0,
    }
