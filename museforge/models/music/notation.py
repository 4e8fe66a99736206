"""Notes a person types in a chat, read into a melody: note names ("C E G", "C4 E4 G4 C5",
"D8 F#8 A4", "Bb3/8."), MIDI numbers ("60 64 67") or fixed-do solfège ("do mi sol").
Pure Python, no MIDI or notation library: the ABC and MusicXML readers are in
``scorefiles.py`` and both end in the same ``Reading``.

How a typed note is written (the convention the echo repeats back):

* a name ``C D E F G A B`` (either case), then ``#``/``♯`` or ``b``/``♭`` (``Bb``,
  ``F#``, ``bb`` is B flat); or a solfège syllable ``do re mi fa sol/so la ti/si`` (do = C);
  or a MIDI number 0..127 (60 = middle C); or ``r``/``rest`` for a rest;
* then, optionally, the octave, one digit 0..7 in scientific pitch (C4 = middle C = 60).
  Without one, the first note is in octave 4 and each later note is the one nearest the
  note before it ("C E G C" climbs to C5);
* then, optionally, the duration: ``/N`` or ``:N`` with N = 1 (whole), 2 (half),
  4 (quarter), 8 (eighth), 16 or 32, and a ``.`` for dotted ("G4/8.", "C/2"). A bare
  8, 16 or 32 right after the name is a duration too ("D8" is an eighth-note D: no
  melody asks for octave 8), and in notes written that way a bare 1, 2 or 4 is a length
  as well ("D8 F#8 A4" is two eighths and a quarter; "C4 E4 G4" alone is octave 4).
  Without a duration a note lasts as long as the one before it, the first a quarter;
* ``|`` marks a bar line: equal bars set the meter (three quarter notes a bar is 3/4);
  without bar lines the meter is 4/4 unless one is given. The key, when not given, is
  the one that fits the notes best (Krumhansl-Schmuckler).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction

from museforge.models.music.base import MusicError
from museforge.models.music.piece import Note, Part, Piece
from museforge.models.music.theory import (
    Key,
    estimate_key,
    in_key_share,
    parse_key,
    pitch_name,
    spell_key,
)

MAX_TYPED_NOTES = 512
DEFAULT_TEMPO = 100.0
DEFAULT_VELOCITY = 80

_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SOLFEGE = {"do": 0, "re": 2, "mi": 4, "fa": 5, "sol": 7, "so": 7, "la": 9, "ti": 11,
            "si": 11}
# N in "/N": beats (quarter notes) it lasts.
DURATIONS = {1: 4.0, 2: 2.0, 4: 1.0, 8: 0.5, 16: 0.25, 32: 0.125}
DURATION_NAMES = {4.0: "whole", 2.0: "half", 1.0: "quarter", 0.5: "eighth", 0.25: "sixteenth",
                  0.125: "thirty-second"}
_METERS = {4.0: (4, 4), 3.0: (3, 4), 2.0: (2, 4), 1.5: (3, 8), 6.0: (6, 4), 5.0: (5, 4),
           7.0: (7, 4)}

_NAME = r"(?P<name>[A-Ga-g]|do|re|mi|fa|sol|so|la|ti|si)(?P<acc>##|bb|#|♯|b|♭)?"
_TOKEN = re.compile(
    r"^(?:" + _NAME + r"|(?P<midi>\d{1,4})|(?P<rest>r|rest))"
    r"(?P<digits>-?\d{1,2})?(?:[/:](?P<dur>\d{1,2}))?(?P<dot>\.)?$", re.I)
HOW = ('write notes as names (C D E F G A B, with # or b and an octave: "C4 E4 G4"), MIDI '
       'numbers 0..127 ("60 64 67") or solfège ("do mi sol"); "/8" after a note makes it an '
       "eighth note")


@dataclass
class Reading:
    """What was read from what a person gave: the piece (v1 of its artwork, exactly the
    notes given), the sentence that says it back, and where it came from."""

    piece: Piece
    echo: str
    source: str  # "typed", "abc", "musicxml"
    notes: list[str] = field(default_factory=list)  # things said beside the echo


@dataclass(frozen=True)
class _Typed:
    pitch: int | None  # None: a rest
    beats: float
    text: str


def looks_like_notes(text: str) -> bool:
    """Whether ``text`` is only typed notes (every token one), at least two of them: what
    the planner asks before it hands words to ``parse_notes``."""
    tokens = _tokens(text)
    notes = [t for t in tokens if t != "|"]
    return len(notes) >= 2 and all(_TOKEN.match(t) for t in notes) and not all(
        re.fullmatch(r"\d+", t) and int(t) > 127 for t in notes)


def _tokens(text: str) -> list[str]:
    text = text.strip().rstrip("!?")
    if text.endswith(".") and not re.search(r"(?:[/:]\d{1,2}|(?<![\d-])(?:8|16|32))\.$", text):
        text = text[:-1]  # "start with C E G.": the end of a sentence, not a dotted G
    spaced = re.sub(r"\|+", " | ", text)
    return [t for t in re.split(r"[\s,;]+|(?<=\w)-(?=[A-Ga-g\d])", spaced) if t]


def parse_notes(text: str, *, key: str | None = None,
                time_signature: tuple[int, int] | None = None, tempo: float | None = None,
                program: int = 0, title: str = "") -> Reading:
    """Typed notes -> a one-part melody (see the module's docstring for how they are
    written); a token that is no note is refused with one sentence saying which."""
    tokens = _tokens(text)
    if not [t for t in tokens if t != "|"]:
        raise MusicError(f"there are no notes to read; {HOW}")
    typed: list[_Typed] = []
    bars: list[float] = []  # beats in each bar closed by "|"
    in_bar = 0.0
    previous: int | None = None
    beats = 1.0
    lengths = any(re.fullmatch(_NAME + r"(?:8|16|32)\.?", t, re.I) for t in tokens)
    for token in tokens:
        if token == "|":
            if in_bar > 0:
                bars.append(in_bar)
            in_bar = 0.0
            continue
        pitch, beats = _read(token, previous, beats, lengths)
        typed.append(_Typed(pitch, beats, token))
        if len(typed) > MAX_TYPED_NOTES:
            raise MusicError(f"that is more than {MAX_TYPED_NOTES} notes; send a longer "
                             "tune as a MIDI, ABC or MusicXML file")
        in_bar += beats
        if pitch is not None:
            previous = pitch
    if all(t.pitch is None for t in typed):
        raise MusicError("there are only rests there, no notes")
    meter_said = time_signature is not None
    ts = time_signature or _meter(bars, in_bar)
    notes: list[Note] = []
    at = 0.0
    for t in typed:
        if t.pitch is not None:
            notes.append(Note(t.pitch, round(at, 6), round(at + t.beats, 6), DEFAULT_VELOCITY))
        at += t.beats
    key_said = key is not None
    found = parse_key(key) if key else guess_key(notes)
    piece = Piece([Part("melody", program, False, notes)], float(tempo or DEFAULT_TEMPO), ts,
                  str(found), title or " ".join(t.text for t in typed[:8]))
    said = [_names(typed), _durations(typed), f"{ts[0]}/{ts[1]}" + (
        "" if meter_said or bars else " (no bar lines given)"),
        f"{found}" + ("" if key_said else " (from the notes)")]
    return Reading(piece, "I read: " + ", ".join(said), "typed")


def guess_key(notes: list[Note]) -> Key:
    """The key that fits the notes best (Krumhansl-Schmuckler), or a key on one of the
    tune's notes that holds them all as well and whose tonic chord holds more of them (by
    duration): a few typed notes barely tell keys apart ("D F# A B A F#" is in D major, not
    F# minor; "E D C D E E E" in C major, not E minor)."""
    best = estimate_key((n.pitch, n.duration) for n in notes)
    pitches = [n.pitch for n in notes]
    fits = in_key_share(pitches, best)

    def home(key: Key) -> float:
        scale = key.scale
        triad = {scale[0], scale[2], scale[4]}
        return sum(n.duration for n in notes if n.pitch % 12 in triad)

    candidates = [spell_key(pc, mode) for pc in sorted({p % 12 for p in pitches})
                  for mode in ("major", "minor")]
    candidates = [k for k in candidates if in_key_share(pitches, k) >= fits and k != best]
    return max([best, *candidates], key=lambda k: (home(k), k == best))


def _read(token: str, previous: int | None, beats: float, lengths: bool = False
          ) -> tuple[int | None, float]:
    m = _TOKEN.match(token)
    if not m:
        raise MusicError(f'"{token}" is not a note; {HOW}')
    digits, dur = m["digits"], m["dur"]
    octave: int | None = None
    if digits is not None:
        if m["midi"] is not None or m["rest"] is not None:
            if dur is None and digits in ("8", "16", "32", "1", "2", "4"):
                dur = digits  # "r8", "r4": a rest's number is its length
            else:
                raise MusicError(f'"{token}" is not a note; {HOW}')
        elif digits in ("8", "16", "32") or lengths and digits in ("1", "2", "4") \
                and dur is None:
            if dur is not None:
                raise MusicError(f'"{token}": octave {digits} is out of range (octaves go from '
                                 "0 to 7; C4 is middle C)")
            dur = digits
        elif digits.lstrip("-").isdigit() and 0 <= int(digits) <= 7:
            octave = int(digits)
        else:
            raise MusicError(f'"{token}": octave {digits} is out of range (octaves go from 0 '
                             "to 7; C4 is middle C)")
    if dur is not None:
        if int(dur) not in DURATIONS:
            raise MusicError(f'"{token}": /{dur} is not a note length; use /1 (whole), /2, '
                             "/4 (quarter), /8, /16 or /32")
        beats = DURATIONS[int(dur)]
    if m["dot"]:
        beats = (DURATIONS[int(dur)] if dur is not None else beats) * 1.5
    if m["rest"] is not None:
        return None, beats
    if m["midi"] is not None:
        value = int(m["midi"])
        if value > 127:
            raise MusicError(f"{value} is out of range: MIDI notes go from 0 to 127 "
                             "(60 is middle C)")
        return value, beats
    name = m["name"]
    pc = _SOLFEGE[name.lower()] if len(name) > 1 else _LETTER_PC[name.upper()]
    for ch in m["acc"] or "":
        pc += 1 if ch in "#♯" else -1
    if octave is not None:
        pitch = 12 * (octave + 1) + pc
    elif previous is None:
        pitch = 60 + pc
    else:  # the nearest to the note before (a tritone goes up)
        pitch = previous + ((pc - previous) % 12)
        if pitch - previous > 6:
            pitch -= 12
    if not 0 <= pitch <= 127:
        raise MusicError(f'"{token}" is outside MIDI\'s notes (C-1 to G9)')
    return pitch, beats


def _meter(bars: list[float], tail: float) -> tuple[int, int]:
    """The meter the bar lines show: the length every whole bar shares (the first may be
    a pickup, the last may stop short); 4/4 without bar lines."""
    if tail > 0:
        bars = [*bars, tail]
    if len(bars) < 2:
        return (4, 4)
    inner = bars[1:-1]  # with two bars, either may be the short one (a pickup, an end)
    length = max(bars)
    if any(abs(b - length) > 1e-6 for b in inner) or bars[0] > length or bars[-1] > length:
        said = ", ".join(f"{b:g}" for b in bars)
        raise MusicError(f"the bars are of different lengths ({said} beats); make every whole "
                         "bar the same length, or give the time signature")
    if length not in _METERS:
        raise MusicError(f"a bar of {length:g} beats is no meter I know; give the time "
                         "signature (2/4, 3/4, 4/4 or 6/8)")
    return _METERS[length]


def _names(typed: list[_Typed]) -> str:
    shown = [pitch_name(t.pitch) if t.pitch is not None else "rest" for t in typed]
    if len({t.beats for t in typed}) > 1:
        shown = [f"{s}/{_denominator(t.beats)}" for s, t in zip(shown, typed, strict=True)]
    if len(shown) > 24:
        return " ".join(shown[:24]) + f" … ({len(shown)} in all)"
    return " ".join(shown)


def _denominator(beats: float) -> str:
    for n, b in DURATIONS.items():
        if abs(b - beats) < 1e-9:
            return str(n)
        if abs(b * 1.5 - beats) < 1e-9:
            return f"{n}."
    return str(Fraction(beats).limit_denominator(64))


def _durations(typed: list[_Typed]) -> str:
    lengths = sorted({t.beats for t in typed}, reverse=True)
    names = [duration_name(b) for b in lengths]
    if len(names) == 1:
        return f"{names[0]} notes"
    return ", ".join(names[:-1]) + f" and {names[-1]} notes"


def duration_name(beats: float) -> str:
    """1.0 -> "quarter", 0.75 -> "dotted eighth"."""
    if beats in DURATION_NAMES:
        return DURATION_NAMES[beats]
    if beats / 1.5 in DURATION_NAMES:
        return "dotted " + DURATION_NAMES[beats / 1.5]
    return f"{beats:g}-beat"
