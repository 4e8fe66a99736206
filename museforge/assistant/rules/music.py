"""Rules for the music tools: compose, edit (tempo, transpose, key, mode, instrument,
bars, humanize, quantize), vary, continue and interpolate, in the words people use
("a bit faster", "up a fourth", "in D minor", "play it on the violin", "keep going")."""

from __future__ import annotations

import re
from functools import lru_cache

from museforge.assistant import language
from museforge.assistant.planning import PlanContext, PlannedCall
from museforge.assistant.rules import Rule

I = re.IGNORECASE  # noqa: E741
NUM = "(" + language.NUMBER_PATTERN + ")"  # one group: the number
_MUSIC_NOUN = (r"(?:music|song|tune|melody|piece|track|lullaby|waltz|march|jig|reel|ballad|"
               r"score|theme|jingle|loop|composition|soundtrack|beat)s?")
STYLE_WORDS = ("lullaby", "waltz", "march", "jig", "reel", "hornpipe", "ambient", "rock", "ballad",
               "jazz", "folk")
_STYLE_ALIASES = {"jazzy": "jazz", "bebop": "jazz", "swing": "jazz", "swingy": "jazz"}
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
# Instrument words that also mean something else: only "on the X" / "for X" / "X solo".
_AMBIGUOUS_INSTRUMENTS = {"vibes", "keys", "lead", "pad", "bottle", "tom", "voice", "bells",
                          "chimes",
                          "horn", "bass", "strings", "orchestra", "tremolo", "sawtooth",
                          "8-bit", "chiptune", "oohs", "aahs", "synth", "square lead",
                          "saw lead", "vocals", "choir", "seashore", "helicopter", "applause",
                          "gunshot", "telephone ring", "breath noise", "rain", "atmosphere",
                          "goblins", "echoes", "soundtrack", "crystal", "ice rain", "brightness",
                          "fifths", "sweep", "halo", "bowed", "metallic", "space voice",
                          "reverse cymbal", "guitar fret noise", "bird tweet", "agogo", "warm"}


@lru_cache(maxsize=1)
def _instrument_names() -> frozenset[str]:
    """Every instrument name the tool accepts, as people write it (lower case)."""
    from museforge.models.music.base import MusicError
    from museforge.models.music.theory import GM_PROGRAMS, INSTRUMENT_ALIASES, instrument_program

    names = set(INSTRUMENT_ALIASES)
    for gm in GM_PROGRAMS:
        words = re.sub(r"[^a-z0-9 ]+", " ", gm.lower()).split()
        for n in range(1, len(words) + 1):
            for i in range(len(words) - n + 1):
                names.add(" ".join(words[i:i + n]))
    good = set()
    for name in names:
        try:
            instrument_program(name)
        except (MusicError, ValueError):
            continue
        if not name.isdigit() and len(name) > 2:
            good.add(name)
    good |= {"whistle", "tin whistle", "steelpan", "steel pan", "steel drums", "bagpipes",
             "church organ", "upright bass", "spanish guitar", "pizzicato strings"}
    return frozenset(good)


def _instrument_in(text: str) -> str | None:
    """The instrument a request names (the longest name found); ambiguous words like
    "bass" or "keys" only after "on"/"for"/"with" or before "solo". "instead of the
    piano" names the one being replaced, not the new one."""
    text = re.sub(r"\b(?:instead\s+of|rather\s+than|not\s+(?:on\s+)?(?:the\s+)?|from\s+(?:the\s+)?)"
                  r"\s*(?:the\s+|a\s+)?[a-z]+(?:\s+[a-z]+)?(?=\s*(?:,|to\b|$))", " ", text,
                  flags=re.I)
    names = _instrument_names()
    label = re.search(r"\binstrument\s*[:=]\s*([a-z][a-z0-9 -]*?)\s*(?:[,;.]|$)", text, re.I)
    if label and (label.group(1).lower() in names or label.group(1).lower().rstrip("s") in names):
        return label.group(1).lower()  # "instrument: vibraphone"
    words = re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)?", text.lower())
    best: tuple[int, int, str] | None = None
    for n in (3, 2, 1):
        for i in range(len(words) - n + 1):
            phrase = " ".join(words[i:i + n])
            candidates = [phrase, phrase[:-1]] if phrase.endswith("s") else [phrase]
            candidates += [c.replace("-", " ") for c in candidates if "-" in c]  # hurdy-gurdy
            hit = next((c for c in candidates if c in names), None)
            if hit is None:
                continue
            if hit in _AMBIGUOUS_INSTRUMENTS:
                before = words[max(0, i - 2):i]
                after = words[i + n:i + n + 1]
                if not (set(before) & {"on", "for", "with", "using", "to"} or
                        after in (["solo"], ["melody"], ["line"])) or \
                        words[i - 1:i] in (["my"], ["your"], ["our"], ["his"], ["her"]):
                    continue  # "for my voice" is the person singing, not an instrument
            if words[i + n:i + n + 1] in (["line"], ["part"], ["drum"], ["notes"]):
                continue
            if best is None or n > best[0]:
                best = (n, i, hit)
        if best:
            break
    if best:
        return best[2]
    typo = _misspelt_instrument(words)
    if typo:
        return typo
    m = _PLAY_ON_RE.search(text)
    return m.group(1).lower() if m else None


