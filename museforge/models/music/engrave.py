"""A Piece written out as notation a person can take back into their notation program:
ABC (``to_abc``, written here, no library: music21 reads ABC but does not write it) and
MusicXML (``to_musicxml``, through music21, imported inside the function).

Notation is a grid, MIDI is not: onsets and ends are put on the nearest 1/24 of a beat
(which holds 32nd notes and triplets exactly), a note still sounding when the next chord
of its part starts is cut there (one staff, one line of chords), and drums, which have no
pitches, are left out. What that changed is counted in ``Engraving.changed`` so the
reply can say it; a piece made of plain note values comes out note for note.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from museforge.models.music.piece import Piece
from museforge.models.music.theory import parse_key

GRID = Fraction(1, 24)  # of a beat
_LETTERS = "CDEFGAB"
_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SHARPS = "FCGDAEB"
_ABC_MODES = {"major": "", "minor": "m", "dorian": " dor", "phrygian": " phr",
              "lydian": " lyd", "mixolydian": " mix", "locrian": " loc"}


@dataclass
class _Event:
    start: Fraction
    end: Fraction
    pitches: list[int]  # empty: a rest
    velocity: int = 80


@dataclass
class Engraving:
    text: str | bytes
    parts: list[str]  # the parts written
    left_out: list[str] = field(default_factory=list)  # drum parts
    changed: int = 0  # notes moved to the grid or cut where the next chord starts


def _grid(beat: float) -> Fraction:
    return Fraction(round(Fraction(beat) / GRID)) * GRID


def _events(notes: list, end_of_piece: Fraction) -> tuple[list[_Event], int]:  # type: ignore[type-arg]
    """A part's notes as one line of chords and rests from beat 0 to the end."""
    changed = 0
    by_start: dict[Fraction, list] = {}  # type: ignore[type-arg]
    for n in notes:
        start, end = _grid(n.start), _grid(n.end)
        if end <= start:
            end = start + GRID
        if start != Fraction(n.start).limit_denominator(10**6) or \
                end != Fraction(n.end).limit_denominator(10**6):
            changed += 1
        by_start.setdefault(start, []).append((end, n))
    events: list[_Event] = []
    for start in sorted(by_start):
        group = by_start[start]
        end = min(e for e, _ in group)
        changed += sum(1 for e, _ in group if e != end)
        if events and events[-1].end > start:
            changed += len(events[-1].pitches)
            events[-1].end = start
        pitches = sorted({n.pitch for _, n in group})
        events.append(_Event(start, end, pitches, group[0][1].velocity))
    out: list[_Event] = []
    at = Fraction(0)
    for event in events:
        if event.start > at:
            out.append(_Event(at, event.start, []))
        out.append(event)
        at = event.end
    if at < end_of_piece:
        out.append(_Event(at, end_of_piece, []))
    return out, changed


def _piece_end(piece: Piece) -> Fraction:
    bar = Fraction(piece.beats_per_bar).limit_denominator(64)
    return bar * piece.bars


# ------------------------------------------------------------------ ABC


def _key_alterations(key: str) -> tuple[dict[str, int], int]:
    """The key signature as {letter: +1/-1} and its number of sharps (negative: flats)."""
    from museforge.models.music.theory import key_signature

    parsed = parse_key(key)
    number, mode = key_signature(parsed)
    major_pc = (number + 3) % 12 if mode == "minor" else number % 12
    sharps = (major_pc * 7) % 12
    if sharps > 6 or ("b" in parsed.tonic and sharps > 0) or parsed.tonic == "F":
        sharps -= 12
    if "#" in parsed.tonic and sharps < 0:
        sharps += 12
    sharps = max(-7, min(7, sharps))
    if sharps >= 0:
        return {letter: 1 for letter in _SHARPS[:sharps]}, sharps
    return {letter: -1 for letter in _SHARPS[::-1][:-sharps]}, sharps


def _spell(pitch: int, signature: dict[str, int], sharps: int) -> tuple[str, int, int]:
    """(letter, alteration, octave) of a MIDI pitch, spelled as the key would spell it."""
    pc = pitch % 12
    choice = next(((letter, signature[letter]) for letter in signature
                   if (_LETTER_PC[letter] + signature[letter]) % 12 == pc), None)
    if choice is None:
        choice = next(((letter, 0) for letter in _LETTERS if _LETTER_PC[letter] == pc), None)
    if choice is None:
        step = 1 if sharps >= 0 else -1
        choice = next((letter, step) for letter in _LETTERS
                      if (_LETTER_PC[letter] + step) % 12 == pc)
    letter, alter = choice
    octave = (pitch - _LETTER_PC[letter] - alter) // 12 - 1
    return letter, alter, octave


def _abc_length(beats: Fraction, unit: Fraction) -> str:
    f = beats / unit
    if f == 1:
        return ""
    if f.denominator == 1:
        return str(f.numerator)
    if f.numerator == 1:
        return f"/{f.denominator}"
    return f"{f.numerator}/{f.denominator}"


def abc_key(key: str) -> str:
    parsed = parse_key(key)
    return parsed.tonic + _ABC_MODES[parsed.mode]


