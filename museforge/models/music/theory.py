"""Keys, scales, modes and General MIDI names: the little music theory the edits, the
composer and the loaders share. Pure Python, no MIDI library.

A key is written like people write it: ``"D minor"``, ``"Bb major"``, ``"F# minor"``,
``"c#m"``, ``"E flat major"``, ``"D dorian"``. Pitches are MIDI note numbers (60 = C4).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from museforge.models.music.base import MusicError

# Semitones above the tonic of each degree. Major and minor are the two modes the MIDI key
# signature knows; the other church modes work with the same degree mapping.
MODES: dict[str, tuple[int, ...]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "phrygian": (0, 1, 3, 5, 7, 8, 10),
    "lydian": (0, 2, 4, 6, 7, 9, 11),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "locrian": (0, 1, 3, 5, 6, 8, 10),
}
_MODE_ALIASES = {
    "": "major", "maj": "major", "major": "major", "ionian": "major", "dur": "major",
    "m": "minor", "min": "minor", "minor": "minor", "aeolian": "minor", "moll": "minor",
    "natural minor": "minor",
}
# Of each mode, the semitones from the tonic to the tonic of the major scale whose notes it
# uses (D dorian: the notes of C major), for key signatures.
_PARENT_MAJOR = {"major": 0, "minor": 3, "dorian": -2, "phrygian": -4, "lydian": -5,
                 "mixolydian": -7, "locrian": 1}

_LETTER_PC = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
# The spelling used when a key is computed rather than typed (after a transposition):
# the one with fewer accidentals, sharps for F#/C# minor, flats for Bb/Eb/Ab major.
_MAJOR_SPELLING = ("C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_MINOR_SPELLING = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "G#", "A", "Bb", "B")
_PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

_KEY_RE = re.compile(
    r"^\s*(?P<letter>[a-g])\s*(?P<acc>#|♯|b|♭|-?\s*sharp|-?\s*flat)?"
    r"\s*-?\s*(?P<mode>[a-z ]*?)\s*(?:key|scale)?\s*$",
    re.IGNORECASE,
)
KEY_EXAMPLES = '"D minor", "Bb major" or "F# minor"'


@dataclass(frozen=True)
class Key:
    tonic: str  # spelled: "C", "Bb", "F#"
    mode: str  # a name in MODES

    def __str__(self) -> str:
        return f"{self.tonic} {self.mode}"

    @property
    def pitch_class(self) -> int:
        return _spelling_pc(self.tonic)

    @property
    def scale(self) -> tuple[int, ...]:
        """The pitch classes of the scale, tonic first."""
        return tuple((self.pitch_class + step) % 12 for step in MODES[self.mode])

    def contains(self, pitch: int) -> bool:
        return pitch % 12 in self.scale


def _spelling_pc(tonic: str) -> int:
    pc = _LETTER_PC[tonic[0].upper()]
    for accidental in tonic[1:]:
        pc += 1 if accidental == "#" else -1
    return pc % 12


def spell_key(pitch_class: int, mode: str) -> Key:
    """The key on ``pitch_class`` in ``mode``, spelled the usual way."""
    minorish = MODES[mode][2] == 3  # a minor third
    names = _MINOR_SPELLING if minorish else _MAJOR_SPELLING
    return Key(names[pitch_class % 12], mode)


def parse_mode(text: str) -> str:
    """``"minor"``, ``"Major"``, ``"aeolian"``, ``"m"`` -> a name in MODES."""
    raw = " ".join(text.strip().split())
    if raw == "M":
        return "major"
    name = raw.lower()
    if name in MODES:
        return name
    if name in _MODE_ALIASES:
        return _MODE_ALIASES[name]
    raise MusicError(f'unknown mode "{text}"; use one of: {", ".join(MODES)}')


def parse_key(text: str | Key) -> Key:
    """``"D minor"``, ``"Bb major"``, ``"F# minor"``, ``"c#m"``, ``"E flat"`` -> Key.

    The tonic keeps the spelling it was given; a missing mode means major."""
    if isinstance(text, Key):
        return text
    match = _KEY_RE.match(text or "")
    if not match:
        raise MusicError(f'unknown key "{text}"; write it like {KEY_EXAMPLES}')
    acc = (match["acc"] or "").replace(" ", "").replace("-", "").lower()
    accidental = {"#": "#", "♯": "#", "sharp": "#", "b": "b", "♭": "b", "flat": "b"}.get(acc, "")
    try:
        mode = parse_mode(match["mode"])
    except MusicError:
        raise MusicError(f'unknown key "{text}"; write it like {KEY_EXAMPLES}') from None
    return Key(match["letter"].upper() + accidental, mode)


def transpose_key(key: str | Key, semitones: int) -> Key:
    parsed = parse_key(key)
    return spell_key(parsed.pitch_class + semitones, parsed.mode)


def key_signature(key: str | Key) -> tuple[int, str]:
    """(key number as pretty_midi counts it: 0..11 major, 12..23 minor) for the MIDI key
    signature meta event. Modes other than major and minor have no key signature of
    their own: they get the one of the major scale whose notes they use (D dorian -> C)."""
    parsed = parse_key(key)
    if parsed.mode == "minor":
        return 12 + parsed.pitch_class, "minor"
    return (parsed.pitch_class + _PARENT_MAJOR[parsed.mode]) % 12, "major"


def key_from_number(key_number: int) -> Key:
    """The inverse of ``key_signature`` for major and minor (pretty_midi's key numbers)."""
    return spell_key(key_number % 12, "minor" if key_number >= 12 else "major")


def mode_map(pitch: int, from_key: str | Key, to_mode: str) -> int:
    """Move ``pitch`` from its scale degree in ``from_key`` to the same degree of the same
    tonic in ``to_mode``: C major's E becomes Eb in C minor, A becomes Ab, C stays C.

    A note outside the scale (a chromatic passing note) keeps its pitch when the new
    scale holds it; otherwise it moves with its nearest degree (the lower one on a tie)."""
    key = parse_key(from_key)
    target = MODES[parse_mode(to_mode)]
    source = MODES[key.mode]
    rel = (pitch - key.pitch_class) % 12
    if rel in source:
        degree = source.index(rel)
        return pitch + target[degree] - source[degree]
    if rel in target:
        return pitch

    def distance(degree: int) -> int:
        d = abs(source[degree] - rel)
        return min(d, 12 - d)

    degree = min(range(7), key=lambda d: (distance(d), (rel - source[d]) % 12))
    return pitch + target[degree] - source[degree]


# Krumhansl-Kessler key profiles (probe-tone ratings), tonic first.
_PROFILES = {
    "major": (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
    "minor": (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17),
}


def estimate_key(notes: Iterable[tuple[int, float]]) -> Key:
    """The major or minor key that best fits (pitch, weight) pairs, weight usually the
    duration: Krumhansl-Schmuckler correlation. C major when there is nothing to weigh."""
    histogram = [0.0] * 12
    for pitch, weight in notes:
        histogram[pitch % 12] += max(weight, 0.0)
    if sum(histogram) <= 0:
        return Key("C", "major")
    best: tuple[float, int, str] | None = None
    for mode, profile in _PROFILES.items():
        for tonic in range(12):
            rotated = [profile[(pc - tonic) % 12] for pc in range(12)]
            score = _correlation(histogram, rotated)
            if best is None or score > best[0] + 1e-12:
                best = (score, tonic, mode)
    assert best is not None
    return spell_key(best[1], best[2])


def _correlation(a: Sequence[float], b: Sequence[float]) -> float:
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True))
    var_a = sum((x - mean_a) ** 2 for x in a)
    var_b = sum((y - mean_b) ** 2 for y in b)
    return cov / ((var_a * var_b) ** 0.5) if var_a and var_b else 0.0