_SLOT_BEFORE = {"on", "for", "with", "using"}
_SLOT_AFTER = {"solo", "melody", "tune", "piece", "song", "music", "duet"}


def _misspelt_instrument(words: list[str]) -> str | None:
    """"slow on the celo", "a kalimaba melody": a word where an instrument goes ("on the
    X", "for X", "X melody") that is no English word and is one typo from exactly one
    instrument name is that instrument."""
    from museforge.assistant.spelling import closest, english

    names = frozenset(n for n in _instrument_names() if " " not in n and len(n) >= 4)
    for i, word in enumerate(words):
        slot = bool(set(words[max(0, i - 2):i]) & _SLOT_BEFORE) or \
            words[i + 1:i + 2] and words[i + 1] in _SLOT_AFTER
        if not slot or len(word) < 4 or word in english() or not word.isalpha():
            continue
        hit = closest(word, names)
        if hit and hit not in _AMBIGUOUS_INSTRUMENTS:
            return hit
    return None


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


# -- slots said anywhere in a sentence -----------------------------------------------------

_MODES = r"(?:major|minor|maj|min|dorian|mixolydian|lydian|phrygian|aeolian|ionian|locrian)"
_LETTER = r"([A-G](?:#|b|♯|♭|\s+(?:sharp|flat))?)"
_KEY_FULL = re.compile(r"(?<![\w'])" + _LETTER + r"\s*-?\s*(" + _MODES + r"|m)(?![\w'])", re.I)
_KEY_BARE = re.compile(r"\b(?:in|key(?:\s+of)?|key:|to)\s+" + _LETTER + r"(?![\w#♯♭'-])"
                       r"(?!\s*(?:minor|major|min|maj|m)\b)")
_CHORD_KEY = re.compile(r"\b([A-G](?:#|b)?)(m)\b")  # "c#m", "Am"
_GENERIC_MODE = re.compile(r"\b(?:(?:a|some|any)\s+)?(minor|major)(?:[\s-]+key|\s+mode)\b|"
                           r"\bin\s+(?:the\s+)?(minor|major)\b(?!\s+(?:second|third|sixth|"
                           r"seventh))", re.I)


def key_in(text: str) -> str | None:
    """"in D minor", "D dorian", "key of G", "in Bb", "c#m" -> "D minor"...; a bare letter
    is major. "a minor key" is a mode, not A minor (see ``generic_mode``)."""
    for m in _KEY_FULL.finditer(text):
        letter, mode = m.group(1), m.group(2).lower()
        after = text[m.end():m.end() + 6].lower()
        if letter.islower() and (after.startswith((" key", "-key")) or
                                 letter == "a" and re.match(r"\s*(?:key|mode|chord)", after)):
            continue  # "a minor key"
        if letter.islower() and letter != "a" and letter != "b" and mode in ("m",):
            continue
        if letter.lower() == "a" and letter.islower() and not re.search(
                r"\b(?:in|key\s+of|to)\s+a\s+" + re.escape(m.group(2)), text, re.I):
            continue  # "a minor tune": an article
        mode = "minor" if mode in ("m", "min") else "major" if mode == "maj" else mode
        tonic = letter[0].upper() + letter[1:].replace(" sharp", "#").replace(" flat", "b")
        return f"{tonic} {mode}"
    bare = _KEY_BARE.search(text) or re.search(r"(?:^|,\s*)([A-G](?:b|#)?)\s*(?=,|$)", text)
    if bare:
        letter = bare.group(1).replace(" sharp", "#").replace(" flat", "b")
        mode = re.search(r"\b(dorian|mixolydian|lydian|phrygian|locrian|aeolian|ionian)\b", text,
                         re.I)
        return f"{letter} {mode.group(1).lower() if mode else 'major'}"
    return None


def generic_mode(text: str) -> str | None:
    """"in a minor key", "minor-key", "in minor": the mode without a tonic."""
    m = _GENERIC_MODE.search(text)
    if m and not re.search(r"\b(?:in|key\s+of|to)\s+A\s+(?:minor|major)\b(?!\s+key)", text):
        return (m.group(1) or m.group(2)).lower()
    return None


