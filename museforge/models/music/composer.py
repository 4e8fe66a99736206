"""The composer: a multi-part piece around a melody from our model. From a prompt and
optional fields (mood, key, tempo, bars, time signature, instrument, parts, style) it
picks a chord progression that fits the key and mood, samples several melodies per
2-bar window from the melody model and keeps the one that fits the chords best (moved
to the key; the few notes still outside the scale are nudged, and their share is
reported), then writes a bass line, a drum pattern per style and meter, and voices the
chords, with velocities shaped by the mood. Same arguments + seed = same notes."""

from __future__ import annotations

import random
import re
from dataclasses import asdict, dataclass, field
from typing import Any

from museforge.models.music import idioms
from museforge.models.music.base import MelodyModel, MusicError, MusicResult, PhraseModel
from museforge.models.music.phrase_composer import phrase_melody, phrase_piece
from museforge.models.music.piece import Note, Part, Piece
from museforge.models.music.theory import Key, instrument_program, parse_key, program_name

STYLES: dict[str, dict[str, Any]] = {
    # time signature, tempo (quarter notes per minute), instrument, drums, comping pattern,
    # bass line, melody rhythm (models/music/idioms.py)
    "lullaby": {"ts": (3, 4), "tempo": 66, "instrument": "Music Box", "drums": False,
                "comp": "sustain", "mood": "calm"},
    "waltz": {"ts": (3, 4), "tempo": 150, "instrument": "String Ensemble 1", "drums": True,
              "comp": "oom-pah-pah", "mood": "bright"},
    "march": {"ts": (2, 4), "tempo": 112, "instrument": "Trumpet", "drums": True,
              "comp": "beat", "bass": "oom-pah", "mood": "bright"},
    "jig": {"ts": (6, 8), "tempo": 170, "instrument": "Fiddle", "drums": True,
            "comp": "boom-chick", "mood": "happy", "rhythm": "jig"},
    "reel": {"ts": (4, 4), "tempo": 200, "instrument": "Fiddle", "drums": True,
             "comp": "boom-chick", "mood": "energetic", "rhythm": "reel"},
    "hornpipe": {"ts": (4, 4), "tempo": 150, "instrument": "Fiddle", "drums": True,
                 "comp": "boom-chick", "mood": "happy", "rhythm": "hornpipe"},
    "ambient": {"ts": (4, 4), "tempo": 68, "instrument": "Pad 2 (warm)", "drums": False,
                "comp": "sustain", "mood": "calm"},
    "rock": {"ts": (4, 4), "tempo": 124, "instrument": "Overdriven Guitar", "drums": True,
             "comp": "power", "bass": "eighths", "mood": "energetic"},
    "ballad": {"ts": (4, 4), "tempo": 72, "instrument": "Acoustic Grand Piano",
               "drums": False, "comp": "arpeggio", "mood": "tender"},
    "jazz": {"ts": (4, 4), "tempo": 132, "instrument": "Tenor Sax", "drums": True,
             "comp": "charleston", "bass": "walking", "mood": "bright", "rhythm": "swing",
             "harmony": "sevenths"},
    "folk": {"ts": (4, 4), "tempo": 100, "instrument": "Acoustic Guitar (nylon)",
             "drums": False, "comp": "arpeggio"},
}
# What each style's idiom is, as the reply says it.
IDIOMS = {"lullaby": "slow and soft", "waltz": "oom-pah-pah",
          "march": "a march drum figure over an oom-pah bass",
          "jig": "running eighths, six to the bar", "reel": "running eighths and sixteenths",
          "hornpipe": "dotted pairs", "ambient": "sustained chords",
          "rock": "power chords over driving eighths and a backbeat",
          "ballad": "broken chords", "jazz": "swung, seventh and ninth chords over a walking bass",
          "folk": "broken chords"}
