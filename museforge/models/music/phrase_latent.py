"""The latent tools on whole phrases, with the 16-bar phrase model: a melody continued by
the phrase that answers its last one, varied phrase by phrase, and morphed into another
melody phrase by phrase (``tools/phrase_support.py`` puts them on pieces; the 2-bar
model's way is ``tools/music_support.py``'s).

A melody here is notes in beats from 0, in a meter the phrase model writes, a whole
number of its bars long. A stretch shorter than 16 bars is read as a phrase by looping
it (an 8-bar tune is encoded as itself played twice, its repeat) and the phrase the
model writes for it is cut to its length. Each phrase goes into the model's range by
whole octaves and comes back by the same octaves; what comes back is moved into the
key by the transposition that puts most of its notes there (none when that ties), and
its few notes still outside the key are nudged in. Seeded numpy: the same arguments
give the same notes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from museforge.models.music.base import MusicError, PhraseModel
from museforge.models.music.data import meter_index, notes_to_tokens
from museforge.models.music.phrase_composer import PHRASE_MIN_BARS
from museforge.models.music.phrase_data import repeated_bars
from museforge.models.music.piece import Note
from museforge.models.music.theory import Key

# A continuation's phrase: the best of this many, decoded (at this temperature) from
# latents this far from the last phrase's (``perturb``'s amount, the two in turn): near
# enough to answer it, far enough not to say it again.
ANSWER_CANDIDATES = 16
ANSWER_AMOUNTS = (0.3, 0.6)
ANSWER_TEMPERATURE = 0.5
# Variations and morphs decode their latents at this temperature, each with one seed for
# all its steps (so that neighbouring steps draw alike): greedy decoding of this model
# narrows a phrase (about half its pitch range, and bars said again and again).
DECODE_TEMPERATURE = 0.5
# A morph's step is the one of this many decodings of its latent (seeds shared by all
# steps) whose statistics lie nearest the step's share of the way between the two
# sources' (``STATS``): this model's decoding alone gives back a phrase's rhythm better
# than its pitches, and its steps would wander outside both sources.
MORPH_CANDIDATES = 8
# The per-phrase statistics of the card (structure and statistics columns), and the
# least difference between two sources each is scaled by.
STATS = ("repeated_bars", "pitch_range", "notes_per_bar", "rest_ratio", "mean_interval")
_STAT_FLOOR = {"repeated_bars": 0.1, "pitch_range": 2.0, "notes_per_bar": 0.5,
               "rest_ratio": 0.05, "mean_interval": 0.3}
EPS = 1e-9
__all__ = ["PHRASE_MIN_BARS", "continue_phrases", "interpolate_phrases", "vary_phrases"]


def sections_of(bars: int, phrase_bars: int = 16) -> list[int]:
    """``bars`` as stretches of at most ``phrase_bars`` bars, as equal as whole bars
    allow, the longer first (24 -> 12 + 12, 40 -> 14 + 13 + 13)."""
    if bars < 1:
        raise MusicError(f"a melody of {bars} bars has no phrases")
    n = -(-bars // phrase_bars)
    per, extra = divmod(bars, n)
    return [per + (1 if i < extra else 0) for i in range(n)]


def window(notes: Sequence[Note], start_bar: int, bars: int, bar_beats: float) -> list[Note]:
    """The notes that start in bars ``start_bar`` .. ``start_bar + bars - 1``, timed from
    the first of those bars and cut at the last one's end."""
    lo, hi = start_bar * bar_beats, (start_bar + bars) * bar_beats
    return [Note(n.pitch, n.start - lo, min(n.end, hi) - lo, n.velocity) for n in notes
            if lo - EPS <= n.start < hi - EPS]