_TEMPO_FORMS = [
    re.compile(r"\b(\d+(?:\.\d+)?)\s*-?\s*(?:bpm|bmp|b\.p\.m\.?|beats?\s+(?:per|a|an)\s+"
               r"minute)\b", re.I),
    re.compile(r"(?:♩|crotchet|quarter(?:[\s-]+note)?|tempo|bpm|metronome|mm)\s*(?:=|:|-|of|is|"
               r"at|to)?\s*(?:about\s+|around\s+)?(\d{2,3}(?:\.\d+)?)\b", re.I),
    re.compile(r"\b(?:tempo|bpm|speed)\b(?:\s+[a-z#\d]+){0,3}?\s+(?:to|at|=)\s+(?:about\s+|around\s+)?"
               r"(\d{2,3}(?:\.\d+)?)\b", re.I),
    re.compile(r"\b(?:slow|speed|bring|drop|take|set|put|push|pull|play)\w*\b.{0,30}?\b(?:to|at)\s+"
               r"(?:about\s+|around\s+|roughly\s+)?(\d{2,3})\b(?!\s*(?:bars?|%|semitones?|x\b|times))",
               re.I),
    re.compile(r"\b(?:pace|tempo)\b.{0,20}?\b(?:about|around|roughly)\s+(\d{2,3})\b", re.I),
    re.compile(r"\b(?:at|like|around|about|roughly)\s+(\d{2,3})\b(?!\s*(?:bars?|measures?|%|"
               r"semitones?|px|pixels?|degrees?|°|x\b|times|steps|seconds?|minutes?|years?))",
               re.I),
]


def tempo_in(text: str) -> float | None:
    for form in _TEMPO_FORMS:
        m = form.search(text)
        if m:
            return float(m.group(1))
    words = (r"(?:one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|"
             r"sixty|seventy|eighty|ninety|hundred|and|a|[\s-])+")
    m = re.search(r"\b(" + words + r")\s*(?:bpm|beats?\s+(?:per|a)\s+minute)\b", text, re.I)
    if m:
        return _words_number(m.group(1))
    return None


def _words_number(phrase: str) -> float | None:
    words = phrase.lower().replace("-", " ").split()
    total = 0
    if words and words[0] in ("a", "one") and len(words) > 1 and words[1] == "hundred":
        words = words[1:]
    if words and words[0] == "hundred":
        total, words = 100, [w for w in words[1:] if w != "and"]
    rest = language.to_number(" ".join(words)) if words else 0
    if rest is None:
        return None
    value = total + float(rest)
    return value if value >= 20 else None


_METER_WORDS = [
    (r"\b(2/4|3/4|4/4|6/8)\b", None),
    (r"\bwaltz[\s-]+time\b|\b(?:three|3)[\s-]+(?:four|4)\b(?:\s+time)?|\bin\s+three\b", "3/4"),
    (r"\bcommon\s+time\b|\b(?:four|4)[\s-]+(?:four|4)\b(?:\s+time)?", "4/4"),
    (r"\b(?:six|6)[\s-]+(?:eight|8)\b(?:\s+time)?|\bcompound\s+duple\b|\bjig\s+time\b", "6/8"),
    (r"\b(?:two|2)[\s-]+(?:four|4)\b(?:\s+time)?|\bmarch\s+time\b", "2/4"),
]


def meter_in(text: str) -> str | None:
    for pattern, meter in _METER_WORDS:
        m = re.search(pattern, text, re.I)
        if m:
            return meter or m.group(1)
    return None


def bars_in(text: str) -> int | None:
    m = re.search(r"\b" + NUM + r"[\s-]+(?:bars?|measures?)\b", text, re.I)
    if m:
        value = language.to_number(m.group(1))
        return int(value) if value else None
    return None


MOOD_LIST = (
    "calm", "peaceful", "tender", "happy", "bright", "energetic", "epic", "sad", "melancholic",
    "melancholy", "dark", "mysterious", "tense", "gentle", "soft", "cheerful", "upbeat",
    "romantic", "dramatic", "spooky", "relaxing", "relaxed", "joyful", "gloomy", "heroic",
    "playful", "grumpy", "sneaky", "grand", "silly", "meditative", "dreamy", "wistful",
    "nostalgic", "hopeful", "triumphant", "somber", "sombre", "mournful", "eerie", "serene",
    "soothing", "lively", "bouncy", "jolly", "angry", "anxious", "majestic", "quirky",
    "whimsical", "haunting", "uplifting", "moody", "chill", "cozy", "cosy", "festive",
    "funky", "groovy", "aggressive", "ominous", "lonely", "sleepy", "brooding", "bittersweet",
    "carefree", "fierce", "mellow", "exciting", "quiet", "joyous", "sentimental", "reflective",
    "contemplative", "solemn", "stately", "tranquil", "intense", "cheeky", "pensive",
)