assert set(IDIOMS) == set(STYLES)
# Other words for a style in a prompt ("a jazzy tune", "two reels").
STYLE_WORDS = {"jazzy": "jazz", "swing": "jazz", "bebop": "jazz", "jigs": "jig",
               "reels": "reel", "hornpipes": "hornpipe", "waltzes": "waltz",
               "marches": "march", "lullabies": "lullaby", "ballads": "ballad"}
MOODS: dict[str, dict[str, Any]] = {
    # mode, tempo factor, velocity, progressions (scale degrees, 0 = I)
    "calm": {"mode": "major", "tempo": 0.8, "velocity": 62},
    "peaceful": {"mode": "major", "tempo": 0.8, "velocity": 60},
    "tender": {"mode": "major", "tempo": 0.85, "velocity": 64},
    "happy": {"mode": "major", "tempo": 1.15, "velocity": 90},
    "bright": {"mode": "major", "tempo": 1.1, "velocity": 86},
    "energetic": {"mode": "major", "tempo": 1.25, "velocity": 104},
    "epic": {"mode": "minor", "tempo": 1.0, "velocity": 100},
    "sad": {"mode": "minor", "tempo": 0.8, "velocity": 60},
    "melancholic": {"mode": "minor", "tempo": 0.85, "velocity": 64},
    "dark": {"mode": "minor", "tempo": 0.9, "velocity": 80},
    "mysterious": {"mode": "minor", "tempo": 0.9, "velocity": 66},
    "tense": {"mode": "minor", "tempo": 1.1, "velocity": 92},
}
MOOD_WORDS = {"calm": "calm", "soothing": "calm", "relaxing": "calm", "quiet": "calm",
              "gentle": "tender", "soft": "tender", "peaceful": "peaceful", "serene": "peaceful",
              "happy": "happy", "cheerful": "happy", "joyful": "happy", "playful": "happy",
              "upbeat": "energetic", "energetic": "energetic", "fast": "energetic",
              "exciting": "energetic", "bright": "bright", "epic": "epic", "heroic": "epic",
              "sad": "sad", "melancholic": "melancholic", "melancholy": "melancholic",
              "wistful": "melancholic", "dark": "dark", "gloomy": "dark", "spooky": "mysterious",
              "mysterious": "mysterious", "eerie": "mysterious", "tense": "tense",
              "dramatic": "tense", "tender": "tender", "romantic": "tender"}
_SLOW_WORDS = {"slow", "slowly", "unhurried", "leisurely", "languid", "lazy", "adagio", "largo",
               "lento"}
_FAST_WORDS = {"fast", "quick", "brisk", "speedy", "rapid", "allegro", "presto", "vivace"}
PROGRESSIONS = {
    "major": [[0, 5, 3, 4], [0, 4, 5, 3], [0, 3, 4, 0], [0, 3, 0, 4], [5, 3, 0, 4]],
    "minor": [[0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 6], [0, 3, 6, 2], [0, 5, 3, 4]],
}
PARTS = ("melody", "chords", "bass", "drums")
CANDIDATES = 8  # melodies sampled per 2-bar window
RHYTHM_WEIGHT = 1.0  # a candidate all in its dance's rhythm outweighs a better chord fit
KICK, SNARE, HAT, RIDE, TAMB = 36, 38, 42, 51, 54


@dataclass
class ComposeRequest:
    prompt: str = ""
    mood: str | None = None
    key: str | None = None
    tempo: float | None = None
    bars: int = 8
    instrument: str | None = None
    time_signature: tuple[int, int] | None = None
    parts: list[str] | None = None
    style: str | None = None
    seed: int = 0
    temperature: float = 0.9
    # A person's first notes (beats from 0): the piece begins with exactly these, and the
    # model carries on from them; the chords are then chosen to fit the whole melody.
    start_with: list[Note] | None = None


@dataclass
class Plan:
    style: str | None
    mood: str
    key: Key
    tempo: float
    time_signature: tuple[int, int]
    bars: int
    program: int
    parts: list[str]
    progression: list[int] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """How long the piece lasts, its bars at its tempo (the last notes may stop a
        beat short of it, never past it): known before a note is written."""
        num, den = self.time_signature
        return self.bars * num * 4 / den * 60.0 / self.tempo


