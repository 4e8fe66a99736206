"""Deterministic edits of a Piece: each function returns a new piece and leaves its input
alone; the same arguments always give the same notes (``humanize`` through its seed).

Arguments out of range are refused with a MusicError saying the range; so are results
MIDI cannot hold (a pitch pushed past 0..127). Drums are percussion keys, not pitches: the
pitch edits (transpose, key, mode) leave them where they are.
"""

from __future__ import annotations

import math
import random
from dataclasses import replace

from museforge.models.music.base import MusicError
from museforge.models.music.piece import Note, Part, Piece
from museforge.models.music.theory import (
    Key,
    instrument_program,
    mode_map,
    parse_key,
    parse_mode,
    program_name,
    spell_key,
    transpose_key,
)

TEMPO_RANGE = (20.0, 300.0)  # bpm
TEMPO_SCALE_RANGE = (0.25, 4.0)
TRANSPOSE_RANGE = (-24, 24)  # semitones
BARS_RANGE = (1, 256)
HUMANIZE_RANGE = (0.0, 1.0)
QUANTIZE_RANGE = (1 / 32, 4.0)  # grid in beats: a 128th note .. a whole note

# At humanize amount 1: onsets move up to this many beats (about 25 ms at 120 bpm) and
# velocities up to this much, either way.
_HUMANIZE_BEATS = 0.05
_HUMANIZE_VELOCITY = 14


def _check_range(name: str, value: float, bounds: tuple[float, float], unit: str = "") -> None:
    low, high = bounds
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) \
            or not low <= value <= high:
        suffix = f" {unit}" if unit else ""
        raise MusicError(f"{name} must be between {low:g} and {high:g}{suffix}, not {value}")


def _with_parts(piece: Piece, parts: list[Part], **changes: object) -> Piece:
    return replace(piece, parts=parts, **changes)  # type: ignore[arg-type]


def _shift_pitched(piece: Piece, move: dict[int, int] | int, what: str) -> list[Part]:
    """Parts with every pitched note moved (by a fixed interval, or through a pitch map);
    refuse when a note would leave MIDI's 0..127."""
    parts = []
    high = low = 0
    for part in piece.parts:
        if part.is_drum:
            parts.append(part.copy())
            continue
        notes = []
        for note in part.notes:
            pitch = note.pitch + move if isinstance(move, int) else move[note.pitch]
            high += pitch > 127
            low += pitch < 0
            notes.append(replace(note, pitch=pitch))
        parts.append(replace(part, notes=notes))
    if high or low:
        where = (f"{high} note{'s' if high != 1 else ''} above the top MIDI note (G9)" if high
                 else f"{low} note{'s' if low != 1 else ''} below the lowest MIDI note (C-1)")
        raise MusicError(f"{what} would push {where}; try a smaller interval or the "
                         "other direction")
    return parts


def transpose(piece: Piece, semitones: int) -> Piece:
    """Every pitched note up (or down) by ``semitones`` (-24..24); the key follows."""
    if not isinstance(semitones, int) or isinstance(semitones, bool):
        raise MusicError(f"transpose takes a whole number of semitones, not {semitones}")
    _check_range("transpose", semitones, TRANSPOSE_RANGE, "semitones")
    parts = _shift_pitched(piece, semitones, f"transposing by {semitones:+d}")
    return _with_parts(piece, parts, key=str(transpose_key(piece.key, semitones)))


def change_mode(piece: Piece, mode: str) -> Piece:
    """Every pitched note moved to the same scale degree of ``mode`` on the same tonic
    (C major -> C minor turns E into Eb, A into Ab, B into Bb); not a transposition."""
    target = parse_mode(mode)
    key = parse_key(piece.key)
    if target == key.mode:
        return piece.copy()
    pitches = {n.pitch for p in piece.parts if not p.is_drum for n in p.notes}
    mapping = {pitch: mode_map(pitch, key, target) for pitch in pitches}
    parts = _shift_pitched(piece, mapping, f"changing to {target}")
    new_key = spell_key(key.pitch_class, target)
    return _with_parts(piece, parts, key=str(new_key))