def mood_in(text: str) -> str | None:
    low = text.lower()
    found = [(m.start(), w) for w in MOOD_LIST for m in [re.search(rf"\b{w}\b", low)] if m]
    return min(found)[1] if found else None


# -- compose --------------------------------------------------------------------------------

_COMPOSE = re.compile(
    r"^(?:please\s+)?(?:compose|write|make|create|generate|play|give)\s+(?:me\s+|us\s+)?"
    r"(?!(?:a|an|the)\s+(?:picture|image|painting|drawing|photo|poster|scene)\b)"
    r"(?:.*\b" + _MUSIC_NOUN + r"\b|something\b)|^(?:please\s+)?compose\b(?!.*\b(?:picture|"
    r"image|painting|drawing|photo|poster|scene)\b)", re.I)


_SEED_RE = re.compile(r",?\s*\b(?:with\s+|using\s+)?(?:the\s+|a\s+)?seed\s*(?:=|:|of|#|"
                      r"set\s+to|is|number)?\s*(\d{1,10})\b", re.I)


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
    from museforge.assistant.rules import styles

    taught = styles.learnt_style_in(text)
    if taught:  # "a jig in my Aird style": the style the person taught, and still a jig
        args["learnt_style"] = taught
        text = styles.MY_OWN.sub(" ", styles.IN_MY_STYLE.sub(" ", text))
    if "inspired_by" not in args:
        named = _for_a_picture(text, context)
        if named:  # "a march for the train", "shehnai music for the invitation"
            args["inspired_by"] = named
    key = key_in(text)
    generic = generic_mode(text)
    if key:
        args["key"] = key
    elif generic:  # "a minor-key tune": the mode, on the tonic the key circle starts from
        args["key"] = "A minor" if generic == "minor" else "C major"
    tempo = tempo_in(text)
    bare = re.search(r"(?:^|,)\s*(\d{2,3})\s*(?=,|$|\.\s*$)", text)
    if tempo is None and bare and 40 <= int(bare.group(1)) <= 240 and (
            key_in(text) or re.search(r"\b\d\s*/\s*\d\b", text)):
        tempo = float(bare.group(1))  # "a reel in D, 4/4, 104": the number is its tempo
    if tempo is not None:
        args["tempo"] = tempo
    bars = bars_in(text)
    if bars:
        args["bars"] = bars
    meter = meter_in(text)
    if meter:
        args["time_signature"] = meter
    inst = _instrument_in(text)
    if inst:
        args["instrument"] = inst
    low = text.lower()
    style = next((s for s in STYLE_WORDS if re.search(rf"\b{s}s?\b", low)), None) or next(
        (v for k, v in _STYLE_ALIASES.items()
         if re.search(rf"\b{k}\s+(?:[\w'-]+\s+)?(?:tune|song|piece|number|melody|track|"
                      rf"standard|feel|thing|style)s?\b|\bin\s+(?:a\s+)?{k}\s+style\b", low)), None)
    if style:
        args["style"] = style
    mood = mood_in(text)
    if mood:
        args["mood"] = mood
    parts = _parts(low)
    if parts:
        args["parts"] = parts
    prompt = re.sub(r"^(?:please\s+)?(?:compose|write|make|create|generate|play|give)\s+"
                    r"(?:me\s+|us\s+)?", "", text.strip(), flags=I)
    prompt = " ".join(prompt.strip(" ,.;").split()) or "a piece of music"
    return [PlannedCall("compose_music", {"prompt": prompt, **args})]


def _for_a_picture(text: str, context: PlanContext) -> str | None:
    """The picture a piece is "for" by what the picture shows: "for the invitation", "for
    the original card" (words of a picture's title)."""
    from museforge.assistant import naming

    m = re.search(r"\bfor\s+(?:the|my|our|this|that|her|his|their)\s+((?:[\w'-]+\s+){0,2}?"
                  r"[\w'-]+)(?=\s*(?:$|[,.;!?]|\b(?:in|on|with|at|and|please|pls)\b))", text, I)
    if m is None:
        return None
    hit = naming._by_subject(m.group(1), context)
    if hit and hit[0].startswith("#") and hit[1] == "image":
        return hit[0]
    return None


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
_INSTR_CHANGE = re.compile(r"\binstrument\s*[:=]|"
                           r"\b(?:play|switch|change|swap|give|put|use|make|turn|on\s+(?:a|an|"
                           r"the)|with\s+(?:a|an|the))\b.*\b(?:" + _INSTRUMENTS + r")s?\b|"
                           r"\bplay(?:ed)?\b.*?\bon\s+(?:a|an|the)\s+\w+", I)