def plan(req: ComposeRequest) -> Plan:
    """Every choice the request leaves open, made from its words and the seed."""
    words = re.findall(r"[a-z]+", req.prompt.lower())
    why: dict[str, str] = {}
    style = req.style or next((w for w in words if w in STYLES), None) \
        or next((STYLE_WORDS[w] for w in words if w in STYLE_WORDS), None)
    s = STYLES.get(style or "", {})
    mood = req.mood or next((MOOD_WORDS[w] for w in words if w in MOOD_WORDS), None) \
        or s.get("mood") or "calm"
    if mood not in MOODS:
        mood = MOOD_WORDS.get(mood.lower(), "calm")
    m = MOODS[mood]
    rng = random.Random(req.seed)
    if req.key:
        key = parse_key(req.key)
    else:
        mode = "minor" if ("minor" in words or m["mode"] == "minor") and "major" not in words \
            else "major"
        tonic = rng.choice(["C", "G", "D", "F", "A"] if mode == "major" else ["A", "D", "E"])
        key = parse_key(f"{tonic} {mode}")
        why["key"] = f"{mood} → {mode}"
    ts = req.time_signature or s.get("ts") or (4, 4)
    # "slow", "brisk" said of the piece move its pace beside the style's or mood's
    pace = 0.8 if set(words) & _SLOW_WORDS else 1.2 if set(words) & _FAST_WORDS else 1.0
    tempo = req.tempo or round(s.get("tempo", 96) * (m["tempo"] if not style else 1.0) * pace)
    if not req.tempo:
        why["tempo"] = f"{style or mood}"
    program = _program(req.instrument, words, s)
    parts = list(req.parts or (["melody", "chords", "bass"] + (["drums"] if s.get("drums")
                                                               else [])))
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        raise MusicError(f"unknown part {unknown[0]!r}; choose among {', '.join(PARTS)}")
    if "melody" not in parts:
        parts.insert(0, "melody")
    bars = req.bars + (req.bars % 2)  # the model writes 2-bar phrases
    table = idioms.JAZZ_PROGRESSIONS if s.get("harmony") == "sevenths" else PROGRESSIONS
    progression = rng.choice(table["minor" if key.mode == "minor" else "major"])
    return Plan(style, mood, key, float(tempo), tuple(ts), bars, program, parts,  # type: ignore[arg-type]
                progression, why)


_NOT_INSTRUMENTS = {*PARTS, "bass", "lead", "pad", "voice", "choir", "kit", "music", "a", "the"}


def _program(name: str | None, words: list[str], s: dict[str, Any]) -> int:
    """The melody's GM program: as asked, else named in the prompt ("a music box
    lullaby", "solo violin"), else the style's."""
    if name:
        return instrument_program(name)
    for i, word in enumerate(words):
        for phrase in (" ".join(words[i:i + 2]), word):
            if phrase in _NOT_INSTRUMENTS:
                continue
            try:
                return instrument_program(phrase)
            except MusicError:
                continue
    return instrument_program(s.get("instrument", "Acoustic Grand Piano"))