def as_phrase(notes: Sequence[Note], bars: int, bar_beats: float, phrase_bars: int = 16, *,
              ending: bool = False) -> list[Note]:
    """A stretch of ``bars`` bars (notes from 0) as a whole phrase for the encoder: itself
    at 16 bars; shorter, looped to 16 (from its first bar, or, with ``ending``, so that
    the phrase ends where the stretch ends: an 8-bar tune twice, a 12-bar one's last 4
    bars then all 12)."""
    if bars >= phrase_bars:
        return window(notes, bars - phrase_bars, phrase_bars, bar_beats)
    copies = -(-phrase_bars // bars)
    span = bars * bar_beats
    looped = [Note(n.pitch, n.start + k * span, n.end + k * span, n.velocity)
              for k in range(copies) for n in notes]
    first = copies * bars - phrase_bars if ending else 0
    return window(looped, first, phrase_bars, bar_beats)


def into_range(notes: Sequence[Note], low: int, high: int) -> tuple[list[Note], int]:
    """The notes moved by whole octaves to centre on ``low..high`` (the few still outside
    folded in by octaves), and the shift to undo afterwards."""
    centre = (min(n.pitch for n in notes) + max(n.pitch for n in notes)) / 2
    shift = 12 * round(((low + high) / 2 - centre) / 12)
    moved = []
    for n in notes:
        pitch = n.pitch + shift
        while pitch < low:
            pitch += 12
        while pitch > high:
            pitch -= 12
        moved.append(Note(pitch, n.start, n.end, n.velocity))
    return moved, shift


def key_shift(notes: Sequence[Note], key: Key) -> int:
    """The transposition (-5..+6 semitones) that puts most of ``notes`` in ``key``; the
    smallest where several do as well (0 when nothing does better)."""
    return max(range(-5, 7), key=lambda s: (sum(key.contains(n.pitch + s) for n in notes),
                                            -abs(s), s))


def nearest_in_key(pitch: int, key: Key) -> int:
    for step in (1, -1, 2, -2):
        if key.contains(pitch + step):
            return pitch + step
    return pitch


def cadence_pitch(pitch: int, key: Key) -> int:
    """The tonic or dominant nearest ``pitch`` (the tonic on a tie)."""
    return min((p for p in range(pitch - 6, pitch + 7)
                if (p - key.pitch_class) % 12 in (0, 7)),
               key=lambda p: (abs(p - pitch), (p - key.pitch_class) % 12))


def degree(pitch: int, key: Key) -> int:
    return (pitch - key.pitch_class) % 12


def ending_name(pitch: int, key: Key) -> str:
    d = degree(pitch, key)
    return "tonic" if d == 0 else "dominant" if d == 7 else "other"


def _cut(notes: Sequence[Note], beats: float) -> list[Note]:
    return [Note(n.pitch, n.start, min(n.end, beats), n.velocity) for n in notes
            if n.start < beats - EPS]


def _moved(notes: Sequence[Note], shift: int) -> list[Note]:
    return [Note(n.pitch + shift, n.start, n.end, n.velocity) for n in notes]


def _in_key(notes: Sequence[Note], key: Key, offset: float, velocity: int | None = None,
            ) -> tuple[list[Note], int]:
    """The notes moved by ``offset`` beats with those outside ``key`` nudged in, and how
    many were nudged."""
    out, nudged = [], 0
    for n in notes:
        pitch = n.pitch
        if not key.contains(pitch):
            pitch = nearest_in_key(pitch, key)
            nudged += 1
        out.append(Note(pitch, n.start + offset, n.end + offset,
                        n.velocity if velocity is None else velocity))
    return out, nudged


def _target(phrases: PhraseModel) -> float:
    """The training phrases' mean share of repeated or sequenced bars (never the held-out
    figures): what a continuation's phrase aims at, as the composer's does."""
    return float(phrases.config.get("training", {}).get("train_structure", {}).get(
        "repeated_bars", {}).get("mean", 0.0))


def _answer_score(cut: Sequence[Note], moved: Sequence[Note], key: Key, meter_ts: tuple[int, int],
                  length: int, bar_beats: float, last: int, target: float) -> float:
    """How well a candidate answers: its notes in the key, its last note on the tonic (or
    the dominant) and near the end of its stretch, bars repeated or sequenced about as
    often as in the training phrases, and a smooth join with the note before it."""
    inside = sum(key.contains(n.pitch) for n in moved) / len(moved)
    d = degree(moved[-1].pitch, key)
    end = 0.75 if d == 0 else 0.4 if d == 7 else 0.0
    silent = max(0.0, length * bar_beats - moved[-1].end) / bar_beats  # bars after it
    tokens = notes_to_tokens(list(cut), meter_ts, length)
    repeats = abs(repeated_bars(tokens, meter_index(meter_ts)) - target)
    join = abs(moved[0].pitch - last) / 12
    return inside + end - 0.25 * max(0.0, silent - 1.0) - repeats - join


def continue_phrases(phrases: PhraseModel, melody: Sequence[Note], time_signature: tuple[int, int],
                     key: Key, bars_before: int, bars: int, seed: int, *,
                     set_cadence: bool = True) -> tuple[list[Note], dict[str, Any]]:
    """``bars`` more bars after a melody of ``bars_before`` bars (8 or more), from its
    last bar line on: each stretch of up to 16 bars is the best of ``ANSWER_CANDIDATES``
    phrases decoded near the latent of the 16 bars before it (``_answer_score``), and the
    last note of the last stretch is the tonic or the dominant (set so when the chosen
    phrase ends elsewhere, unless not ``set_cadence``; the info says which). Returns the
    new notes (on the melody's timeline) and what the recipe records."""
    if bars_before < PHRASE_MIN_BARS:
        raise MusicError(f"a melody of {bars_before} bars is too short to continue by "
                         f"phrases (at least {PHRASE_MIN_BARS})")
    if not melody:
        raise MusicError("there is no melody to continue")
    bar_beats = time_signature[0] * 4 / time_signature[1]
    low, high = _range(phrases)
    timeline = _cut(sorted(melody, key=lambda n: (n.start, n.pitch)), bars_before * bar_beats)
    if not timeline:
        raise MusicError("there is no melody to continue")
    velocity = timeline[-1].velocity
    last = timeline[-1].pitch
    target = _target(phrases)
    lengths = sections_of(bars, phrases.bars)
    added: list[Note] = []
    picked: list[int] = []
    nudged = 0
    at = bars_before
    for i, length in enumerate(lengths):
        context = as_phrase(window(timeline, 0, at, bar_beats), at, bar_beats, phrases.bars,
                            ending=True)
        if not context:  # sixteen silent bars before: answer the tune's own opening
            context = as_phrase(timeline, bars_before, bar_beats, phrases.bars)
        inside, shift = into_range(context, low, high)
        z = phrases.encode(inside, time_signature)
        zs = [phrases.perturb(z, ANSWER_AMOUNTS[k % len(ANSWER_AMOUNTS)],
                              seed=seed * 1000 + 100 * i + k) for k in range(ANSWER_CANDIDATES)]
        candidates = phrases.decode_many(zs, time_signature, temperature=ANSWER_TEMPERATURE,
                                         seed=seed * 1000 + i)
        best: tuple[float, int, list[Note]] | None = None
        for k, cand in enumerate(candidates):
            cut = _cut(cand, length * bar_beats)
            if not cut:
                continue
            back = _moved(cut, -shift)
            moved = _moved(back, key_shift(back, key))
            score = _answer_score(cut, moved, key, time_signature, length, bar_beats, last,
                                  target)
            if best is None or score > best[0]:
                best = (score, k, moved)
        offset = at * bar_beats
        if best is not None:
            section, n = _in_key(best[2], key, offset, velocity)
            picked.append(best[1])
            nudged += n
            timeline += section
            added += section
            last = section[-1].pitch
        else:
            picked.append(-1)
        at += length
    if not added:
        raise MusicError("the phrase model wrote no notes; try another seed")
    written = ending_name(added[-1].pitch, key)
    if written == "other" and set_cadence:
        tail = added[-1]
        added[-1] = Note(cadence_pitch(tail.pitch, key), tail.start, tail.end, tail.velocity)
    return added, {"sections": lengths, "picked": picked,
                   "candidates": ANSWER_CANDIDATES, "amounts": list(ANSWER_AMOUNTS),
                   "temperature": ANSWER_TEMPERATURE,
                   "ends_on": ending_name(added[-1].pitch, key),
                   "cadence_set": written == "other" and set_cadence,
                   "nudged_share": round(nudged / len(added), 4)}


def vary_phrases(phrases: PhraseModel, melody: Sequence[Note], time_signature: tuple[int, int],
                 key: Key, bars: int, amount: float, seed: int, *,
                 temperature: float = DECODE_TEMPERATURE) -> tuple[list[Note], dict[str, Any]]:
    """The melody's stretches of up to 16 bars each re-written from its phrase latent
    moved ``amount`` (0..1) toward a fresh draw (``perturb``), decoded at
    ``temperature``; a stretch with no notes stays silent."""
    bar_beats = time_signature[0] * 4 / time_signature[1]
    low, high = _range(phrases)
    lengths = sections_of(bars, phrases.bars)
    out: list[Note] = []
    nudged = 0
    at = 0
    for i, length in enumerate(lengths):
        stretch = window(melody, at, length, bar_beats)
        if stretch:
            inside, shift = into_range(as_phrase(stretch, length, bar_beats, phrases.bars),
                                       low, high)
            z = phrases.perturb(phrases.encode(inside, time_signature), amount,
                                seed=seed + i)
            cut = _cut(phrases.decode(z, time_signature, temperature=temperature,
                                      seed=seed + i), length * bar_beats)
            back = _moved(cut, -shift)
            section, n = _in_key(_moved(back, key_shift(back, key)), key, at * bar_beats)
            out += section
            nudged += n
        at += length
    return out, {"sections": lengths, "temperature": temperature,
                 "nudged_share": round(nudged / max(1, len(out)), 4)}


def interpolate_phrases(phrases: PhraseModel, a: Sequence[Note], b: Sequence[Note],
                        time_signature: tuple[int, int], key: Key, bars: int, steps: int, *,
                        temperature: float = DECODE_TEMPERATURE, seed: int = 0,
                        ) -> tuple[list[list[Note]], dict[str, Any]]:
    """``steps`` melodies between ``a`` and ``b`` (the ends left out: step ``s`` lies
    ``s / (steps + 1)`` of the way), stretch by stretch of up to 16 bars: each pair of
    stretches' phrase latents joined along the great circle (slerp), each decoded
    ``MORPH_CANDIDATES`` times at ``temperature`` (seeds from ``seed``, the same for every
    step: steps close in the latent draw alike), keeping the decoding whose statistics
    lie nearest the step's share of the way between the two stretches'; in ``a``'s
    register and ``key`` (the accompaniment is ``a``'s). A stretch silent in either
    melody is silent in every step."""
    if steps < 1:
        raise MusicError(f"interpolation takes 1 step or more, not {steps}")
    bar_beats = time_signature[0] * 4 / time_signature[1]
    low, high = _range(phrases)
    lengths = sections_of(bars, phrases.bars)
    out: list[list[Note]] = [[] for _ in range(steps)]
    nudged = total = 0
    at = 0
    for i, length in enumerate(lengths):
        sa, sb = window(a, at, length, bar_beats), window(b, at, length, bar_beats)
        if sa and sb:
            ia, shift = into_range(as_phrase(sa, length, bar_beats, phrases.bars), low, high)
            ib, _ = into_range(as_phrase(sb, length, bar_beats, phrases.bars), low, high)
            za, zb = phrases.encode(ia, time_signature), phrases.encode(ib, time_signature)
            stats_a = phrase_stats(sa, time_signature, length)
            stats_b = phrase_stats(sb, time_signature, length)
            between = phrases.interpolate(za, zb, steps + 2)[1:-1]
            for s, z in enumerate(between):
                t = (s + 1) / (steps + 1)
                aim = {k: (1 - t) * stats_a[k] + t * stats_b[k] for k in STATS}
                spread = {k: max(abs(stats_a[k] - stats_b[k]), _STAT_FLOOR[k]) for k in STATS}
                best: tuple[float, list[Note]] | None = None
                for c in range(MORPH_CANDIDATES):
                    cut = _cut(phrases.decode(z, time_signature, temperature=temperature,
                                              seed=seed + 1000 * i + c), length * bar_beats)
                    if not cut:
                        continue
                    got = phrase_stats(cut, time_signature, length)
                    miss = sum(((got[k] - aim[k]) / spread[k]) ** 2 for k in STATS)
                    if best is None or miss < best[0]:
                        best = (miss, cut)
                if best is None:
                    continue
                back = _moved(best[1], -shift)
                section, n = _in_key(_moved(back, key_shift(back, key)), key,
                                     at * bar_beats)
                out[s] += section
                nudged += n
                total += len(section)
        at += length
    return out, {"sections": lengths, "temperature": temperature, "seed": seed,
                 "candidates": MORPH_CANDIDATES, "nudged_share": round(nudged / max(1, total), 4)}


def phrase_stats(notes: Sequence[Note], time_signature: tuple[int, int], bars: int,
                 ) -> dict[str, float]:
    """A stretch's ``STATS`` (its notes folded into C3..C6 by octaves)."""
    from museforge.models.music.data import MAX_PITCH, MIN_PITCH, window_stats
    from museforge.models.music.phrase_data import pitch_range

    if not notes:
        return dict.fromkeys(STATS, 0.0)
    tokens = notes_to_tokens(into_range(notes, MIN_PITCH, MAX_PITCH)[0], time_signature, bars)
    w = window_stats([tokens], bars=bars)
    return {"repeated_bars": repeated_bars(tokens, meter_index(time_signature)),
            "pitch_range": float(pitch_range(tokens)), "notes_per_bar": w["notes_per_bar"],
            "rest_ratio": w["rest_ratio"], "mean_interval": w["mean_interval"]}


def _range(phrases: PhraseModel) -> tuple[int, int]:
    low, high = phrases.pitch_range
    return int(low), int(high)


def whole_bars(beats: float, bar_beats: float) -> int | None:
    """``beats`` as a whole number of bars of ``bar_beats``, or None."""
    bars = beats / bar_beats
    return int(round(bars)) if math.isclose(bars, round(bars), abs_tol=1e-6) else None