_LENGTH = re.compile(r"\b(?:make|trim|cut|shorten|loop|lengthen|set|limit)\b"
                     r"(?!.*\b(?:longer|more\s+long|extra)\b)(?!.*\bby\s+(?:" + language.NUMBER_PATTERN + r")\s+bars?)"
                     r".*?\b(?:to\s+)?"
                     r"(?<!another\s)(?<!extra\s)" +  # "another 8 bars" is more of it
                     NUM + r"\s+bars?(?:\s+long)?\b(?!.*\bmore\b)(?!\s+(?:longer|extra))", I)
_SET_TEMPO = re.compile(r"\b\d{2,3}\s*(?:bpm|beats\s+per\s+minute)\b|\btempo\b", I)
_HUMANIZE = re.compile(r"\b(humani[sz]e|looser|less\s+robotic|more\s+human|swing\s+it|"
                       r"less\s+perfect|imperfect|lo-?fi(?:-?ish)?|"
                       r"quanti[sz]e|tighten|tighter|on\s+the\s+grid|snap\s+to)\b", I)


def _edit(text: str, context: PlanContext) -> list[PlannedCall]:
    low = text.lower()
    if re.match(r"\s*(?:undo|redo|revert|restore|go\s+back)\b", low):
        return []  # "undo the last thing on the fiddle tune": history
    args: dict[str, object] = {}
    scale = 1.0
    if re.search(r"\b(?:a\s+(?:tiny\s+)?bit|slightly|a\s+little|a\s+touch|a\s+tad)\b", low):
        scale = 0.5
    elif re.search(r"\b(?:much|a\s+lot|way|far|really|very)\b", low):
        scale = 2.5
    tempo_scale = tempo_scale_in(low, scale)
    if tempo_scale:
        args["tempo_scale"] = tempo_scale
    tempo = tempo_in(text)
    if tempo is not None:
        args.pop("tempo_scale", None)
        args["tempo"] = tempo
    semis = _semitones(low)
    if semis:
        args["transpose"] = semis
    key = key_in(text)
    if key and re.match(r"\s*(?:[A-G](?:#|b)?\s+\w+)\s*(?:instead|now|please|pls)?\s*$", text,
                        re.I):
        low += " in"  # "D dorian instead": the key is the whole request
    mode = generic_mode(text) or (_MODE.search(text).group(1).lower()  # type: ignore[union-attr]
                                  if _MODE.search(text) else None)
    if key and (re.search(r"\b(?:in|to|into|key)\b", low) or re.search(
            r"\b(?:make|turn|put|have|change|switch|set)\s+(?:it|this|that|them|#\d+)\s+"
            r"[A-G](?:#|b|♯|♭)?\s*(?:major|minor|maj|min|m)\b", text)):  # "make it D minor"
        args["key"] = key
    elif mode:
        args["mode"] = mode
    inst = _instrument_in(text)
    if inst and (_INSTR_CHANGE.search(text) or re.search(
            r"\b(?:instead|version|swap|switch|try|change|on|as|to|into|be|sound\s+like|make|turn|"
            r"give|put|play|use|with|for)\b", low)):
        args["instrument"] = inst
        part = re.search(r"\b(?:the\s+)?(melody|chords|bass|tune)\b(?!\s+guitar)", low)
        if part and part.group(1) != "tune":
            args["part"] = part.group(1)
    length = _LENGTH.search(text)
    if length and language.to_number(length.group(1)):
        args["bars"] = int(language.to_number(length.group(1)) or 8)
    elif not re.search(r"\b(?:more|add|another|extra|additional|further|longer)\b", low):
        bars = bars_in(text)
        if bars:
            args["bars"] = bars
    if re.search(r"\b(humani[sz]e|looser|loosen|less\s+(?:robotic|mechanical|stiff|rigid)|"
                 r"more\s+(?:human|natural|relaxed\s+feel)|swing\s+it|robotic|mechanical|stiff|"
                 r"rigid|like\s+a\s+(?:real|human)\s+(?:player|person)|played\s+by\s+a\s+human|"
                 r"humani[sz]ation|robot|programmed|more\s+played|feel\s+more\s+(?:live|alive)|"
                 r"sloppier|less\s+tight|pub\s+session|on\s+purpose|less\s+perfect|imperfect|"
                 r"lo-?fi(?:-?ish)?|more\s+(?:organic|live)\b|someone'?s\s+(?:actually\s+)?playing|"
                 r"(?:more|some|a\s+bit\s+of)\s+swing|swingier|swingy)",
                 low):
        args["humanize"] = 0.5 if scale == 1.0 else min(1.0, 0.5 * scale)
    if re.search(r"\b(quanti[sz]e|tighten|tighter|on\s+the\s+grid|snap\s+to|"
                 r"snap\s+(?:it|the\s+\w+(?:\s+\w+)?)\s+to|grid\s+it|onto\s+(?:quavers|crotchets|semiquavers|eighths|sixteenths)|"
                 r"tidy|clean\s+up|"
                 r"straighten|sloppy|messy|on\s+the\s+beat|in\s+time|fix\s+the\s+(?:timing|rhythm)|"
                 r"lock\s+(?:it\s+)?to)\b", low):
        grid = re.search(r"\b(quarters?|crotchets?|eighths?|quavers?|sixteenths?|semiquavers?|"
                         r"demisemiquavers?|thirty[\s-]?seconds?|1/4|1/8|1/16|1/32)\b|(1/(?:4|8|16|32))",
                         low)
        names = {"quarter": "1/4", "crotchet": "1/4", "eighth": "1/8", "quaver": "1/8",
                 "sixteenth": "1/16", "semiquaver": "1/16", "thirty": "1/32",
                 "demisemiquaver": "1/32"}
        g = (grid.group(1) or grid.group(2)) if grid else "1/16"
        args["quantize"] = next((v for k, v in names.items() if g.startswith(k)), g)
    if not args:
        return []
    cleaned = re.sub(r"\b\d+\s*(?:bpm|bars?|semitones?)\b|[+-]\s*\d+", " ", text)
    ref = language.natural_ref(cleaned) or "it"
    return [PlannedCall("edit_music", {"artwork": ref, **args})]