def compose(req: ComposeRequest, model: MelodyModel, phrases: PhraseModel | None = None,
            ) -> MusicResult:
    """The piece ``req`` asks for. ``phrases``: the 16-bar phrase model, which writes
    the melody of a plain piece (no dance rhythm or jazz harmony) of 8 bars or more
    (``phrase_composer``); ``model`` writes the rest, and all of it without ``phrases``."""
    p = plan(req)
    beats_per_bar = p.time_signature[0] * 4 / p.time_signature[1]
    phrased: dict[str, Any] = {}
    if req.start_with:
        melody, altered, picked = _melody_from(p, req, model, beats_per_bar)
        p.progression = choose_degrees(melody, p.key, beats_per_bar, p.bars)
        chords = [_triad(p.key, d) for d in p.progression]
    elif phrases is not None and phrase_piece(p.bars, p.time_signature, style_of(p.style)):
        melody, altered, picked, phrased = phrase_melody(
            p, phrases, req.seed, beats_per_bar, MOODS[p.mood]["velocity"])
        p.progression = choose_degrees(melody, p.key, beats_per_bar, p.bars)
        chords = [_triad(p.key, d) for d in p.progression]
    else:
        sevenths = style_of(p.style).get("harmony") == "sevenths"
        chords = [_chord(p.key, p.progression[i % len(p.progression)], i, p.bars, sevenths)
                  for i in range(p.bars)]
        melody, altered, picked = _melody(p, chords, model, req, beats_per_bar)
        melody = _in_rhythm(melody, p, beats_per_bar)
    velocity = MOODS[p.mood]["velocity"]
    parts = [Part("melody", p.program, False, [n for n in melody if n.velocity])]
    parts += _accompany(chords, p.parts, p.style, p.time_signature, p.bars, velocity, p.key,
                        req.seed, 0 if p.program != 0 else 48)
    if req.start_with:
        parts = [parts[0], *under(parts[0].notes, parts[1:])]
    if style_of(p.style).get("rhythm") == "swing" and not req.start_with:
        # (a person's first notes are kept exactly as given, so a piece that starts
        # with them stays straight)
        parts = [part.copy(notes=idioms.swing(part.notes)) for part in parts]
    title = req.prompt.strip() or f"{p.mood} {p.style or 'piece'} in {p.key}"
    piece = Piece(parts, p.tempo, p.time_signature, str(p.key), title)
    recipe = {"style": p.style, "mood": p.mood, "key": str(p.key), "tempo": p.tempo,
              "time_signature": list(p.time_signature), "bars": p.bars,
              "instrument": program_name(p.program), "parts": p.parts,
              "progression": p.progression, "seed": req.seed,
              "temperature": req.temperature, "model": getattr(model, "name", "melody model"),
              "model_revision": getattr(model, "revision", None),
              "candidates_per_window": CANDIDATES, "picked": picked,
              "altered_share": round(altered, 4), "why": p.why}
    idiom = style_of(p.style)
    if idiom.get("rhythm") or idiom.get("harmony") or idiom.get("bass") == "walking":
        recipe["idiom"] = {"rhythm": idiom.get("rhythm"), "harmony": idiom.get("harmony"),
                           "near_corpus": not req.start_with
                           and idioms.idiom_latents(model, p.style) is not None}
    if req.start_with:
        recipe["started_with"] = len(req.start_with)
    recipe.update(phrased)
    return MusicResult(piece, recipe)



def style_of(style: str | None) -> dict[str, Any]:
    return STYLES.get(style or "", {})


def _chord(key: Key, degree: int, bar: int, bars: int, sevenths: bool = False) -> list[int]:
    """The triad on ``degree`` (0 = I) as pitch classes, or with ``sevenths`` its seventh
    chord (a ninth on the I and the ii); a cadence closes the piece."""
    if bar == bars - 1:
        degree = 0
    elif bar == bars - 2 and bars >= 4:
        degree = 4
    if sevenths:
        return idioms.seventh_chord(key, degree, ninth=degree in (0, 1))
    scale = key.scale
    pcs = [scale[(degree + i) % 7] for i in (0, 2, 4)]
    if key.mode == "minor" and degree == 4:  # the raised leading tone of harmonic minor
        pcs[1] = (pcs[1] + 1) % 12
    return pcs