def change_key(piece: Piece, key: str | Key) -> Piece:
    """Move the piece to ``key``: transpose to the new tonic by the smallest interval
    (a tritone goes toward middle C), then change mode if the new key's mode differs."""
    target = parse_key(key)
    current = parse_key(piece.key)
    interval = (target.pitch_class - current.pitch_class) % 12
    if interval > 6:
        interval -= 12
    elif interval == 6:
        pitches = [n.pitch for p in piece.parts if not p.is_drum for n in p.notes]
        if pitches and sum(pitches) / len(pitches) > 60:
            interval = -6
    moved = _with_parts(piece, _shift_pitched(piece, interval, f"moving to {target}"),
                        key=str(Key(target.tonic, current.mode)))
    if target.mode != current.mode:
        moved = change_mode(moved, target.mode)
    return _with_parts(moved, moved.parts, key=str(target))


def set_tempo(piece: Piece, bpm: float) -> Piece:
    """The same beats at ``bpm`` quarter notes per minute (20..300)."""
    _check_range("tempo", bpm, TEMPO_RANGE, "bpm")
    return piece.copy(tempo=float(bpm))


def scale_tempo(piece: Piece, factor: float) -> Piece:
    """Play ``factor`` times as fast (0.25..4): 2 doubles the tempo and halves the time."""
    _check_range("tempo_scale", factor, TEMPO_SCALE_RANGE)
    bpm = round(piece.tempo * factor, 3)
    if not TEMPO_RANGE[0] <= bpm <= TEMPO_RANGE[1]:
        raise MusicError(f"scaling {piece.tempo:g} bpm by {factor:g} gives {bpm:g} bpm, "
                         f"outside {TEMPO_RANGE[0]:g}..{TEMPO_RANGE[1]:g} bpm")
    return piece.copy(tempo=bpm)


def set_instrument(piece: Piece, program: int | str, part: str = "melody") -> Piece:
    """Play ``part`` (``"melody"`` by default, or ``"all"`` pitched parts) on a General
    MIDI program, given as a number 0..127 or a name (``"violin"``, ``"Pad 2 (warm)"``)."""
    number = instrument_program(program)
    names = [p.name for p in piece.parts]
    if part == "all":
        chosen = [p.name for p in piece.parts if not p.is_drum]
    elif part in names:
        chosen = [part]
    else:
        raise MusicError(f'there is no part named "{part}"; the parts are: {", ".join(names)}')
    if not chosen:
        raise MusicError("the piece has no pitched parts to give an instrument")
    if any(p.is_drum for p in piece.parts if p.name in chosen):
        raise MusicError(f'the "{part}" part plays percussion, which has no GM program; '
                         f"pick a pitched part ({program_name(number)} needs pitches)")
    return _with_parts(piece, [p.copy(program=number) if p.name in chosen else p.copy()
                               for p in piece.parts])


def fit_bars(piece: Piece, bars: int) -> Piece:
    """Exactly ``bars`` bars (1..256): longer pieces are cut (notes that cross the end are
    shortened), shorter ones loop their whole bars from the start."""
    if not isinstance(bars, int) or isinstance(bars, bool):
        raise MusicError(f"bars must be a whole number, not {bars}")
    _check_range("bars", bars, BARS_RANGE)
    if not any(p.notes for p in piece.parts):
        raise MusicError("the piece has no notes to fit into bars")
    length = piece.bars * piece.beats_per_bar
    target = bars * piece.beats_per_bar
    copies = math.ceil(target / length - 1e-9)
    parts = []
    for part in piece.parts:
        notes = []
        for k in range(copies):
            offset = k * length
            for note in part.notes:
                start = note.start + offset
                if start >= target - 1e-9:
                    continue
                notes.append(Note(note.pitch, round(start, 6),
                                  round(min(note.end + offset, target), 6), note.velocity))
        parts.append(replace(part, notes=notes))
    return _with_parts(piece, parts)