_SPEED = r"(?:speed|tempo|pace|time)"


def tempo_scale_in(low: str, scale: float = 1.0) -> float | None:
    """How much faster or slower: "half speed" 0.5, "double the tempo" 2, "10% faster"
    1.1, "1.5x speed", "by a quarter" 1.25, "too fast" (slower), "a bit faster"."""
    pct = re.search(r"\b(\d+(?:\.\d+)?)\s*(?:%|percent|per\s+cent)\s+(faster|quicker|slower)", low)
    if pct:
        f = float(pct.group(1)) / 100
        return round(1 + f, 3) if pct.group(2) != "slower" else round(1 - f, 3)
    m = re.search(r"\b(\d+(?:\.\d+)?)\s*x\s*(?:the\s+)?(?:speed|tempo|faster)\b|"
                  r"\bx\s*(\d(?:\.\d+)?)\s*"
                  r"(?:speed|tempo)\b", low)
    if m:
        return float(m.group(1) or m.group(2))
    if re.search(r"\b(?:half|halve)\s+(?:the\s+)?" + _SPEED + r"|\bhalf[\s-](?:speed|tempo|time)\b|"
                 r"\btwice\s+as\s+slow\b|\bhalf\s+as\s+fast\b", low):
        return 0.5
    if re.search(r"\bdouble\s+(?:the\s+)?" + _SPEED + r"|\bdouble[\s-](?:speed|tempo|time)\b|"
                 r"\btwice\s+as\s+fast\b|\btwice\s+the\s+" + _SPEED, low):
        return 2.0
    if re.search(r"\bthree[\s-]quarters?\s+(?:the\s+)?(?:speed|tempo)\b", low):
        return 0.75
    m = re.search(r"\b(?:slow(?:er)?|down|back)\b.*\bby\s+(?:a\s+)?(half|quarter|third)\b|"
                  r"\bby\s+(?:a\s+)?(half|quarter|third)\b.*\bslow", low)
    if m:  # "slow it down by half": to half the speed
        return round(1 - {"half": 0.5, "quarter": 0.25, "third": 1 / 3}[m.group(1) or
                                                                         m.group(2)], 3)
    if re.search(r"\b(?:it'?s|is|it\s+is|sounds?|feels?|seems?)\s+(?:a\s+(?:bit|little|touch)\s+|"
                 r"kinda\s+|rather\s+|so\s+|very\s+|really\s+|quite\s+|way\s+)?(?:slow|sluggish|"
                 r"draggy|plodding)\b", low):
        return round(1 + 0.2 * scale, 2)  # "is a bit slow": a complaint, so faster
    if re.search(r"\b(?:it'?s|is|it\s+is|sounds?|feels?|seems?)\s+(?:a\s+(?:bit|little|touch)\s+|"
                 r"kinda\s+|rather\s+|so\s+|very\s+|really\s+|quite\s+|way\s+)?(?:fast|quick|"
                 r"rushed|hurried|frantic)\b", low):
        return round(1 / (1 + 0.2 * scale), 2)
    m = re.search(r"\b(?:speed|faster|up)\b.*\bby\s+(?:a\s+)?(quarter|third|half|tenth|fifth)\b",
                  low)
    if m:
        return round(1 + {"quarter": 0.25, "third": 1 / 3, "half": 0.5, "tenth": 0.1,
                          "fifth": 0.2}[m.group(1)], 3)
    if re.search(r"\btoo\s+(?:fast|quick|rushed|hurried|frantic)|\brushed\b|\bless\s+(?:fast|"
                 r"rushed|"
                 r"hurried|quick)|\b(?:slow(?:er|ed)?|slo+w+er)\b|\bslow\s+(?:it\s+)?down|\bease\s+"
                 r"(?:off|up|back)|\brelax\s+the\s+" + _SPEED + r"|\b(?:take|bring|"
                                                                r"dial)\s+(?:it\s+)?"
                 r"down\s+a\s+(?:notch|bit)|\blower\s+the\s+" + _SPEED + r"|\breduce\s+the\s+" +
                 _SPEED + r"|\bdecrease\s+the\s+" + _SPEED + r"|\bmore\s+slowly|\blazier|"
                                                             r"\bcalmer\s+"
                 r"pace", low):
        return round(1 / (1 + 0.2 * scale), 2)
    if re.search(r"\btoo\s+(?:slow|sluggish|draggy|plodding)|\bdrags?\b|\bdragging\b|\bsluggish|"
                 r"\bfaster|\bquicker|\bspeed\s+(?:it\s+)?up|\bup\s*(?:the\s+)?tempo|\bpick\s+up|"
                 r"\bpush\s+the\s+" + _SPEED + r"|\b(?:raise|increase|boost|bump)\s+(?:up\s+)?"
                 r"the\s+" + _SPEED + r"|\bzipp(?:y|ier)|\bsnapp(?:y|ier)|\bbrisker|\bhurry\b|"
                 r"\bmore\s+(?:pace|drive|urgent)|\bspeedier", low):
        return round(1 + 0.2 * scale, 2)
    return None


