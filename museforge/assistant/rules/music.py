"""Rules for the music tools: compose, edit (tempo, transpose, key, mode, instrument,
bars, humanize, quantize), vary, continue and interpolate, in the words people use
("a bit faster", "up a fourth", "in D minor", "play it on the violin", "keep going")."""

from __future__ import annotations

import re

from museforge.assistant import language
from museforge.assistant.planning import PlanContext, PlannedCall
from museforge.assistant.rules import Rule

I = re.IGNORECASE  # noqa: E741
NUM = "(" + language.NUMBER_PATTERN + ")"  # one group: the number
_MUSIC_NOUN = (r"(?:music|song|tune|melody|piece|track|lullaby|waltz|march|jig|reel|ballad|"
               r"score|theme|jingle|loop|composition|soundtrack|beat)s?")
STYLE_WORDS = ("lullaby", "waltz", "march", "jig", "reel", "ambient", "rock", "ballad", "folk")
MOODS = ("calm", "peaceful", "tender", "happy", "bright", "energetic", "epic", "sad",
         "melancholic", "dark", "mysterious", "tense", "gentle", "soft", "cheerful", "upbeat",
         "romantic", "dramatic", "spooky", "relaxing", "joyful", "gloomy", "heroic")
_KEY_RE = re.compile(r"\b(?:in\s+(?:the\s+key\s+of\s+)?|key\s+(?:of\s+)?|to\s+)?([A-G](?:#|b|♯|♭|"
                     r"\s+(?:sharp|flat))?)\s*(major|minor|m\b|maj\b|min\b)", re.I)
# Any number before "bpm": an absurd one reaches the tool's limits and is refused there.
_TEMPO_RE = re.compile(r"\b(?:at\s+)?(\d+(?:\.\d+)?)\s*(?:bpm|beats\s+per\s+minute)\b", re.I)
_BARS_RE = re.compile(r"\b" + NUM + r"\s+bars?\b", re.I)
_METER_RE = re.compile(r"\b(2/4|3/4|4/4|6/8)\b|\b(?:in\s+)?(three|3)[\s-]+(?:four|4)\s+time\b",
                       re.I)
_INSTRUMENTS = ("piano|grand piano|electric piano|violin|viola|cello|contrabass|double bass|"
                "strings|string ensemble|guitar|acoustic guitar|electric guitar|nylon guitar|"
                "flute|piccolo|recorder|clarinet|oboe|bassoon|saxophone|sax|trumpet|trombone|"
                "french horn|horn|tuba|harp|organ|church organ|accordion|harmonica|"
                "music box|celesta|glockenspiel|vibraphone|marimba|xylophone|synth|synthesizer|"
                "pad|synth pad|choir|voice|fiddle|banjo|sitar|kalimba|ocarina|pan flute|"
                "bagpipe|steel drums|bass guitar|electric bass|harpsichord")
_INSTRUMENT_RE = re.compile(r"\b(?:on|with|for|using|played\s+on|to|into|as)\s+(?:a|an|the)?\s*"
                            r"(" + _INSTRUMENTS + r")s?\b|\b(" + _INSTRUMENTS + r")\s+"
                            r"(?:piece|song|tune|melody|solo|music)\b|\b(?:make|turn)\b.*?\b"
                            r"(?:a|an)\s+(" + _INSTRUMENTS + r")s?\b", re.I)


_PLAY_ON_RE = re.compile(r"\bplay(?:ed)?\b.*?\bon\s+(?:a|an|the)\s+([a-z][\w()' -]*?)\s*$", re.I)


def _instrument_in(text: str) -> str | None:
    m = _INSTRUMENT_RE.search(text)
    if m:
        return next((g.lower() for g in m.groups() if g), None)
    # "play it on the violn": whatever is named is passed on; the tool suggests the
    # closest General MIDI name when it is not one.
    m = _PLAY_ON_RE.search(text)
    return m.group(1).lower() if m else None