def in_key_share(pitches: Iterable[int], key: str | Key) -> float:
    """The share of ``pitches`` in the scale of ``key`` (1.0 for no pitches)."""
    scale = set(parse_key(key).scale)
    pitches = list(pitches)
    if not pitches:
        return 1.0
    return sum(1 for p in pitches if p % 12 in scale) / len(pitches)


def pitch_name(pitch: int) -> str:
    """60 -> "C4" (scientific pitch notation, MIDI 60 = middle C)."""
    return f"{_PITCH_NAMES[pitch % 12]}{pitch // 12 - 1}"


# ------------------------------------------------------------------ General MIDI

GM_PROGRAMS: tuple[str, ...] = (
    "Acoustic Grand Piano", "Bright Acoustic Piano", "Electric Grand Piano", "Honky-tonk Piano",
    "Electric Piano 1", "Electric Piano 2", "Harpsichord", "Clavinet",
    "Celesta", "Glockenspiel", "Music Box", "Vibraphone",
    "Marimba", "Xylophone", "Tubular Bells", "Dulcimer",
    "Drawbar Organ", "Percussive Organ", "Rock Organ", "Church Organ",
    "Reed Organ", "Accordion", "Harmonica", "Tango Accordion",
    "Acoustic Guitar (nylon)", "Acoustic Guitar (steel)", "Electric Guitar (jazz)",
    "Electric Guitar (clean)", "Electric Guitar (muted)", "Overdriven Guitar",
    "Distortion Guitar", "Guitar Harmonics",
    "Acoustic Bass", "Electric Bass (finger)", "Electric Bass (pick)", "Fretless Bass",
    "Slap Bass 1", "Slap Bass 2", "Synth Bass 1", "Synth Bass 2",
    "Violin", "Viola", "Cello", "Contrabass",
    "Tremolo Strings", "Pizzicato Strings", "Orchestral Harp", "Timpani",
    "String Ensemble 1", "String Ensemble 2", "Synth Strings 1", "Synth Strings 2",
    "Choir Aahs", "Voice Oohs", "Synth Choir", "Orchestra Hit",
    "Trumpet", "Trombone", "Tuba", "Muted Trumpet",
    "French Horn", "Brass Section", "Synth Brass 1", "Synth Brass 2",
    "Soprano Sax", "Alto Sax", "Tenor Sax", "Baritone Sax",
    "Oboe", "English Horn", "Bassoon", "Clarinet",
    "Piccolo", "Flute", "Recorder", "Pan Flute",
    "Blown Bottle", "Shakuhachi", "Whistle", "Ocarina",
    "Lead 1 (square)", "Lead 2 (sawtooth)", "Lead 3 (calliope)", "Lead 4 (chiff)",
    "Lead 5 (charang)", "Lead 6 (voice)", "Lead 7 (fifths)", "Lead 8 (bass + lead)",
    "Pad 1 (new age)", "Pad 2 (warm)", "Pad 3 (polysynth)", "Pad 4 (choir)",
    "Pad 5 (bowed)", "Pad 6 (metallic)", "Pad 7 (halo)", "Pad 8 (sweep)",
    "FX 1 (rain)", "FX 2 (soundtrack)", "FX 3 (crystal)", "FX 4 (atmosphere)",
    "FX 5 (brightness)", "FX 6 (goblins)", "FX 7 (echoes)", "FX 8 (sci-fi)",
    "Sitar", "Banjo", "Shamisen", "Koto",
    "Kalimba", "Bagpipe", "Fiddle", "Shanai",
    "Tinkle Bell", "Agogo", "Steel Drums", "Woodblock",
    "Taiko Drum", "Melodic Tom", "Synth Drum", "Reverse Cymbal",
    "Guitar Fret Noise", "Breath Noise", "Seashore", "Bird Tweet",
    "Telephone Ring", "Helicopter", "Applause", "Gunshot",
)
assert len(GM_PROGRAMS) == 128