def to_abc(piece: Piece) -> Engraving:
    """The piece as one ABC tune: a voice per pitched part, L:1/8, bar lines where the
    meter puts them, notes that cross a bar line tied."""
    unit = Fraction(1, 2)  # L:1/8, in beats
    signature, sharps = _key_alterations(piece.key)
    bar = Fraction(piece.beats_per_bar).limit_denominator(64)
    end = _piece_end(piece)
    pitched = [p for p in piece.parts if not p.is_drum and p.notes]
    lines = ["X:1", f"T:{' '.join((piece.title or 'museforge').split())[:80]}",
             f"M:{piece.time_signature[0]}/{piece.time_signature[1]}", "L:1/8",
             f"Q:1/4={round(piece.tempo):d}", f"K:{abc_key(piece.key)}"]
    changed = 0
    for number, part in enumerate(pitched, start=1):
        events, moved = _events(part.notes, end)
        changed += moved
        if len(pitched) > 1:
            lines.append(f'V:{number} name="{part.name}"')
        lines.extend(_abc_voice(events, bar, unit, signature, sharps))
    text = "\n".join(lines)
    left_out = [p.name for p in piece.parts if p.is_drum and p.notes]
    return Engraving(text + "\n", [p.name for p in pitched], left_out, changed)


def _abc_voice(events: list[_Event], bar: Fraction, unit: Fraction,
               signature: dict[str, int], sharps: int) -> list[str]:
    tokens: list[str] = []
    bars: list[str] = []
    state: dict[str, int] = {}  # letter -> alteration written in this bar
    bar_end = bar
    for event in events:
        at = event.start
        while at < event.end:
            stop = min(event.end, bar_end)
            tie = "-" if stop < event.end and event.pitches else ""
            tokens.append(_abc_event(event.pitches, stop - at, unit, signature, sharps,
                                     state) + tie)
            at = stop
            if at == bar_end:
                bars.append(" ".join(tokens))
                tokens, state = [], {}
                bar_end += bar
    if tokens:
        bars.append(" ".join(tokens))
    lines = []
    for i in range(0, len(bars), 4):
        chunk = " | ".join(bars[i:i + 4])
        lines.append(chunk + (" |]" if i + 4 >= len(bars) else " |"))
    return lines


def _abc_event(pitches: list[int], beats: Fraction, unit: Fraction, signature: dict[str, int],
               sharps: int, state: dict[str, int]) -> str:
    length = _abc_length(beats, unit)
    if not pitches:
        return "z" + length
    written = []
    for pitch in pitches:
        letter, alter, octave = _spell(pitch, signature, sharps)
        accidental = ""
        # explicit whenever the key would not give it, or an earlier note of this letter in
        # the bar was altered otherwise (readers differ on whether that carries by octave)
        if alter != signature.get(letter, 0) or state.get(letter, alter) != alter:
            accidental = {1: "^", -1: "_", 0: "=", 2: "^^", -2: "__"}[alter]
        state[letter] = alter
        name = letter.lower() + "'" * (octave - 5) if octave >= 5 else \
            letter + "," * (4 - octave)
        written.append(accidental + name)
    if len(written) == 1:
        return written[0] + length
    return "[" + "".join(written) + "]" + length


# ------------------------------------------------------------------ MusicXML


def to_musicxml(piece: Piece) -> Engraving:
    """The piece as a MusicXML 4 score (partwise): a part per pitched part with its
    instrument, the meter, key and tempo in the first bar."""
    from music21 import chord, instrument, metadata, meter, note, stream, tempo
    from music21 import key as m21key
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    score = stream.Score()
    score.metadata = metadata.Metadata(title=piece.title or "museforge")
    parsed = parse_key(piece.key)
    end = _piece_end(piece)
    changed = 0
    pitched = [p for p in piece.parts if not p.is_drum and p.notes]
    for part in pitched:
        events, moved = _events(part.notes, end)
        changed += moved
        out = stream.Part()
        out.partName = part.name
        try:
            out.insert(0, instrument.instrumentFromMidiProgram(part.program))
        except Exception:  # a program music21 has no instrument for: the part's name holds
            out.insert(0, instrument.Instrument())
        out.insert(0, meter.TimeSignature(f"{piece.time_signature[0]}/"
                                          f"{piece.time_signature[1]}"))
        tonic = parsed.tonic.replace("b", "-") if len(parsed.tonic) > 1 else parsed.tonic
        out.insert(0, m21key.Key(tonic, parsed.mode))
        out.insert(0, tempo.MetronomeMark(number=round(piece.tempo, 2)))
        for event in events:
            length = event.end - event.start
            if not event.pitches:
                out.insert(event.start, note.Rest(quarterLength=length))
                continue
            sounding: note.Note | chord.Chord
            if len(event.pitches) == 1:
                sounding = note.Note(event.pitches[0], quarterLength=length)
            else:
                sounding = chord.Chord(event.pitches, quarterLength=length)
            sounding.volume.velocity = event.velocity
            out.insert(event.start, sounding)
        score.insert(0, out)
    data = GeneralObjectExporter(score).parse()
    left_out = [p.name for p in piece.parts if p.is_drum and p.notes]
    return Engraving(data, [p.name for p in pitched], left_out, changed)