def kind_of(ref: str, context: PlanContext) -> str | None:
    """The kind of an artwork a request names, as far as the planner knows it."""
    known = {b.number: b.kind for b in [*context.recent, *context.focus]}
    explicit = language.explicit_refs(ref)
    if explicit:
        return known.get(int(explicit[0][1:].split()[0]))
    if ref.lower() in ("it", "that", "this", "that one", "this one") and context.focus:
        kinds = {b.kind for b in context.focus}
        return kinds.pop() if len(kinds) == 1 else None
    return None


# -- compose --------------------------------------------------------------------------------

_COMPOSE = re.compile(
    r"^(?:please\s+)?(?:compose|write|make|create|generate|play|give)\s+(?:me\s+|us\s+)?"
    r"(?!(?:a|an|the)\s+(?:picture|image|painting|drawing|photo|poster|scene)\b)"
    r"(?:.*\b" + _MUSIC_NOUN + r"\b|something\b)|^(?:please\s+)?compose\b(?!.*\b(?:picture|"
    r"image|painting|drawing|photo|poster|scene)\b)", re.I)


_SEED_RE = re.compile(r",?\s*\b(?:with\s+)?seed\s*(?:=|:|of|#)?\s*(\d{1,10})\b", re.I)


def _compose(text: str, context: PlanContext) -> list[PlannedCall]:
    args: dict[str, object] = {}
    seed = _SEED_RE.search(text)
    if seed:
        args["seed"] = int(seed.group(1))
        text = _SEED_RE.sub(" ", text)
    m = re.search(r"\b(?:that\s+(?:fits|matches|goes\s+with|suits)|to\s+(?:fit|match|go\s+with|"
                  r"suit)|inspired\s+by|for)\s+(it|that|this|#\s*\d+(?:\s*v\s*\d+)?|the\s+"
                  r"(?:picture|image|painting|last\s+one|one\s+with\s+[\w\s]+?))\b(.*)$", text, I)
    if m and (m.group(1).startswith("#") or m.group(1).lower() in ("it", "that", "this")
              or "picture" in m.group(1) or "image" in m.group(1) or "one" in m.group(1)):
        args["inspired_by"] = language.natural_ref(m.group(1)) or m.group(1)
        text = text[: m.start()] + " " + m.group(2)
    key = _KEY_RE.search(text)
    if key:
        args["key"] = f"{key.group(1)} {_mode_word(key.group(2))}"
    tempo = _TEMPO_RE.search(text)
    if tempo:
        args["tempo"] = float(tempo.group(1))
    bars = _BARS_RE.search(text)
    if bars and language.to_number(bars.group(1)):
        args["bars"] = int(language.to_number(bars.group(1)) or 8)
    meter = _METER_RE.search(text)
    if meter:
        args["time_signature"] = meter.group(1) or "3/4"
    inst = _instrument_in(text)
    if inst:
        args["instrument"] = inst
    low = text.lower()
    style = next((s for s in STYLE_WORDS if re.search(rf"\b{s}s?\b", low)), None)
    if style:
        args["style"] = style
    mood = next((w for w in MOODS if re.search(rf"\b{w}\b", low)), None)
    if mood:
        args["mood"] = mood
    parts = _parts(low)
    if parts:
        args["parts"] = parts
    prompt = re.sub(r"^(?:please\s+)?(?:compose|write|make|create|generate|play|give)\s+"
                    r"(?:me\s+|us\s+)?", "", text.strip(), flags=I)
    prompt = " ".join(prompt.strip(" ,.;").split()) or "a piece of music"
    return [PlannedCall("compose_music", {"prompt": prompt, **args})]


def _mode_word(word: str) -> str:
    return "minor" if word.lower().startswith("m") and word.lower() != "major" \
        and word.lower() != "maj" else "major"


def _parts(low: str) -> list[str] | None:
    parts = ["melody", "chords", "bass"]
    wants_drums = re.search(r"\bwith\s+(?:some\s+)?(?:drums|percussion|a\s+beat)\b", low)
    no = {p for p in ("drums", "bass", "chords")
          if re.search(rf"\b(?:without|no)\s+(?:the\s+)?{p}\b", low)}
    if re.search(r"\b(?:melody\s+only|only\s+(?:the\s+)?melody|solo|unaccompanied|just\s+"
                 r"(?:a|the)\s+melody)\b", low):
        return ["melody"]
    if not wants_drums and not no:
        return None
    if wants_drums:
        parts.append("drums")
    return [p for p in parts if p not in no]