def _semitones(low: str) -> int:
    low = re.sub(r"#\s*\d+(?:\s*v\s*\d+)?", " ", low)
    low = re.sub(r"\bsemis\b", "semitones", low)
    low = re.sub(r"\b(?:drop|bring)\b", "down", low)
    m = re.fullmatch(r"\s*([+-]\s*\d+)\s*(?:semitones?|st)?\s*", low) or re.search(
        r"(?:^|[\s,:])([+-]\s*\d+)\s*(?:semitones?|st|half[\s-]?steps?)\b", low)
    if m:
        return int(m.group(1).replace(" ", ""))
    m = re.search(r"\b(?:a\s+)?(minor|major|perfect)?\s*(2nd|3rd|4th|5th|6th|7th)\b", low)
    if m and re.search(r"\b(?:up|down|transpose|shift|move|raise|lower|higher)\b", low):
        quality = m.group(1) or ""
        steps = {"2nd": 2, "3rd": 4, "4th": 5, "5th": 7, "6th": 9, "7th": 11}[m.group(2)]
        if quality == "minor":
            steps -= 1
        return -steps if re.search(r"\b(?:down|lower|minus|drop)\b", low) else steps
    down = re.search(r"\b(down|lower|lower\s+it|decrease|minus|deeper)\b", low) is not None
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
    if not m or not re.search(r"\b(transpose|shift|move|up|down|raise|lower|pitch|higher|"
                              r"deeper)\b", low):
        bare = re.search(r"\b(higher|lower|up\s+a\s+(?:little|bit|touch|notch)|"
                         r"down\s+a\s+(?:little|bit|touch|notch))\b", low)
        if bare and not re.search(r"\b(?:tempo|bpm|speed|volume|loud|quiet|soft|key\s+of|"
                                  r"octave|brightness|contrast|saturation|resolution|res|"
                                  r"quality|camera|horizon|sun|the\s+\w+\s+(?:higher|lower))\b",
                                  low):
            # "a bit lower", "take it up a little, higher": a whole step
            return -2 if bare.group(1).startswith(("lower", "down")) else 2
        return 0
    count = language.to_number(m.group(1)) if m.group(1) else 1
    unit = m.group(2).rstrip("s").replace("-", " ")
    value = int((count or 1) * _INTERVALS.get(unit, _INTERVALS.get(unit.split()[-1], 1)))
    return -value if down else value


# -- vary, continue, interpolate -----------------------------------------------------------

_VARY = re.compile(r"\b(variations?|variants?|vary|riff\s+on|remix|re-?imagine|"
                   r"another\s+take|alternatives?|switch\s+it\s+up|mix\s+it\s+up|same\s+vibe|"
                   + language.MORE_VERSIONS + r")\b", I)


def _vary(text: str, context: PlanContext) -> list[PlannedCall]:
    ref = language.natural_ref(re.sub(r"\b(?:variations?|variants?)\b", " ", text, flags=I)) \
        or "it"
    if kind_of(ref, context) != "music" and not re.search(_MUSIC_NOUN, text, I):
        return []  # a picture: the image rules take it
    low = text.lower()
    amount = 0.6 if language.STRONG_CHANGE.search(low) else 0.3
    if re.search(r"\b(?:subtle|slight|small|little|gentle|minor)\b", low):
        amount = 0.2
    if re.search(r"\b(?:go\s+far|far\s+out|wild(?:ly)?|radically|completely|"
                 r"drastic\w*)\b", low):
        amount = 0.7
    m = re.search(r"\bamount\s*(?:of|=|:)?\s*(0?\.\d+|1(?:\.0)?)\b|\bby\s+(\d{1,3})\s*%", low)
    if m:
        amount = float(m.group(1)) if m.group(1) else int(m.group(2)) / 100
    args: dict[str, object] = {"artwork": ref, "amount": amount}
    count = variation_count(low)
    if count > 1:
        args["count"] = count
    return [PlannedCall("vary_music", args)]