# Groups of eight programs, in order.
GM_FAMILIES: tuple[str, ...] = (
    "piano", "chromatic percussion", "organ", "guitar", "bass", "strings", "ensemble",
    "brass", "reed", "pipe", "synth lead", "synth pad", "synth effects", "ethnic",
    "percussive", "sound effects",
)

# GM percussion key map (channel 10), keys 35..81.
GM_PERCUSSION: dict[int, str] = dict(enumerate((
    "Acoustic Bass Drum", "Bass Drum 1", "Side Stick", "Acoustic Snare", "Hand Clap",
    "Electric Snare", "Low Floor Tom", "Closed Hi-Hat", "High Floor Tom", "Pedal Hi-Hat",
    "Low Tom", "Open Hi-Hat", "Low-Mid Tom", "Hi-Mid Tom", "Crash Cymbal 1", "High Tom",
    "Ride Cymbal 1", "Chinese Cymbal", "Ride Bell", "Tambourine", "Splash Cymbal", "Cowbell",
    "Crash Cymbal 2", "Vibraslap", "Ride Cymbal 2", "Hi Bongo", "Low Bongo", "Mute Hi Conga",
    "Open Hi Conga", "Low Conga", "High Timbale", "Low Timbale", "High Agogo", "Low Agogo",
    "Cabasa", "Maracas", "Short Whistle", "Long Whistle", "Short Guiro", "Long Guiro",
    "Claves", "Hi Wood Block", "Low Wood Block", "Mute Cuica", "Open Cuica", "Mute Triangle",
    "Open Triangle",
), start=35))