# -- edits ----------------------------------------------------------------------------------

_INTERVALS = {"semitone": 1, "half step": 1, "half-step": 1, "tone": 2, "whole step": 2,
              "whole tone": 2, "minor third": 3, "major third": 4, "third": 4, "fourth": 5,
              "tritone": 6, "fifth": 7, "sixth": 9, "seventh": 11, "octave": 12}
_FASTER = re.compile(r"\b(faster|quicker|speed\s+(?:it\s+)?up|more\s+tempo|up\s*tempo|pick\s+up\s+"
                     r"the\s+pace|slower|slow\s+(?:it\s+)?down|more\s+slowly|less\s+fast|"
                     r"half[\s-]time|double[\s-]time|twice\s+as\s+(?:fast|slow))\b", I)
_TRANSPOSE = re.compile(r"\b(transpose|shift|move|raise|lower|pitch|up|down)\b.*?\b(semitones?|"
                        r"half[\s-]steps?|tones?|whole\s+(?:steps?|tones?)|thirds?|fourths?|"
                        r"fifths?|sixths?|sevenths?|octaves?|tritone|[+-]\s*\d+)\b|"
                        r"\btranspose\b", I)
_MODE = re.compile(r"\b(?:(?:make|switch|change|turn|put|flip)\b[^.;]*?\b|in\s+(?:a\s+)?)"
                   r"(major|minor)(?!\s+(?:second|third|sixth|seventh))\b", I)
_KEY_CHANGE = re.compile(r"\b(?:in|to|into)\s+(?:the\s+key\s+of\s+)?[A-G](?:#|b|♯|♭)?\s*"
                         r"(?:major|minor|m)\b|\bkey\b", I)
_INSTR_CHANGE = re.compile(r"\b(?:play|switch|change|swap|give|put|use|make|turn|on\s+(?:a|an|"
                           r"the)|with\s+(?:a|an|the))\b.*\b(?:" + _INSTRUMENTS + r")s?\b|"
                           r"\bplay(?:ed)?\b.*?\bon\s+(?:a|an|the)\s+\w+", I)
_LENGTH = re.compile(r"\b(?:make|trim|cut|shorten|loop|lengthen|set|limit)\b.*?\b(?:to\s+)?" +
                     NUM + r"\s+bars?(?:\s+long)?\b(?!.*\bmore\b)", I)
_SET_TEMPO = re.compile(r"\b\d{2,3}\s*(?:bpm|beats\s+per\s+minute)\b|\btempo\b", I)
_HUMANIZE = re.compile(r"\b(humani[sz]e|looser|less\s+robotic|more\s+human|swing\s+it|"
                       r"quanti[sz]e|tighten|tighter|on\s+the\s+grid|snap\s+to)\b", I)