def _melody(p: Plan, chords: list[list[int]], model: MelodyModel, req: ComposeRequest,
            beats_per_bar: float) -> tuple[list[Note], float, list[int]]:
    window = 2 * beats_per_bar
    out: list[Note] = []
    picked: list[int] = []
    altered = total = 0
    last: int | None = None
    near = idioms.idiom_latents(model, p.style)
    for w in range(p.bars // 2):
        if near is not None:
            candidates = idioms.sample_near(model, near, CANDIDATES, p.time_signature,
                                            req.temperature, req.seed * 1000 + w)
        else:
            candidates = model.sample(CANDIDATES, p.time_signature,
                                      temperature=req.temperature, seed=req.seed * 1000 + w)
        scored = []
        for i, cand in enumerate(candidates):
            if not cand:
                continue
            moved = _to_key(cand, p.key)
            bar_chords = chords[2 * w: 2 * w + 2]
            fit = _fit(moved, p.key, bar_chords, beats_per_bar, last) \
                + RHYTHM_WEIGHT * idioms.rhythm_score(moved, p.style, beats_per_bar)
            scored.append((fit, i, moved))
        if not scored:
            continue
        scored.sort(key=lambda t: (-t[0], t[1]))
        _, index, best = scored[0]
        picked.append(index)
        for n in best:
            total += 1
            pitch = n.pitch
            if not p.key.contains(pitch):
                pitch = _nearest_in_key(pitch, p.key)
                altered += 1
            out.append(Note(pitch, n.start + w * window, n.end + w * window, _accent(
                n.start, beats_per_bar, MOODS[p.mood]["velocity"])))
        last = out[-1].pitch if out else last
    if not out:
        raise MusicError("the melody model wrote no notes; try another seed")
    return out, altered / max(1, total), picked


def _to_key(notes: list[Note], key: Key) -> list[Note]:
    """The transposition (within a fifth either way) that puts most notes in the key, in a
    singing register around C5."""
    best = None
    for shift in range(-6, 6):
        inside = sum(key.contains(n.pitch + shift) for n in notes)
        centre = sum(n.pitch + shift for n in notes) / len(notes)
        score = (inside, -abs(centre - 71))
        if best is None or score > best[0]:
            best = (score, shift)
    assert best is not None
    shift = best[1]
    octave = round((71 - (sum(n.pitch for n in notes) / len(notes) + shift)) / 12) * 12
    return [Note(n.pitch + shift + octave, n.start, n.end, n.velocity) for n in notes]


def _fit(notes: list[Note], key: Key, chords: list[list[int]], beats_per_bar: float,
         last: int | None) -> float:
    """How well a 2-bar melody sits on its chords: chord tones on strong beats, notes in
    the key, a smooth join with the previous phrase."""
    score = 0.0
    for n in notes:
        bar = min(len(chords) - 1, int(n.start // beats_per_bar))
        strong = (n.start % 1.0) == 0.0
        if n.pitch % 12 in chords[bar]:
            score += 1.5 if strong else 0.5
        if not key.contains(n.pitch):
            score -= 2.0
    if last is not None:
        score -= abs(notes[0].pitch - last) / 4
    return score / max(1, len(notes))


def _nearest_in_key(pitch: int, key: Key) -> int:
    for step in (1, -1, 2, -2):
        if key.contains(pitch + step):
            return pitch + step
    return pitch


def _accent(start: float, beats_per_bar: float, velocity: int) -> int:
    if start % beats_per_bar == 0:
        return min(127, velocity + 10)
    return velocity if start % 1.0 == 0 else max(1, velocity - 8)


def _in_rhythm(melody: list[Note], p: Plan, bpb: float) -> list[Note]:
    """The melody in its dance's rhythm (models/music/idioms.py), accented again."""
    rhythm = style_of(p.style).get("rhythm")
    if rhythm not in idioms.DANCE_RHYTHMS:
        return melody
    velocity = MOODS[p.mood]["velocity"]
    return [Note(n.pitch, n.start, n.end, _accent(n.start, bpb, velocity))
            for n in idioms.apply_rhythm(melody, rhythm, p.key, bpb, p.bars)]


def _accompany(chords: list[list[int]], parts: list[str], style: str | None,
               ts: tuple[int, int], bars: int, velocity: int, key: Key, seed: int,
               chord_program: int) -> list[Part]:
    """Chords, bass and drums (those of ``parts``) in the style's patterns."""
    bpb = ts[0] * 4 / ts[1]
    s = style_of(style)
    out: list[Part] = []
    if "chords" in parts:
        out.append(Part("chords", chord_program, False,
                        _voicing(chords, bpb, s.get("comp", "sustain"), int(velocity * 0.7),
                                 compound=ts[1] == 8)))
    if "bass" in parts:
        bass_velocity = int(velocity * 0.85)
        if s.get("bass") == "walking":
            line = idioms.walking_bass(chords, bpb, bass_velocity, key, seed)
        else:
            line = _bass(chords, bpb, ts, bass_velocity, s.get("bass"))
        out.append(Part("bass", 32 if s.get("bass") == "walking" else 33, False, line))
    if "drums" in parts:
        out.append(Part("drums", 0, True, _drums(style, ts, bars, int(velocity * 0.8))))
    return out


def _voicing(chords: list[list[int]], bpb: float, comp: str, velocity: int,
             compound: bool = False) -> list[Note]:
    notes = []
    for bar, pcs in enumerate(chords):
        root = 48 + pcs[0]
        voiced = sorted({root, *(48 + pc + (12 if pc < pcs[0] else 0) for pc in pcs[1:3])})
        start = bar * bpb
        if comp == "sustain":
            notes += [Note(p, start, start + bpb, velocity) for p in voiced]
        elif comp == "oom-pah-pah":  # beats two and three (the bass has one)
            notes += [Note(p, start + b, start + b + 0.9, velocity) for b in range(1, int(bpb))
                      for p in voiced]
        elif comp == "boom-chick":  # off the pulses: 6/8's third and sixth eighths, 4/4's 2, 4
            offs = (1.0, 2.5) if compound else (1.0, 2.0) if bpb == 3 \
                else tuple(float(b) for b in range(1, int(bpb), 2))
            notes += [Note(p, start + b, start + b + 0.45, velocity) for b in offs
                      for p in voiced]
        elif comp == "eighths":
            notes += [Note(p, start + b / 2, start + b / 2 + 0.45, velocity)
                      for b in range(int(bpb * 2)) for p in voiced]
        elif comp == "power":  # root, fifth and octave in driving eighths
            power = [root, root + 7, root + 12]
            notes += [Note(p, start + b / 2, start + b / 2 + 0.45, velocity)
                      for b in range(int(bpb * 2)) for p in power]
        elif comp == "charleston":  # every chord tone, on one and on the and of two
            jazz = _stacked(pcs, root)
            notes += [Note(p, start + b, start + b + length, velocity)
                      for b, length in ((0.0, 1.2), (1.5, 0.5)) if b < bpb for p in jazz]
        elif comp == "arpeggio":
            pattern = voiced + [voiced[1] + 12 if len(voiced) > 1 else voiced[0]]
            steps = int(bpb * 2)
            notes += [Note(pattern[i % len(pattern)], start + i / 2, start + i / 2 + 0.5,
                           velocity) for i in range(steps)]
        else:  # "beat": a chord on every beat
            notes += [Note(p, start + b, start + b + 0.8, velocity) for b in range(int(bpb))
                      for p in voiced]
    return notes


def _stacked(pcs: list[int], root: int) -> list[int]:
    """The chord tones stacked upward from ``root`` in the order given (root, third,
    fifth, seventh, ninth), each the nearest above the one before."""
    out = [root]
    for pc in pcs[1:]:
        out.append(out[-1] + ((pc - out[-1]) % 12 or 12))
    return out


def _bass(chords: list[list[int]], bpb: float, ts: tuple[int, int], velocity: int,
          line: str | None = None) -> list[Note]:
    notes = []
    for bar, pcs in enumerate(chords):
        root, fifth = 36 + pcs[0], 36 + pcs[2] + (12 if pcs[2] < pcs[0] else 0)
        start = bar * bpb
        if line == "eighths":  # rock: the root, driven in eighths
            notes += [Note(root, start + i / 2, start + i / 2 + 0.45, velocity)
                      for i in range(int(bpb * 2))]
        elif line == "oom-pah" and ts[1] == 4:  # march: root and fifth, beat by beat
            notes += [Note(root if b % 2 == 0 else fifth, start + b, start + b + 0.8, velocity)
                      for b in range(int(bpb))]
        elif ts[0] % 3 == 0 and ts[1] == 4:  # 3/4: root on one
            notes.append(Note(root, start, start + 1, velocity))
        elif bpb >= 4:
            notes += [Note(root, start, start + 2, velocity),
                      Note(fifth, start + 2, start + 4, velocity)]
        else:  # 2/4, 6/8: root and fifth on the two main beats
            half = bpb / 2
            notes += [Note(root, start, start + half, velocity),
                      Note(fifth, start + half, start + bpb, velocity)]
    return notes


def _drums(style: str | None, ts: tuple[int, int], bars: int, velocity: int) -> list[Note]:
    bpb = ts[0] * 4 / ts[1]
    hits: list[tuple[int, float]] = []
    if style == "jazz" and ts[1] == 4:  # ride "ding, ding-a", hi-hat foot on two and four
        hits = [(RIDE, float(b)) for b in range(int(bpb))]
        hits += [(RIDE, b + 0.5) for b in range(1, int(bpb), 2)]
        hits += [(HAT, float(b)) for b in range(1, int(bpb), 2)]
    elif ts == (3, 4):
        hits = [(KICK, 0), (HAT, 1), (HAT, 2)]
    elif ts[1] == 8:  # 6/8: two dotted-quarter pulses
        hits = [(KICK, 0), (HAT, 0.5), (HAT, 1), (SNARE, 1.5), (HAT, 2), (HAT, 2.5)]
    elif style == "march" or ts == (2, 4):  # bass drum on the beats, the snare's figure
        hits = [(pitch, two + t) for two in range(0, int(bpb), 2)
                for pitch, t in ((KICK, 0), (SNARE, 0.5), (SNARE, 0.75), (KICK, 1),
                                 (SNARE, 1.5))]
    else:
        hits = [(KICK, 0), (SNARE, 1), (KICK, 2), (SNARE, 3)]
        hits += [(HAT, b / 2) for b in range(int(bpb * 2))]
    return [Note(pitch, bar * bpb + t, bar * bpb + t + 0.1,
                 velocity if pitch != HAT else int(velocity * 0.7))
            for bar in range(bars) for pitch, t in hits if t < bpb]


def describe(p: Plan) -> dict[str, Any]:
    return asdict(p)


# -- a person's melody: carried on, or harmonised as it is ---------------------------------

# Degrees tried for a bar, in the order a tie is settled (I, V, IV, vi, ii, iii).
_DEGREES = (0, 4, 3, 5, 1, 2)


def _triad(key: Key, degree: int) -> list[int]:
    scale = key.scale
    pcs = [scale[(degree + i) % 7] for i in (0, 2, 4)]
    if key.mode == "minor" and degree == 4:  # the raised leading tone of harmonic minor
        pcs[1] = (pcs[1] + 1) % 12
    return pcs


def choose_degrees(melody: list[Note], key: Key, beats_per_bar: float, bars: int) -> list[int]:
    """For each bar, the triad that holds most of the bar's melody (by duration, notes on
    the beat counted double), the tonic at the start and end and the dominant before the
    last bar winning a close call; an empty bar keeps the chord before it."""
    degrees: list[int] = []
    for bar in range(bars):
        lo, hi = bar * beats_per_bar, (bar + 1) * beats_per_bar
        heard = [(n, min(n.end, hi) - max(n.start, lo)) for n in melody
                 if n.start < hi - 1e-9 and n.end > lo + 1e-9]
        if not heard:
            degrees.append(degrees[-1] if degrees and bar < bars - 1 else 0)
            continue

        def score(degree: int, heard: list = heard, lo: float = lo, bar: int = bar) -> float:  # type: ignore[type-arg]
            pcs = _triad(key, degree)
            total = 0.0
            for n, length in heard:
                weight = length * (2.0 if (n.start - lo) % 1.0 == 0 and n.start >= lo else 1.0)
                total += weight if n.pitch % 12 in pcs else -0.5 * weight
            if degree == 0 and bar in (0, bars - 1):
                total += 0.75
            if degree == 4 and bar == bars - 2:
                total += 0.5
            return total

        degrees.append(max(_DEGREES, key=lambda d: (score(d), -_DEGREES.index(d))))
    return degrees


def under(melody: list[Note], parts: list[Part]) -> list[Part]:
    """``parts`` moved down by octaves until each sounds below the melody on average (a
    person's low melody keeps being the melody, for the ear and for the MIDI reader,
    which names the highest part the melody)."""
    if not melody:
        return parts
    top = sum(n.pitch for n in melody) / len(melody)
    out = []
    for part in parts:
        if part.is_drum or not part.notes:
            out.append(part)
            continue
        mean = sum(n.pitch for n in part.notes) / len(part.notes)
        shift = 0
        while mean + shift >= top - 2 and min(n.pitch for n in part.notes) + shift - 12 >= 12:
            shift -= 12
        out.append(part.copy(notes=[Note(n.pitch + shift, n.start, n.end, n.velocity)
                                    for n in part.notes]))
    return out


def accompaniment(melody: list[Note], key: Key, time_signature: tuple[int, int], bars: int,
                  parts: list[str], style: str | None, velocity: int
                  ) -> tuple[list[Part], list[int]]:
    """Chords, bass and drums (those of ``parts``) under ``melody``, the chords chosen to
    fit it bar by bar, in the style's comping pattern; and the chosen degrees."""
    bpb = time_signature[0] * 4 / time_signature[1]
    degrees = choose_degrees(melody, key, bpb, bars)
    if style_of(style).get("harmony") == "sevenths":
        chords = [idioms.seventh_chord(key, d, ninth=d in (0, 1)) for d in degrees]
    else:
        chords = [_triad(key, d) for d in degrees]
    out = _accompany(chords, parts, style, time_signature, bars, velocity, key, 0, 0)
    return under(melody, out), degrees


def _melody_from(p: Plan, req: ComposeRequest, model: MelodyModel, beats_per_bar: float
                 ) -> tuple[list[Note], float, list[int]]:
    """The person's notes exactly, then the model's continuation from them (moved into
    the model's range and back, its few notes outside the key nudged into it)."""
    given = sorted(req.start_with or [], key=lambda n: (n.start, n.pitch))
    end = max(n.end for n in given)
    given_bars = max(1, int(-(-round(end / beats_per_bar, 6) // 1)))
    if p.bars < given_bars + 2:
        p.bars = given_bars + 2 + (given_bars % 2)
    low, high = getattr(model, "pitch_range", (0, 127))
    centre = (min(n.pitch for n in given) + max(n.pitch for n in given)) / 2
    shift = 12 * round(((low + high) / 2 - centre) / 12)
    inside = [Note(min(high, max(low, n.pitch + shift)), n.start, n.end, n.velocity)
              for n in given]
    cont = model.continue_melody(inside, p.time_signature, p.bars - given_bars,  # type: ignore[attr-defined]
                                 seed=req.seed)
    out = list(given)
    altered = 0
    for n in cont.notes:
        pitch = n.pitch - shift
        if not p.key.contains(pitch):
            pitch = _nearest_in_key(pitch, p.key)
            altered += 1
        if 0 <= pitch <= 127 and n.start >= end - 1e-9:
            out.append(Note(pitch, n.start, n.end, _accent(n.start, beats_per_bar,
                                                           MOODS[p.mood]["velocity"])))
    return out, altered / max(1, len(cont.notes)), []