# Words people use for an instrument -> its GM program.
INSTRUMENT_ALIASES: dict[str, int] = {
    "piano": 0, "grand piano": 0, "acoustic piano": 0, "keys": 0, "bright piano": 1,
    "electric piano": 4, "rhodes": 4, "e-piano": 4, "wurlitzer": 5, "clav": 7,
    "vibes": 11, "bells": 14, "chimes": 14, "organ": 16, "hammond": 16,
    "pipe organ": 19, "accordion": 21, "bandoneon": 23,
    "guitar": 25, "acoustic guitar": 25, "nylon guitar": 24, "classical guitar": 24,
    "spanish guitar": 24, "steel guitar": 25, "folk guitar": 25, "jazz guitar": 26,
    "electric guitar": 27, "clean guitar": 27, "muted guitar": 28, "overdrive guitar": 29,
    "rock guitar": 30, "distorted guitar": 30,
    "bass": 33, "bass guitar": 33, "electric bass": 33, "upright bass": 32,
    "double bass": 32, "jazz bass": 32, "slap bass": 36, "synth bass": 38,
    "fiddle": 110, "strings": 48, "string ensemble": 48, "string section": 48,
    "orchestra": 48, "synth strings": 50, "harp": 46, "pizzicato": 45, "tremolo": 44,
    "tin whistle": 78, "penny whistle": 78, "low whistle": 78, "uilleann pipes": 109,
    "celeste": 8,
    "choir": 52, "voice": 53, "vocals": 53, "aahs": 52, "oohs": 53,
    "horn": 60, "horns": 61, "brass": 61, "synth brass": 62,
    "sax": 65, "saxophone": 65, "soprano saxophone": 64, "alto saxophone": 65,
    "tenor saxophone": 66, "baritone saxophone": 67, "cor anglais": 69,
    "pan pipes": 75, "panpipes": 75, "bottle": 76,
    "synth": 81, "synthesizer": 81, "synth lead": 80, "lead": 80, "square lead": 80,
    "saw lead": 81, "sawtooth": 81, "chiptune": 80, "8-bit": 80,
    "pad": 88, "synth pad": 88, "warm pad": 89, "new age pad": 88, "choir pad": 91,
    "ambient pad": 88, "polysynth": 90, "sweep pad": 95, "halo pad": 94,
    "steel drum": 114, "steelpan": 114, "tom": 117, "taiko": 116, "wood block": 115,
    # Instruments General MIDI lacks: the nearest GM sound (the tool's reply names it).
    "toy piano": 10, "square wave": 80, "square wave lead": 80,
    "ukulele": 24, "uke": 24, "banjolele": 105, "mandolin": 25, "mandola": 25,
    "bouzouki": 25, "cittern": 25, "lute": 24, "oud": 24, "theorbo": 24, "charango": 24,
    "cuatro": 24, "balalaika": 105, "twelve string guitar": 25, "12 string guitar": 25,
    "slide guitar": 25, "lap steel": 25, "pedal steel": 25, "dobro": 25,
    "concertina": 21, "melodeon": 21, "button accordion": 21, "squeezebox": 21,
    "melodica": 22, "mouth organ": 22, "harmonium": 20,
    "hammered dulcimer": 15, "cimbalom": 15, "santoor": 15, "zither": 15, "psaltery": 15,
    "lyre": 46, "celtic harp": 46, "guzheng": 107, "zheng": 107, "gayageum": 107,
    "erhu": 110, "nyckelharpa": 110, "hurdy gurdy": 110, "viol": 42, "viola da gamba": 42,
    "pipa": 105, "sanxian": 106, "biwa": 106,
    "mbira": 108, "thumb piano": 108, "handpan": 114, "hang drum": 114, "tongue drum": 114,
    "fife": 72, "bansuri": 73, "dizi": 73, "ney": 77, "duduk": 68, "shawm": 68,
    "cornet": 56, "flugelhorn": 56, "bugle": 56, "euphonium": 58, "sousaphone": 58,
    "baritone horn": 58, "mellophone": 60, "alphorn": 60,
    "highland pipes": 109, "smallpipes": 109, "gaita": 109,
    "theremin": 81, "keytar": 81, "moog": 81, "mellotron": 48, "clavinet": 7,
    "tubular bells": 14, "carillon": 14, "glass harmonica": 92, "music-box": 10,
    "shehnai": 111, "nadaswaram": 111, "tabla": 116, "djembe": 116, "bodhran": 116,
    "cajon": 115, "dhol": 116, "mridangam": 116, "santur": 15, "sarod": 104, "veena": 104,
    "tanpura": 104, "harmonium pump organ": 20, "guqin": 107, "kora": 46, "ngoni": 105,
}