def _edit(text: str, context: PlanContext) -> list[PlannedCall]:
    low = text.lower()
    args: dict[str, object] = {}
    scale = 1.0
    if re.search(r"\b(?:a\s+(?:tiny\s+)?bit|slightly|a\s+little|a\s+touch|a\s+tad)\b", low):
        scale = 0.5
    elif re.search(r"\b(?:much|a\s+lot|way|far|really|very)\b", low):
        scale = 2.5
    if re.search(r"\bdouble[\s-]time|twice\s+as\s+fast\b", low):
        args["tempo_scale"] = 2.0
    elif re.search(r"\bhalf[\s-]time|twice\s+as\s+slow\b", low):
        args["tempo_scale"] = 0.5
    elif re.search(r"\b(faster|quicker|speed\s+(?:it\s+)?up|up\s*tempo|pick\s+up)", low):
        args["tempo_scale"] = round(1 + 0.2 * scale, 2)
    elif re.search(r"\b(slower|slow\s+(?:it\s+)?down|more\s+slowly|less\s+fast)", low):
        args["tempo_scale"] = round(1 / (1 + 0.2 * scale), 2)
    tempo = _TEMPO_RE.search(text)
    if tempo:
        args.pop("tempo_scale", None)
        args["tempo"] = float(tempo.group(1))
    semis = _semitones(low)
    if semis:
        args["transpose"] = semis
    key = _KEY_RE.search(text)
    if key and re.search(r"\b(?:in|to|into|key)\b", low):
        args["key"] = f"{key.group(1)} {_mode_word(key.group(2))}"
    else:
        mode = _MODE.search(text)
        if mode:
            args["mode"] = mode.group(1).lower()
    inst = _instrument_in(text)
    if inst and _INSTR_CHANGE.search(text):
        args["instrument"] = inst
        part = re.search(r"\b(?:the\s+)?(melody|chords|bass|tune)\b(?!\s+guitar)", low)
        if part and part.group(1) != "tune":
            args["part"] = part.group(1)
    length = _LENGTH.search(text)
    if length and language.to_number(length.group(1)):
        args["bars"] = int(language.to_number(length.group(1)) or 8)
    if re.search(r"\b(humani[sz]e|looser|less\s+robotic|more\s+human|swing\s+it)\b", low):
        args["humanize"] = 0.5 if scale == 1.0 else min(1.0, 0.5 * scale)
    if re.search(r"\b(quanti[sz]e|tighten|tighter|on\s+the\s+grid|snap\s+to)\b", low):
        grid = re.search(r"\b(quarters?|eighths?|sixteenths?|thirty[\s-]?seconds?|1/4|1/8|1/16|"
                         r"1/32)\b", low)
        names = {"quarter": "1/4", "eighth": "1/8", "sixteenth": "1/16", "thirty": "1/32"}
        g = grid.group(1) if grid else "1/16"
        args["quantize"] = next((v for k, v in names.items() if g.startswith(k)), g)
    if not args:
        return []
    cleaned = re.sub(r"\b\d+\s*(?:bpm|bars?|semitones?)\b|[+-]\s*\d+", " ", text)
    ref = language.natural_ref(cleaned) or "it"
    return [PlannedCall("edit_music", {"artwork": ref, **args})]


def _semitones(low: str) -> int:
    low = re.sub(r"#\s*\d+(?:\s*v\s*\d+)?", " ", low)
    down = re.search(r"\b(down|lower|lower\s+it|decrease|minus)\b", low) is not None
    m = re.search(r"(?:transpose|shift|move|up|down|raise|lower|by|pitch)\D{0,20}?([+-]?\s*\d+)"
                  r"\s*(?:semitones?|half[\s-]steps?|st\b)?", low)
    if m and not re.search(r"\d+\s*(?:bpm|bars?|%)", low[m.start():m.end() + 6]):
        value = int(m.group(1).replace(" ", ""))
        if re.search(r"\b(tones?|whole\s+steps?)\b", low) and "semitone" not in low:
            value *= 2
        return -abs(value) if down and value > 0 else value
    m = re.search(r"(?:\b" + NUM + r"\s+)?(semitones?|half[\s-]steps?|whole\s+(?:steps?|tones?)|"
                  r"minor\s+thirds?|major\s+thirds?|thirds?|fourths?|tritone|fifths?|sixths?|"
                  r"sevenths?|octaves?|tones?)\b", low)
    if not m or not re.search(r"\b(transpose|shift|move|up|down|raise|lower|pitch)\b", low):
        return 0
    count = language.to_number(m.group(1)) if m.group(1) else 1
    unit = m.group(2).rstrip("s").replace("-", " ")
    value = int((count or 1) * _INTERVALS.get(unit, _INTERVALS.get(unit.split()[-1], 1)))
    return -value if down else value


# -- vary, continue, interpolate -----------------------------------------------------------

_VARY = re.compile(r"\b(variations?|variants?|vary|riff\s+on|remix|re-?imagine|"
                   r"another\s+take)\b", I)