def quantize(piece: Piece, grid: float = 0.25) -> Piece:
    """Snap every onset and end to the nearest multiple of ``grid`` beats (0.25 = a
    sixteenth note); a note never shrinks below one grid step."""
    _check_range("quantize grid", grid, QUANTIZE_RANGE, "beats")

    def snap(beat: float) -> float:
        return round(round(beat / grid) * grid, 6)

    parts = []
    for part in piece.parts:
        notes = []
        for note in part.notes:
            start = snap(note.start)
            end = max(snap(note.end), round(start + grid, 6))
            notes.append(Note(note.pitch, start, end, note.velocity))
        parts.append(replace(part, notes=notes))
    return _with_parts(piece, parts)


def humanize(piece: Piece, seed: int = 0, amount: float = 0.5) -> Piece:
    """Seeded timing and velocity jitter, ``amount`` 0..1 (1: onsets move up to 1/20 of a
    beat, velocities up to 14). Notes struck together stay together, no note moves past
    its neighbours or before the start, and the same seed gives the same result."""
    _check_range("humanize amount", amount, HUMANIZE_RANGE)
    rng = random.Random(seed)
    # Nothing may spill past the last bar line: the piece keeps its number of bars.
    limit = piece.bars * piece.beats_per_bar
    parts = []
    for part in piece.parts:
        onsets = sorted({n.start for n in part.notes})
        moves: dict[float, float] = {}
        for i, onset in enumerate(onsets):
            room = _HUMANIZE_BEATS * amount
            if i > 0:
                room = min(room, 0.45 * (onset - onsets[i - 1]))
            following = onsets[i + 1] if i + 1 < len(onsets) else limit
            room = max(0.0, min(room, 0.45 * (following - onset)))
            moves[onset] = max(rng.uniform(-room, room), -onset)
        notes = []
        for note in sorted(part.notes, key=lambda n: (n.start, n.pitch)):
            move = moves[note.start]
            velocity = note.velocity + round(rng.uniform(-1, 1) * _HUMANIZE_VELOCITY * amount)
            start = round(note.start + move, 6)
            end = round(min(note.end + move, max(limit, note.end)), 6)
            notes.append(Note(note.pitch, start, end, min(127, max(1, velocity))))
        parts.append(replace(part, notes=notes))
    return _with_parts(piece, parts)


# apply_edits names its arguments after the edit_music tool's, which hide these functions.
_transpose, _quantize, _humanize = transpose, quantize, humanize


def apply_edits(piece: Piece, *, transpose: int | None = None, key: str | None = None,
                mode: str | None = None, tempo: float | None = None,
                tempo_scale: float | None = None, instrument: int | str | None = None,
                part: str = "melody", bars: int | None = None, humanize: float | None = None,
                quantize: float | None = None, seed: int = 0) -> Piece:
    """The ``edit_music`` arguments applied in one fixed order, so the same arguments
    always make the same piece: key, mode, transpose, instrument, bars, quantize,
    humanize (``humanize`` is the amount, jittered with ``seed``), tempo or tempo_scale."""
    if tempo is not None and tempo_scale is not None:
        raise MusicError("give tempo or tempo_scale, not both")
    if key is not None:
        piece = change_key(piece, key)
    if mode is not None:
        piece = change_mode(piece, mode)
    if transpose is not None:
        piece = _transpose(piece, transpose)
    if instrument is not None:
        piece = set_instrument(piece, instrument, part)
    if bars is not None:
        piece = fit_bars(piece, bars)
    if quantize is not None:
        piece = _quantize(piece, quantize)
    if humanize is not None:
        piece = _humanize(piece, seed, humanize)
    if tempo is not None:
        piece = set_tempo(piece, tempo)
    if tempo_scale is not None:
        piece = scale_tempo(piece, tempo_scale)
    return piece