def variation_count(low: str) -> int:
    """"three variations", "a few alternatives" (3), "several" (4), "a couple" (2)."""
    m = re.search(r"\b" + NUM + r"\s+(?:\w+\s+)?(?:variations?|variants?|versions?|alternatives?|"
                  r"options|takes|spins|copies|near-copies|more)\b", low)
    if m and (language.to_number(m.group(1)) or 1) > 1:
        return min(4, int(language.to_number(m.group(1)) or 1))
    m = re.search(r"\b(?:variations|variants|versions|alternatives|options|takes)\b[^,:]*[,:]\s*"
                  + NUM + r"(?:\s+(?:please|pls|of\s+them))?\s*[.!]*$", low)
    if m and (language.to_number(m.group(1)) or 1) > 1:  # "variations of the jig, two"
        return min(4, int(language.to_number(m.group(1)) or 1))
    m = re.search(r"(?:\bx\s*|×\s*)([2-9])\b|\b([2-9])\s+of\s+(?:them|those|em)\b", low)
    if m:  # "variations x4", "2 of them"
        return min(4, int(m.group(1) or m.group(2)))
    m = re.search(r"\b(twice|thrice)\b|\b(" + NUM + r")\s+times\b", low)
    if m:  # "vary it twice", "three times"
        n = language.TIMES.get(m.group(1) or "", 0) or language.to_number(m.group(2) or "") or 1
        if n > 1:
            return min(4, int(n))
    if re.search(r"\bseveral\b", low):
        return 4
    if re.search(r"\ba\s+few\b|\bsome\s+(?:more\s+)?(?:variations|alternatives|options)", low):
        return 3
    if re.search(r"\b(?:a\s+)?couple\b|\bpair\b", low):
        return 2
    return 1


_CONTINUE = re.compile(r"\b((?:the\s+)?next\s+(?:part|section|bit|phrase)|"
                       r"(?:a\s+)?[bc]\s+(?:part|section)|"
                       r"(?:a\s+)?(?:second|new|another)\s+(?:part|section)|keep\s+it\s+going|"
                       r"continue|keep\s+going|extend(?!\s+(?:the\s+)?(?:canvas|frame|picture|"
                       r"image|scene|borders?))|carry\s+on|go\s+on|longer|"
                       r"add\s+(?:" + NUM + r"\s+)?(?:more\s+)?bars?|more\s+bars|develop\s+it"
                       r"|what\s+comes\s+next)\b", I)


def _continue(text: str, context: PlanContext) -> list[PlannedCall]:
    ref = language.natural_ref(re.sub(r"\b\d+\s+(?:more\s+)?bars?\b", " ", text)) or "it"
    if kind_of(ref, context) == "image":
        return []
    low = text.lower()
    m = re.search(r"\b" + NUM + r"\s+(?:more\s+)?(?:bars?|measures?)\b", low) or re.search(
        r"\b(?:add|another|with)\s+" + NUM + r"\s+more\b", low)
    bars = int(language.to_number(m.group(1)) or 4) if m else 4
    args: dict[str, object] = {"artwork": ref, "bars": max(2, min(32, bars))}
    meter = meter_in(text)
    if meter:  # "continue #1 in 3/4 for 4 bars": the new bars in a related meter
        args["time_signature"] = meter
    return [PlannedCall("continue_music", args)]


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
    m = re.search(r"\b(?:in\s+|over\s+)?" + NUM + r"[\s-]+(?:steps?|stages?)\b", text, I)
    args: dict[str, object] = {"artwork_a": refs[0], "artwork_b": refs[1]}
    if m and language.to_number(m.group(1)):
        args["steps"] = max(1, min(12, int(language.to_number(m.group(1)) or 4)))
    return [PlannedCall("interpolate_music", args)]


_STARTS = re.compile(r"^(?:please\s+)?(?:compose|write|play|transpose|speed|slow|make\s+it\s+"
                     r"(?:faster|slower)|continue|extend|keep\s+going|morph|interpolate|"
                     r"humani[sz]e|quanti[sz]e|(?:go|move|shift|take\s+it|bring\s+it)\s+(?:up|down)\s+"
                     r"(?:a|an|one|two|\d+|by)\b)", I)

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