_GM_LOOKUP = {re.sub(r"[^a-z0-9+]+", " ", name.lower()).strip(): i
              for i, name in enumerate(GM_PROGRAMS)}


def _normalise_name(name: str) -> str:
    words = re.sub(r"[^a-z0-9+]+", " ", name.lower()).split()
    return " ".join(w for w in words if w not in ("the", "a", "an"))


def program_family(program: int) -> str:
    return GM_FAMILIES[program // 8]


def program_name(program: int) -> str:
    if not 0 <= program <= 127:
        raise MusicError(f"GM program {program} does not exist; programs are 0..127")
    return GM_PROGRAMS[program]


def instrument_program(name: str | int) -> int:
    """A General MIDI program (0..127) from a GM name (``"Violin"``, ``"Acoustic Guitar
    (nylon)"``), a common word (``"piano"``, ``"strings"``, ``"synth pad"``) or a number.
    An unknown name is refused with the closest GM name."""
    if isinstance(name, int):
        program_name(name)
        return name
    key = _normalise_name(name)
    if key.isdigit():
        return instrument_program(int(key))
    if key in _GM_LOOKUP:
        return _GM_LOOKUP[key]
    if key in INSTRUMENT_ALIASES:
        return INSTRUMENT_ALIASES[key]
    if key.endswith("s") and key[:-1] in INSTRUMENT_ALIASES | _GM_LOOKUP:  # "violins"
        return (INSTRUMENT_ALIASES | _GM_LOOKUP)[key[:-1]]
    if key in ("drums", "drum", "drum kit", "percussion", "kit"):
        raise MusicError("drums are a part, not an instrument: ask for a drums part instead")
    candidates = {**{k: GM_PROGRAMS[v] for k, v in _GM_LOOKUP.items()},
                  **{k: GM_PROGRAMS[v] for k, v in INSTRUMENT_ALIASES.items()}}
    close = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.6)
    if close:
        suggestion = candidates[close[0]]
        return _unknown(name, f'did you mean "{suggestion}"?')
    return _unknown(name, 'use a General MIDI name such as "Acoustic Grand Piano", '
                          '"Violin", "Flute" or "Pad 2 (warm)"')


def _unknown(name: str, hint: str) -> int:
    raise MusicError(f'unknown instrument "{name}"; {hint}')