def _vary(text: str, context: PlanContext) -> list[PlannedCall]:
    ref = language.natural_ref(re.sub(r"\b(?:variations?|variants?)\b", " ", text, flags=I)) \
        or "it"
    if kind_of(ref, context) != "music" and not re.search(_MUSIC_NOUN, text, I):
        return []  # a picture: the image rules take it
    low = text.lower()
    amount = 0.6 if re.search(r"\b(strong|wild|big|bold|a\s+lot|very\s+different|radical)\b",
                              low) else 0.3
    args: dict[str, object] = {"artwork": ref, "amount": amount}
    m = re.search(r"\b" + NUM + r"\s+(?:variations?|variants?|versions?)\b", low)
    if m and (language.to_number(m.group(1)) or 1) > 1:
        args["count"] = min(4, int(language.to_number(m.group(1)) or 1))
    return [PlannedCall("vary_music", args)]


_CONTINUE = re.compile(r"\b(continue|keep\s+going|extend(?!\s+(?:the\s+)?(?:canvas|frame|picture|"
                       r"image|scene|borders?))|carry\s+on|go\s+on|longer|"
                       r"add\s+(?:" + NUM + r"\s+)?(?:more\s+)?bars?|more\s+bars|develop\s+it"
                       r"|what\s+comes\s+next)\b", I)


def _continue(text: str, context: PlanContext) -> list[PlannedCall]:
    ref = language.natural_ref(re.sub(r"\b\d+\s+(?:more\s+)?bars?\b", " ", text)) or "it"
    if kind_of(ref, context) == "image":
        return []
    low = text.lower()
    m = re.search(r"\b" + NUM + r"\s+(?:more\s+)?bars?\b", low)
    bars = int(language.to_number(m.group(1)) or 4) if m else 4
    return [PlannedCall("continue_music", {"artwork": ref, "bars": max(2, min(32, bars))})]


_INTERPOLATE = re.compile(r"\b(interpolate|morph|transition|crossfade|blend|mix|merge|"
                          r"in\s+between|halfway\s+between|from\s+#\d+\s+to\s+#\d+)\b", I)


def _interpolate(text: str, context: PlanContext) -> list[PlannedCall]:
    refs = language.explicit_refs(text)
    if len(refs) < 2:
        if not re.search(r"\b(the\s+two|both|them|the\s+last\s+two)\b", text, I):
            return []
        musics = [b.number for b in context.recent if b.kind == "music"][-2:]
        if len(musics) < 2:
            return []
        refs = [f"#{musics[0]}", f"#{musics[1]}"]
    if not all(kind_of(r, context) == "music" for r in refs[:2]):
        return []  # two pictures: blend_images
    m = re.search(r"\b(?:in\s+)?" + NUM + r"\s+steps?\b", text, I)
    args: dict[str, object] = {"artwork_a": refs[0], "artwork_b": refs[1]}
    if m and language.to_number(m.group(1)):
        args["steps"] = max(1, min(8, int(language.to_number(m.group(1)) or 4)))
    return [PlannedCall("interpolate_music", args)]


_STARTS = re.compile(r"^(?:please\s+)?(?:compose|write|play|transpose|speed|slow|make\s+it\s+"
                     r"(?:faster|slower)|continue|extend|keep\s+going|morph|interpolate|"
                     r"humani[sz]e|quanti[sz]e)\b", I)

RULES = [
    Rule("interpolate_music", _INTERPOLATE, _interpolate, priority=9, starts=_STARTS),
    Rule("vary_music", _VARY, _vary, priority=9, starts=_STARTS),
    Rule("compose_music", _COMPOSE, _compose, priority=6, starts=_STARTS),
    Rule("edit_music", _FASTER, _edit, priority=6, starts=_STARTS),
    Rule("edit_music", _TRANSPOSE, _edit, priority=6, starts=_STARTS),
    Rule("edit_music", _MODE, _edit, priority=6, starts=_STARTS),
    Rule("edit_music", _KEY_CHANGE, _edit, priority=6, starts=_STARTS),
    Rule("edit_music", _HUMANIZE, _edit, priority=6, starts=_STARTS),
    Rule("edit_music", _LENGTH, _edit, priority=6, starts=_STARTS),
    Rule("continue_music", _CONTINUE, _continue, priority=6, starts=_STARTS),
    Rule("edit_music", _SET_TEMPO, _edit, priority=5, starts=_STARTS),
    Rule("edit_music", _INSTR_CHANGE, _edit, priority=3, starts=_STARTS),
]
